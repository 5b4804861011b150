//! `flux get`: the status of Flux objects as Flux's tables (NAME, REVISION, SUSPENDED, READY,
//! MESSAGE and the kind's own columns), read through the dynamic API of each kind.

use std::io::Write;

use clap::{Args, Subcommand};
use flux_api::crds::KindInfo;
use futures::StreamExt;
use kube::api::{ListParams, WatchEvent, WatchParams};
use serde_json::Value;

use super::CommandError;
use crate::cli::GlobalFlags;
use crate::cluster::{self, Log};

#[derive(Debug, Clone, Args)]
pub struct GetArgs {
    #[command(flatten)]
    pub flags: GetFlags,

    #[command(subcommand)]
    pub command: GetCommand,
}

/// Flags of every `flux get` subcommand.
#[derive(Debug, Clone, Args)]
pub struct GetFlags {
    /// List the requested object(s) across all namespaces.
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,

    /// Skip the header when printing the results.
    #[arg(long, global = true)]
    pub no_header: bool,

    /// Specify the status condition name and the desired state to filter the get result, e.g. ready=false.
    #[arg(long, global = true, value_name = "TYPE=STATUS")]
    pub status_selector: Option<String>,

    /// Filter objects by label selector.
    #[arg(short = 'l', long, global = true)]
    pub label_selector: Option<String>,

    /// After listing/getting the requested object, watch for changes.
    #[arg(short = 'w', long, global = true)]
    pub watch: bool,

    /// Print the rows as a JSON or YAML list of objects keyed by column name.
    #[arg(short = 'o', long, global = true, value_enum)]
    pub output: Option<Output>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Json,
    Yaml,
}

/// An optional object name.
#[derive(Debug, Clone, Args)]
pub struct NameArg {
    /// Print only the object of this name.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum GetCommand {
    /// Get source statuses.
    #[command(subcommand, alias = "source")]
    Sources(GetSources),
    /// Get Kustomization statuses.
    #[command(alias = "kustomization", alias = "ks")]
    Kustomizations(NameArg),
    /// Get HelmRelease statuses.
    #[command(alias = "helmrelease", alias = "hr")]
    Helmreleases(NameArg),
    /// Get Alert statuses.
    #[command(alias = "alert")]
    Alerts(NameArg),
    /// Get Provider statuses.
    #[command(alias = "alert-provider")]
    AlertProviders(NameArg),
    /// Get Receiver statuses.
    #[command(alias = "receiver")]
    Receivers(NameArg),
    /// Get image automation object status.
    #[command(subcommand, alias = "image")]
    Images(GetImages),
    /// Get all resources and statuses.
    All(NameArg),
}

#[derive(Debug, Clone, Subcommand)]
pub enum GetSources {
    /// Get GitRepository source statuses.
    Git(NameArg),
    /// Get OCIRepository status.
    Oci(NameArg),
    /// Get HelmRepository source statuses.
    Helm(NameArg),
    /// Get HelmChart statuses.
    Chart(NameArg),
    /// Get Bucket source statuses.
    Bucket(NameArg),
    /// Get all source statuses.
    All(NameArg),
}

#[derive(Debug, Clone, Subcommand)]
pub enum GetImages {
    /// Get ImageRepository status.
    Repository(NameArg),
    /// Get ImagePolicy status.
    Policy(NameArg),
    /// Get ImageUpdateAutomation status.
    Update(NameArg),
    /// Get all image statuses.
    All(NameArg),
}

/// The source kinds in the order `flux get sources all` prints them.
const SOURCES: &[&str] = &[
    "OCIRepository",
    "Bucket",
    "GitRepository",
    "HelmRepository",
    "HelmChart",
];
const IMAGES: &[&str] = &["ImageRepository", "ImagePolicy", "ImageUpdateAutomation"];
/// After the sources and images, the rest of `flux get all`.
const REST: &[&str] = &[
    "HelmRelease",
    "Kustomization",
    "Receiver",
    "Provider",
    "Alert",
];

