//! `flux check`: the Kubernetes version (`--pre`), then the installation: its distribution,
//! the controller Deployments in the namespace Ready, and the CRDs with their stored versions.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};

use super::CommandError;
use crate::apply::deployment_ready;
use crate::cli::GlobalFlags;
use crate::cluster::{self, Log};
use crate::manifests::VERSION;

const PART_OF: &str = "app.kubernetes.io/part-of=flux";
/// Flux's lower bound on the Kubernetes version.
const KUBERNETES_CONSTRAINT: (u64, u64, u64) = (1, 30, 0);

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Only run pre-installation checks.
    #[arg(long)]
    pub pre: bool,

    /// How often the health checker should poll the cluster for the latest state of the resources.
    #[arg(long, default_value = "5s", value_parser = flux_runtime::flags::parse_duration)]
    pub poll_interval: Duration,
}

/// One titled group of check results, printed as Flux does once the group has run.
struct CheckResult {
    title: &'static str,
    entries: Vec<(String, bool)>,
}

impl CheckResult {
    fn new(title: &'static str) -> Self {
        CheckResult {
            title,
            entries: Vec::new(),
        }
    }
    fn ok(&mut self, entry: impl Into<String>) {
        self.entries.push((entry.into(), false));
    }
    fn fail(&mut self, entry: impl Into<String>) {
        self.entries.push((entry.into(), true));
    }
    fn print(&self, log: &mut Log<'_>) -> std::io::Result<bool> {
        log.action(format!("Checking {}", self.title))?;
        for (entry, failed) in &self.entries {
            if *failed {
                log.failure(entry)?;
            } else {
                log.success(entry)?;
            }
        }
        Ok(self.entries.iter().all(|(_, failed)| !failed))
    }
}

pub fn run(
    global: &GlobalFlags,
    args: &CheckArgs,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    cluster::block_on(async {
        let client = cluster::client(global).await?;
        let mut log = Log(err);
        let mut flux = CheckResult::new("flux pre-requisites");
        flux.ok(format!("flux {VERSION} is a flux-rs build"));
        let mut ok = flux.print(&mut log)?;
        ok &= kubernetes_check(&client).await.print(&mut log)?;
        if !ok {
            return Err(CommandError::Cluster(
                "pre-requisites checks failed".to_string(),
            ));
        }
        if args.pre {
            log.action("All pre-requisites checks passed")?;
            return Ok(());
        }
        let mut ok = installation_check(&client).await.print(&mut log)?;
        ok &= controllers_check(&client, global, args, &mut log)
            .await?
            .print(&mut log)?;
        ok &= crds_check(&client).await.print(&mut log)?;
        if !ok {
            return Err(CommandError::Cluster("checks failed".to_string()));
        }
        log.action("All checks passed")?;
        Ok(())
    })
}

/// `1.33.0-flux-rs` from `v1.33.0-flux-rs`, and its (major, minor, patch).
fn parse_version(git_version: &str) -> Option<(String, (u64, u64, u64))> {
    let text = git_version.trim_start_matches('v');
    let core = text.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    Some((text.to_string(), version))
}

async fn kubernetes_check(client: &kube::Client) -> CheckResult {
    let mut res = CheckResult::new("kubernetes pre-requisites");
    let info = match client.apiserver_version().await {
        Ok(info) => info,
        Err(e) => {
            res.fail(format!("error getting kubernetes version: {e}"));
            return res;
        }
    };
    let Some((text, version)) = parse_version(&info.git_version) else {
        res.fail(format!(
            "error parsing kubernetes version: {}",
            info.git_version
        ));
        return res;
    };
    let (major, minor, patch) = KUBERNETES_CONSTRAINT;
    let entry = format!("kubernetes {text}>={major}.{minor}.{patch}-0");
    if version >= KUBERNETES_CONSTRAINT {
        res.ok(entry);
    } else {
        res.fail(entry);
    }
    res
}

