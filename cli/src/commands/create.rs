//! `flux create source git` and `flux create kustomization`: build the object from flags, print
//! it with `--export`, or apply it and wait until its controller reports it Ready.

use std::io::Write;
use std::time::Duration;

use clap::{Args, Subcommand};
use flux_runtime::flags::GoDuration;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::{Map, Value, json};

use super::CommandError;
use crate::cli::GlobalFlags;
use crate::cluster::{self, Log, Readiness};

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Source sync interval.
    #[arg(long, global = true, default_value = "1m", value_parser = flux_runtime::flags::parse_duration)]
    pub interval: Duration,

    /// Export in YAML format to stdout.
    #[arg(long, global = true)]
    pub export: bool,

    /// Set labels on the resource (can specify multiple labels with commas: label1=value1,label2=value2).
    #[arg(long = "label", global = true, value_delimiter = ',')]
    pub labels: Vec<String>,

    #[command(subcommand)]
    pub command: CreateCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum CreateCommand {
    /// Create or update sources.
    #[command(subcommand)]
    Source(SourceCommand),
    /// Create or update a Kustomization resource.
    #[command(visible_alias = "ks")]
    Kustomization(KustomizationArgs),
}

#[derive(Debug, Clone, Subcommand)]
pub enum SourceCommand {
    /// Create or update a GitRepository source.
    Git(GitArgs),
}

#[derive(Debug, Clone, Args)]
pub struct GitArgs {
    /// The GitRepository name.
    pub name: String,
    /// Git address, e.g. ssh://git@host/org/repository.
    #[arg(long, default_value = "")]
    pub url: String,
    /// Git branch.
    #[arg(long, default_value = "")]
    pub branch: String,
    /// Git tag.
    #[arg(long, default_value = "")]
    pub tag: String,
    /// Git tag semver range.
    #[arg(long = "tag-semver", alias = "semver", default_value = "")]
    pub semver: String,
    /// Git commit.
    #[arg(long, default_value = "")]
    pub commit: String,
    /// Git reference name.
    #[arg(long = "ref-name", default_value = "")]
    pub ref_name: String,
    /// The name of an existing secret containing SSH or basic credentials.
    #[arg(long = "secret-ref", default_value = "")]
    pub secret_ref: String,
    /// Paths to ignore in git resource (can specify multiple paths with commas: path1,path2).
    #[arg(long = "ignore-paths", value_delimiter = ',')]
    pub ignore_paths: Vec<String>,
    /// When enabled, configures the GitRepository source to initialize and include Git submodules.
    #[arg(long = "recurse-submodules")]
    pub recurse_submodules: bool,
}

#[derive(Debug, Clone, Args)]
pub struct KustomizationArgs {
    /// The Kustomization name.
    pub name: String,
    /// Source that contains the Kubernetes manifests in the format '[<kind>/]<name>.<namespace>'.
    #[arg(long, default_value = "")]
    pub source: String,
    /// Path to the directory containing a kustomization.yaml file.
    #[arg(long, default_value = "./")]
    pub path: String,
    /// Enable garbage collection.
    #[arg(long)]
    pub prune: bool,
    /// Enable health checking of all the applied resources.
    #[arg(long)]
    pub wait: bool,
    /// Workload to be included in the health assessment, in the format '<kind>/<name>.<namespace>'.
    #[arg(long = "health-check", value_delimiter = ',')]
    pub health_check: Vec<String>,
    /// Timeout of health checking operations.
    #[arg(long = "health-check-timeout", default_value = "2m", value_parser = flux_runtime::flags::parse_duration)]
    pub health_check_timeout: Duration,
    /// Kustomization that must be ready before this one, in the format '<namespace>/<name>'.
    #[arg(long = "depends-on", value_delimiter = ',')]
    pub depends_on: Vec<String>,
    /// Overrides the namespace of all Kustomization objects reconciled by this Kustomization.
    #[arg(long = "target-namespace", default_value = "")]
    pub target_namespace: String,
    /// The name of the service account to impersonate when reconciling this Kustomization.
    #[arg(long = "service-account", default_value = "")]
    pub service_account: String,
    /// Enable decryption provider for Kubernetes secrets.
    #[arg(long = "decryption-provider", default_value = "", value_parser = ["", "sops"])]
    pub decryption_provider: String,
    /// Set the Kubernetes secret name that contains the OpenPGP private keys used for sops decryption.
    #[arg(long = "decryption-secret", default_value = "")]
    pub decryption_secret: String,
}

fn invalid(msg: impl Into<String>) -> CommandError {
    CommandError::Failed(msg.into())
}