pub fn run(
    global: &GlobalFlags,
    args: &GetArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let (kinds, name, all): (Vec<&str>, &NameArg, bool) = match &args.command {
        GetCommand::Sources(s) => match s {
            GetSources::Git(n) => (vec!["GitRepository"], n, false),
            GetSources::Oci(n) => (vec!["OCIRepository"], n, false),
            GetSources::Helm(n) => (vec!["HelmRepository"], n, false),
            GetSources::Chart(n) => (vec!["HelmChart"], n, false),
            GetSources::Bucket(n) => (vec!["Bucket"], n, false),
            GetSources::All(n) => (SOURCES.to_vec(), n, true),
        },
        GetCommand::Kustomizations(n) => (vec!["Kustomization"], n, false),
        GetCommand::Helmreleases(n) => (vec!["HelmRelease"], n, false),
        GetCommand::Alerts(n) => (vec!["Alert"], n, false),
        GetCommand::AlertProviders(n) => (vec!["Provider"], n, false),
        GetCommand::Receivers(n) => (vec!["Receiver"], n, false),
        GetCommand::Images(i) => match i {
            GetImages::Repository(n) => (vec!["ImageRepository"], n, false),
            GetImages::Policy(n) => (vec!["ImagePolicy"], n, false),
            GetImages::Update(n) => (vec!["ImageUpdateAutomation"], n, false),
            GetImages::All(n) => (IMAGES.to_vec(), n, true),
        },
        GetCommand::All(n) => {
            let kinds = SOURCES.iter().chain(IMAGES).chain(REST).copied().collect();
            (kinds, n, true)
        }
    };
    if args.flags.watch && args.flags.output.is_some() {
        return Err(CommandError::Cluster(
            "--watch prints tables: it cannot be combined with --output".to_string(),
        ));
    }
    if all && args.flags.watch {
        return Err(CommandError::Cluster(
            "expected a single resource type, but found all".to_string(),
        ));
    }
    let selector = args
        .flags
        .status_selector
        .as_deref()
        .map(StatusSelector::parse)
        .transpose()?;
    if args.flags.watch {
        let query = Query {
            global,
            flags: &args.flags,
            selector: selector.as_ref(),
            name: name.name.as_deref(),
            all,
        };
        let info = cluster::kind(kinds[0]);
        return cluster::block_on(async {
            let client = cluster::client(global).await?;
            watch_kind(&client, info, &query, out).await
        });
    }
    cluster::run(global, async {
        let client = cluster::client(global).await?;
        let mut records = Vec::new();
        for kind in kinds {
            let info = cluster::kind(kind);
            let query = Query {
                global,
                flags: &args.flags,
                selector: selector.as_ref(),
                name: name.name.as_deref(),
                all,
            };
            match get_kind(&client, info, &query, out).await {
                Ok(found) => records.extend(found),
                // `get all` reports a kind it cannot list and goes on with the others.
                Err(e) if all => Log(err).failure(e.to_string())?,
                Err(e) => return Err(e),
            }
        }
        match args.flags.output {
            Some(Output::Json) => {
                let text = serde_json::to_string_pretty(&records)
                    .map_err(|e| CommandError::Cluster(format!("unable to write JSON: {e}")))?;
                writeln!(out, "{text}")?;
            }
            Some(Output::Yaml) => out.write_all(records_yaml(&records).as_bytes())?,
            None => {}
        }
        Ok(())
    })
}

/// `--status-selector TYPE=STATUS` or `TYPE!=STATUS`, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSelector {
    type_: String,
    status: String,
    negated: bool,
}

impl StatusSelector {
    pub fn parse(text: &str) -> Result<Self, CommandError> {
        let (type_, status, negated) = if let Some((t, s)) = text.split_once("!=") {
            (t, s, true)
        } else if let Some((t, s)) = text.split_once('=') {
            (t, s, false)
        } else {
            return Err(CommandError::Cluster(format!(
                "expected status selector in type=status or type!=status format, but found: {text}"
            )));
        };
        Ok(StatusSelector {
            type_: type_.to_string(),
            status: status.to_string(),
            negated,
        })
    }

    fn matches(&self, conditions: &[(String, String)]) -> bool {
        let found = conditions
            .iter()
            .rev()
            .find(|(t, _)| t.eq_ignore_ascii_case(&self.type_))
            .is_some_and(|(_, s)| s.eq_ignore_ascii_case(&self.status));
        found != self.negated
    }
}

struct Query<'a> {
    global: &'a GlobalFlags,
    flags: &'a GetFlags,
    selector: Option<&'a StatusSelector>,
    name: Option<&'a str>,
    all: bool,
}