/// The distribution and bootstrap state, read from the Kustomization CRD's labels.
async fn installation_check(client: &kube::Client) -> CheckResult {
    let mut res = CheckResult::new("flux installation status");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = match crds.get("kustomizations.kustomize.toolkit.fluxcd.io").await {
        Ok(crd) => crd,
        Err(e) => {
            res.fail(format!(
                "error getting cluster info: {}",
                cluster::api_error(e)
            ));
            return res;
        }
    };
    let labels = crd.metadata.labels.unwrap_or_default();
    let version = labels
        .get("app.kubernetes.io/version")
        .cloned()
        .unwrap_or_default();
    let distribution = match labels.get("app.kubernetes.io/part-of") {
        Some(part_of) if !part_of.is_empty() => format!("{part_of}-{version}"),
        _ => version,
    };
    if !distribution.is_empty() {
        res.ok(format!("distribution: {distribution}"));
    }
    let bootstrapped = labels.contains_key("kustomize.toolkit.fluxcd.io/name");
    res.ok(format!("bootstrapped: {bootstrapped}"));
    res
}

async fn controllers_check(
    client: &kube::Client,
    global: &GlobalFlags,
    args: &CheckArgs,
    log: &mut Log<'_>,
) -> Result<CheckResult, CommandError> {
    let mut res = CheckResult::new("flux controllers");
    let ns = &global.namespace;
    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let params = ListParams::default().labels(PART_OF);
    let deadline = tokio::time::Instant::now() + global.timeout;
    let mut pending: Vec<String> = Vec::new();
    let mut deployments = Vec::new();
    loop {
        let list = match api.list(&params).await {
            Ok(list) => list,
            Err(e) => {
                res.fail(format!(
                    "error listing deployments: {}",
                    cluster::api_error(e)
                ));
                return Ok(res);
            }
        };
        if list.items.is_empty() {
            res.fail(format!(
                "no controllers found in the '{ns}' namespace with the label selector '{PART_OF}'"
            ));
            return Ok(res);
        }
        pending.clear();
        deployments.clear();
        for d in list.items {
            let value = serde_json::to_value(&d)
                .map_err(|e| CommandError::Cluster(format!("invalid Deployment: {e}")))?;
            let name = d.metadata.name.clone().unwrap_or_default();
            if !deployment_ready(&value) {
                pending.push(name.clone());
            }
            deployments.push((name, d));
        }
        if pending.is_empty() || tokio::time::Instant::now() + args.poll_interval > deadline {
            break;
        }
        tokio::time::sleep(args.poll_interval).await;
    }
    for (name, d) in &deployments {
        if pending.contains(name) {
            res.fail(format!(
                "error checking status of {name}: timeout waiting for: [Deployment/{ns}/{name} status: 'InProgress']"
            ));
            continue;
        }
        // The status checker reports each workload as it becomes ready, before the group.
        log.success(format!("{name}: deployment ready"))?;
        let containers = d
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .map(|s| s.containers.as_slice())
            .unwrap_or_default();
        for c in containers {
            res.ok(c.image.clone().unwrap_or_default());
        }
    }
    Ok(res)
}

async fn crds_check(client: &kube::Client) -> CheckResult {
    let mut res = CheckResult::new("flux crds");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let list = match crds.list(&ListParams::default().labels(PART_OF)).await {
        Ok(list) => list,
        Err(e) => {
            res.fail(format!("error listing CRDs: {}", cluster::api_error(e)));
            return res;
        }
    };
    if list.items.is_empty() {
        res.fail(format!("no crds found with the label selector '{PART_OF}'"));
        return res;
    }
    for crd in list.items {
        let name = crd.metadata.name.unwrap_or_default();
        match crd
            .status
            .and_then(|s| s.stored_versions)
            .and_then(|v| v.last().cloned())
        {
            Some(version) => res.ok(format!("{name}/{version}")),
            None => res.fail(format!("no stored versions for {name}")),
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_prerelease() {
        assert_eq!(
            parse_version("v1.33.0-flux-rs"),
            Some(("1.33.0-flux-rs".to_string(), (1, 33, 0)))
        );
        assert_eq!(parse_version("v1.29.3+k3s1").unwrap().1, (1, 29, 3));
        assert_eq!(parse_version("garbage"), None);
    }

    #[test]
    fn deployment_ready_needs_every_replica() {
        let d = |observed: i64, available: i64| {
            serde_json::json!({"metadata": {"generation": 1}, "spec": {"replicas": 2},
                "status": {"observedGeneration": observed, "updatedReplicas": 2,
                    "readyReplicas": 2, "availableReplicas": available}})
        };
        assert!(deployment_ready(&d(1, 2)));
        assert!(!deployment_ready(&d(1, 1)));
        assert!(!deployment_ready(&d(0, 2)));
    }
}