fn labels(args: &CreateArgs) -> Result<Map<String, Value>, CommandError> {
    let mut out = Map::new();
    for l in args.labels.iter().filter(|l| !l.is_empty()) {
        let (k, v) = l
            .split_once('=')
            .ok_or_else(|| invalid(format!("invalid label format '{l}', must be key=value")))?;
        out.insert(k.to_string(), json!(v));
    }
    Ok(out)
}

fn metadata(name: &str, ns: &str, labels: Map<String, Value>) -> Value {
    let mut meta = json!({"name": name, "namespace": ns});
    if !labels.is_empty() {
        meta["labels"] = Value::Object(labels);
    }
    meta
}

/// The GitRepository these flags describe, validated as Flux validates them.
pub fn git_repository(
    global: &GlobalFlags,
    create: &CreateArgs,
    args: &GitArgs,
) -> Result<Value, CommandError> {
    if args.url.is_empty() {
        return Err(invalid("url is required"));
    }
    let scheme = args.url.split_once("://").map(|(s, _)| s).unwrap_or("");
    if !matches!(scheme, "http" | "https" | "ssh") {
        return Err(invalid(format!(
            "git URL scheme '{scheme}' not supported, can be: ssh, http and https"
        )));
    }
    let mut reference = Map::new();
    if !args.commit.is_empty() {
        reference.insert("commit".into(), json!(args.commit));
        if !args.branch.is_empty() {
            reference.insert("branch".into(), json!(args.branch));
        }
    } else if !args.ref_name.is_empty() {
        reference.insert("name".into(), json!(args.ref_name));
    } else if !args.semver.is_empty() {
        reference.insert("semver".into(), json!(args.semver));
    } else if !args.tag.is_empty() {
        reference.insert("tag".into(), json!(args.tag));
    } else if !args.branch.is_empty() {
        reference.insert("branch".into(), json!(args.branch));
    } else {
        return Err(invalid(
            "a Git ref is required, use one of the following: --branch, --tag, --commit, --ref-name or --tag-semver",
        ));
    }
    let mut spec = json!({
        "url": args.url,
        "interval": GoDuration(create.interval).to_string(),
        "ref": reference,
    });
    if args.recurse_submodules {
        spec["recurseSubmodules"] = json!(true);
    }
    let ignore: Vec<&str> = args
        .ignore_paths
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    if !ignore.is_empty() {
        spec["ignore"] = json!(ignore.join("\n"));
    }
    if !args.secret_ref.is_empty() {
        spec["secretRef"] = json!({"name": args.secret_ref});
    }
    let info = cluster::kind("GitRepository");
    Ok(json!({
        "apiVersion": info.api_version(),
        "kind": "GitRepository",
        "metadata": metadata(&args.name, &global.namespace, labels(create)?),
        "spec": spec,
    }))
}

/// `./` prefixed and cleaned, as Flux's SafeRelativePath flag.
fn safe_relative_path(p: &str) -> String {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if parts.is_empty() {
        "./".to_string()
    } else {
        format!("./{}", parts.join("/"))
    }
}