/// Prints the table of one kind, or with `--output` returns its rows as records.
async fn get_kind(
    client: &kube::Client,
    info: &'static KindInfo,
    q: &Query<'_>,
    out: &mut dyn Write,
) -> Result<Vec<Value>, CommandError> {
    let namespace = (!q.flags.all_namespaces).then_some(q.global.namespace.as_str());
    let list = match cluster::api(client, info, namespace)
        .list(&list_params(q))
        .await
    {
        Ok(list) => list,
        // The kind's CRD is not installed: `get all` skips it, as Flux skips "no matches".
        Err(e) if q.all && cluster::is_not_found(&e) => return Ok(Vec::new()),
        Err(e) => return Err(cluster::list_error(info, e)),
    };
    let scope = match namespace {
        Some(ns) => format!("{ns:?}"),
        None => "any".to_string(),
    };
    if list.items.is_empty() {
        if let Some(name) = q.name {
            return Err(CommandError::Cluster(format!(
                "{} object '{name}' not found in {scope} namespace",
                info.kind
            )));
        }
        if !q.all {
            return Err(CommandError::Cluster(format!(
                "no {} objects found in {scope} namespace",
                info.kind
            )));
        }
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    for item in &list.items {
        rows.extend(row(info, &cluster::to_value(item)?, q));
    }
    if q.flags.output.is_some() {
        let keys = header(info, q);
        return Ok(rows.into_iter().map(|row| record(&keys, row)).collect());
    }
    if q.all && rows.is_empty() {
        return Ok(Vec::new());
    }
    cluster::print_table(out, &header(info, q), &rows)?;
    if q.all {
        writeln!(out)?;
    }
    Ok(Vec::new())
}

/// A row as an object keyed by column name, keys sorted as Go marshals a map.
fn record(keys: &[&str], row: Vec<String>) -> Value {
    let mut pairs: Vec<(&str, String)> = keys.iter().copied().zip(row).collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect(),
    )
}

/// Records as a YAML list of flat maps, quoting only the values plain YAML cannot hold.
fn records_yaml(records: &[Value]) -> String {
    if records.is_empty() {
        return "[]\n".to_string();
    }
    let mut text = String::new();
    for record in records {
        let Some(map) = record.as_object() else {
            continue;
        };
        for (i, (key, value)) in map.iter().enumerate() {
            text.push_str(if i == 0 { "- " } else { "  " });
            text.push_str(key);
            text.push_str(": ");
            text.push_str(&yaml_scalar(value.as_str().unwrap_or("")));
            text.push('\n');
        }
    }
    text
}

fn yaml_scalar(s: &str) -> String {
    let needs_quotes = s.is_empty()
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.contains('\n')
        || s.starts_with([
            '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%',
            '@', '`', ' ',
        ])
        || s.ends_with(' ')
        || matches!(s, "null" | "~" | "true" | "false")
        || s.parse::<f64>().is_ok();
    if needs_quotes {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        s.to_string()
    }
}

fn list_params(q: &Query<'_>) -> ListParams {
    let mut params = ListParams::default();
    if let Some(name) = q.name {
        params = params.fields(&format!("metadata.name={name}"));
    }
    if let Some(labels) = &q.flags.label_selector {
        params = params.labels(labels);
    }
    params
}

/// With `--output`, every record names its namespace.
fn with_namespace(q: &Query<'_>) -> bool {
    q.flags.all_namespaces || q.flags.output.is_some()
}

fn header(info: &KindInfo, q: &Query<'_>) -> Vec<&'static str> {
    let mut header: Vec<&str> = Vec::new();
    if !q.flags.no_header || q.flags.output.is_some() {
        if with_namespace(q) {
            header.push("Namespace");
        }
        header.push("Name");
        header.extend(headers(info.kind));
    }
    header
}

/// The table row of an object, or `None` when the status selector leaves it out.
fn row(info: &KindInfo, obj: &Value, q: &Query<'_>) -> Option<Vec<String>> {
    if let Some(selector) = q.selector
        && !selector.matches(&conditions(info.kind, obj))
    {
        return None;
    }
    let mut row = Vec::new();
    if with_namespace(q) {
        row.push(cluster::str_at(obj, &["metadata", "namespace"]).to_string());
    }
    let name = cluster::str_at(obj, &["metadata", "name"]);
    row.push(if q.all {
        format!("{}/{name}", info.kind.to_lowercase())
    } else {
        name.to_string()
    });
    row.extend(summarise(info.kind, obj));
    Some(row)
}

/// `--watch`: the objects listed, then one line per change until `--timeout`. As Flux, only
/// the first line comes with the header, and each later line is padded on its own.
async fn watch_kind(
    client: &kube::Client,
    info: &'static KindInfo,
    q: &Query<'_>,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let namespace = (!q.flags.all_namespaces).then_some(q.global.namespace.as_str());
    let api = cluster::api(client, info, namespace);
    let params = list_params(q);
    let deadline = tokio::time::Instant::now() + q.global.timeout;
    let mut first = true;
    let mut print = |obj: &Value, out: &mut dyn Write| -> Result<(), CommandError> {
        if let Some(row) = row(info, obj, q) {
            let header = if first { header(info, q) } else { Vec::new() };
            first = false;
            cluster::print_table(out, &header, &[row])?;
            out.flush()?;
        }
        Ok(())
    };
    let list = api
        .list(&params)
        .await
        .map_err(|e| cluster::list_error(info, e))?;
    for item in &list.items {
        print(&cluster::to_value(item)?, out)?;
    }
    let mut version = list.metadata.resource_version.unwrap_or_default();
    let mut watch_params = WatchParams::default().timeout(290);
    if let Some(fields) = &params.field_selector {
        watch_params = watch_params.fields(fields);
    }
    if let Some(labels) = &params.label_selector {
        watch_params = watch_params.labels(labels);
    }
    let timed_out = || CommandError::Cluster("timed out waiting for the condition".to_string());
    loop {
        let stream = tokio::time::timeout_at(deadline, api.watch(&watch_params, &version))
            .await
            .map_err(|_| timed_out())?
            .map_err(cluster::api_error)?;
        let mut stream = std::pin::pin!(stream);
        loop {
            let next = tokio::time::timeout_at(deadline, stream.next())
                .await
                .map_err(|_| timed_out())?;
            let Some(event) = next else { break };
            match event.map_err(cluster::api_error)? {
                WatchEvent::Added(obj) | WatchEvent::Modified(obj) => {
                    version = obj.metadata.resource_version.clone().unwrap_or(version);
                    print(&cluster::to_value(&obj)?, out)?;
                }
                WatchEvent::Deleted(obj) => {
                    version = obj.metadata.resource_version.clone().unwrap_or(version);
                }
                WatchEvent::Bookmark(b) => version = b.metadata.resource_version,
                WatchEvent::Error(status) => {
                    return Err(CommandError::Cluster(status.message.clone()));
                }
            }
        }
    }
}

/// The columns after NAME, per kind.
pub fn headers(kind: &str) -> &'static [&'static str] {
    match kind {
        "Alert" | "Receiver" => &["Suspended", "Ready", "Message"],
        "Provider" => &["Ready", "Message"],
        "ImageRepository" => &["Last scan", "Suspended", "Ready", "Message"],
        "ImagePolicy" => &["Image", "Tag", "Ready", "Message"],
        "ImageUpdateAutomation" => &["Last run", "Suspended", "Ready", "Message"],
        _ => &["Revision", "Suspended", "Ready", "Message"],
    }
}

/// Alerts and Providers have no status since v1beta3: Flux reports them Ready.
fn static_ready(kind: &str) -> Option<&'static str> {
    match kind {
        "Alert" => Some("Alert is Ready"),
        "Provider" => Some("Provider is Ready"),
        _ => None,
    }
}