/// The Kustomization these flags describe, validated as Flux validates them.
pub fn kustomization(
    global: &GlobalFlags,
    create: &CreateArgs,
    args: &KustomizationArgs,
) -> Result<Value, CommandError> {
    if args.source.is_empty() {
        return Err(invalid("source is required"));
    }
    let (kind, rest) = match args.source.split_once('/') {
        Some((kind, rest)) => (kind, rest),
        None => ("GitRepository", args.source.as_str()),
    };
    let kinds = ["GitRepository", "OCIRepository", "Bucket"];
    let Some(kind) = kinds.iter().find(|k| k.eq_ignore_ascii_case(kind)) else {
        return Err(invalid(format!(
            "invalid argument \"{}\" for \"--source\" flag: source kind '{kind}' is not supported, must be one of: {}",
            args.source,
            kinds.join(", ")
        )));
    };
    let mut source_ref = json!({"kind": kind});
    match rest.split_once('.') {
        Some((name, ns)) => {
            source_ref["name"] = json!(name);
            source_ref["namespace"] = json!(ns);
        }
        None => source_ref["name"] = json!(rest),
    }
    if args.path.starts_with('/') || args.path.split('/').any(|s| s == "..") {
        return Err(invalid(format!(
            "invalid argument \"{}\" for \"--path\" flag: path must be relative and stay within the source",
            args.path
        )));
    }
    let mut spec = json!({
        "interval": GoDuration(create.interval).to_string(),
        "path": safe_relative_path(&args.path),
        "prune": args.prune,
        "sourceRef": source_ref,
    });
    let depends_on: Vec<Value> = args
        .depends_on
        .iter()
        .filter(|d| !d.is_empty())
        .map(|d| match d.split_once('/') {
            Some((ns, name)) => json!({"name": name, "namespace": ns}),
            None => json!({"name": d}),
        })
        .collect();
    if !depends_on.is_empty() {
        spec["dependsOn"] = Value::Array(depends_on);
    }
    let mut checks = Vec::new();
    for check in args.health_check.iter().filter(|c| !c.is_empty()) {
        let format_err = || {
            invalid(format!(
                "invalid health check '{check}' must be in the format 'kind/name.namespace'"
            ))
        };
        let (kind, name_ns) = check.split_once('/').ok_or_else(format_err)?;
        if !matches!(
            kind,
            "Deployment" | "DaemonSet" | "StatefulSet" | "HelmRelease"
        ) {
            return Err(invalid(format!(
                "invalid health check kind '{kind}' can be HelmRelease, Deployment, DaemonSet or StatefulSet"
            )));
        }
        let parts: Vec<&str> = name_ns.split('.').collect();
        let [name, ns] = parts[..] else {
            return Err(format_err());
        };
        let mut entry = json!({"kind": kind, "name": name, "namespace": ns});
        if kind == "HelmRelease" {
            entry["apiVersion"] = json!(cluster::kind("HelmRelease").api_version());
        }
        checks.push(entry);
    }
    let timeout = GoDuration(args.health_check_timeout).to_string();
    if !checks.is_empty() {
        spec["healthChecks"] = Value::Array(checks);
        spec["timeout"] = json!(timeout);
    }
    if args.wait {
        spec["wait"] = json!(true);
        spec["timeout"] = json!(timeout);
    }
    if !args.target_namespace.is_empty() {
        spec["targetNamespace"] = json!(args.target_namespace);
    }
    if !args.service_account.is_empty() {
        spec["serviceAccountName"] = json!(args.service_account);
    }
    if !args.decryption_provider.is_empty() {
        let mut d = json!({"provider": args.decryption_provider});
        if !args.decryption_secret.is_empty() {
            d["secretRef"] = json!({"name": args.decryption_secret});
        }
        spec["decryption"] = d;
    }
    let info = cluster::kind("Kustomization");
    Ok(json!({
        "apiVersion": info.api_version(),
        "kind": "Kustomization",
        "metadata": metadata(&args.name, &global.namespace, labels(create)?),
        "spec": spec,
    }))
}

pub fn run(
    global: &GlobalFlags,
    args: &CreateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let (obj, what) = match &args.command {
        CreateCommand::Source(SourceCommand::Git(git)) => (
            git_repository(global, args, git)?,
            "GitRepository source".to_string(),
        ),
        CreateCommand::Kustomization(ks) => (
            kustomization(global, args, ks)?,
            "Kustomization".to_string(),
        ),
    };
    if args.export {
        out.write_all(super::export::to_yaml(&obj)?.as_bytes())?;
        return Ok(());
    }
    let mut log = Log(err);
    let kind = cluster::str_at(&obj, &["kind"]).to_string();
    let name = cluster::str_at(&obj, &["metadata", "name"]).to_string();
    log.generate(format!("generating {what}"))?;
    log.action(format!("applying {what}"))?;
    let info = cluster::kind(&kind);
    cluster::run(global, async {
        let client = cluster::client(global).await?;
        let api = cluster::api(&client, info, Some(&global.namespace));
        let existed = api
            .get_opt(&name)
            .await
            .map_err(|e| cluster::list_error(info, e))?
            .is_some();
        let obj: DynamicObject = serde_json::from_value(obj)
            .map_err(|e| CommandError::Build(format!("invalid object: {e}")))?;
        api.patch(
            &name,
            &PatchParams::apply("flux").force(),
            &Patch::Apply(&obj),
        )
        .await
        .map_err(cluster::api_error)?;
        log.success(format!(
            "{what} {}",
            if existed { "updated" } else { "created" }
        ))?;
        log.waiting(format!("waiting for {what} reconciliation"))?;
        let current = loop {
            let current = cluster::get(&client, info, &global.namespace, &name).await?;
            match cluster::readiness(&current) {
                Readiness::Ready => break current,
                Readiness::Failed(msg) => return Err(CommandError::Failed(msg)),
                Readiness::Pending => tokio::time::sleep(cluster::POLL_INTERVAL).await,
            }
        };
        if kind == "Kustomization" {
            log.success(format!("Kustomization {name} is ready"))?;
            log.success(format!(
                "applied revision {}",
                cluster::str_at(&current, &["status", "lastAppliedRevision"])
            ))?;
        } else {
            log.success(format!("{what} reconciliation completed"))?;
            let revision = cluster::str_at(&current, &["status", "artifact", "revision"]);
            if revision.is_empty() {
                return Err(CommandError::Failed(format!(
                    "{what} reconciliation completed but no artifact was found"
                )));
            }
            log.success(format!("fetched revision: {revision}"))?;
        }
        Ok(())
    })
}