/// The conditions `--status-selector` looks at: the object's, or the Ready one Flux assumes.
fn conditions(kind: &str, obj: &Value) -> Vec<(String, String)> {
    if static_ready(kind).is_some() || is_oci_helm_repository(kind, obj) {
        return vec![("Ready".to_string(), "True".to_string())];
    }
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        cluster::str_at(c, &["type"]).to_string(),
                        cluster::str_at(c, &["status"]).to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_oci_helm_repository(kind: &str, obj: &Value) -> bool {
    kind == "HelmRepository" && cluster::str_at(obj, &["spec", "type"]) == "oci"
}

/// Ready's status and message, or Flux's placeholder before the first reconciliation.
pub fn status_and_message(obj: &Value) -> (String, String) {
    match cluster::condition(obj, "Ready") {
        Some(c) => (
            cluster::str_at(c, &["status"]).to_string(),
            cluster::str_at(c, &["message"]).to_string(),
        ),
        None => ("False".to_string(), "waiting to be reconciled".to_string()),
    }
}

fn title_bool(b: bool) -> String {
    if b { "True" } else { "False" }.to_string()
}

/// An RFC 3339 timestamp as Go prints `time.RFC3339`: whole seconds.
fn rfc3339_seconds(text: &str) -> String {
    match text.parse::<k8s_openapi::jiff::Timestamp>() {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => text.to_string(),
    }
}

/// The cells after NAME for one object.
pub fn summarise(kind: &str, obj: &Value) -> Vec<String> {
    let suspended = title_bool(cluster::suspended(obj));
    let (mut status, mut msg) = status_and_message(obj);
    if let Some(m) = static_ready(kind) {
        (status, msg) = ("True".to_string(), m.to_string());
    }
    if is_oci_helm_repository(kind, obj) {
        (status, msg) = ("True".to_string(), "Helm repository is Ready".to_string());
    }
    let artifact_revision = cluster::str_at(obj, &["status", "artifact", "revision"]);
    match kind {
        "Alert" | "Receiver" => vec![suspended, status, msg],
        "Provider" => vec![status, msg],
        "ImageRepository" => {
            let scan = cluster::str_at(obj, &["status", "lastScanResult", "scanTime"]);
            let scan = if scan.is_empty() {
                String::new()
            } else {
                rfc3339_seconds(scan)
            };
            vec![scan, suspended, status, msg]
        }
        "ImagePolicy" => vec![
            cluster::str_at(obj, &["status", "latestRef", "name"]).to_string(),
            cluster::str_at(obj, &["status", "latestRef", "tag"]).to_string(),
            status,
            msg,
        ],
        "ImageUpdateAutomation" => {
            let run = cluster::str_at(obj, &["status", "lastAutomationRunTime"]);
            let run = if run.is_empty() {
                String::new()
            } else {
                rfc3339_seconds(run)
            };
            vec![run, suspended, status, msg]
        }
        // A chart revision is a SemVer version: Flux leaves it whole.
        "HelmChart" => vec![
            artifact_revision.to_string(),
            suspended,
            status,
            cluster::truncate_hex(&msg),
        ],
        "HelmRelease" => vec![helm_release_revision(obj), suspended, status, msg],
        "Kustomization" => vec![
            cluster::truncate_hex(cluster::str_at(obj, &["status", "lastAppliedRevision"])),
            suspended,
            status,
            cluster::truncate_hex(&msg),
        ],
        _ => vec![
            cluster::truncate_hex(artifact_revision),
            suspended,
            status,
            cluster::truncate_hex(&msg),
        ],
    }
}

/// The chart version of the latest release, else the last attempted revision.
pub fn helm_release_revision(obj: &Value) -> String {
    match obj
        .pointer("/status/history/0/chartVersion")
        .and_then(Value::as_str)
    {
        Some(v) => v.to_string(),
        None => cluster::str_at(obj, &["status", "lastAttemptedRevision"]).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_selector_parses_both_forms() {
        let s = StatusSelector::parse("ready=false").unwrap();
        let ready_false = vec![("Ready".to_string(), "False".to_string())];
        assert!(s.matches(&ready_false));
        assert!(!s.matches(&[]));
        let not_true = StatusSelector::parse("Ready!=True").unwrap();
        assert!(not_true.matches(&ready_false));
        assert!(not_true.matches(&[]));
        let err = StatusSelector::parse("Ready").unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected status selector in type=status or type!=status format, but found: Ready"
        );
    }

    #[test]
    fn helm_release_row_uses_the_latest_chart_version() {
        let hr = json!({"spec": {"suspend": true}, "status": {
            "history": [{"chartVersion": "6.0.0"}], "lastAttemptedRevision": "5.0.0",
            "conditions": [{"type": "Ready", "status": "True", "message": "Helm install succeeded"}]}});
        assert_eq!(
            summarise("HelmRelease", &hr),
            ["6.0.0", "True", "True", "Helm install succeeded"]
        );
    }

    #[test]
    fn records_as_yaml_match_flux() {
        // cmd/flux/testdata/get/get_yaml.golden in fluxcd/flux2, first item.
        let keys = [
            "Namespace",
            "Name",
            "Revision",
            "Suspended",
            "Ready",
            "Message",
        ];
        let row = [
            "flux-system-15",
            "podinfo",
            "main@sha1:696f056d",
            "False",
            "True",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(["Fetched revision: main@sha1:696f056d".to_string()])
        .collect();
        assert_eq!(
            records_yaml(&[record(&keys, row)]),
            "- Message: 'Fetched revision: main@sha1:696f056d'\n  Name: podinfo\n  Namespace: flux-system-15\n  Ready: True\n  Revision: main@sha1:696f056d\n  Suspended: False\n"
        );
        assert_eq!(records_yaml(&[]), "[]\n");
        assert_eq!(yaml_scalar(""), "''");
        assert_eq!(yaml_scalar("it's: here"), "'it''s: here'");
    }

    #[test]
    fn unreconciled_object_waits() {
        assert_eq!(
            summarise("GitRepository", &json!({})),
            ["", "False", "False", "waiting to be reconciled"]
        );
    }
}
