//! What the commands that talk to a cluster share: a client built from `--kubeconfig` and
//! `--context` as kubectl resolves them, a runtime per command (the `run` functions are sync),
//! dynamic access to every Flux kind, Flux's log lines and its table layout.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use flux_api::crds::KindInfo;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;

use crate::cli::GlobalFlags;
use crate::commands::CommandError;

/// Runs `fut` to completion on a fresh runtime, failing with Flux's message when the
/// command's `--timeout` passes first.
pub fn run<T, F>(global: &GlobalFlags, fut: F) -> Result<T, CommandError>
where
    F: Future<Output = Result<T, CommandError>>,
{
    let timeout = global.timeout;
    block_on(async move {
        match tokio::time::timeout(timeout, fut).await {
            Ok(result) => result,
            Err(_) => Err(CommandError::Cluster(format!(
                "timeout waiting for the operation to complete after {}: context deadline exceeded",
                flux_runtime::flags::GoDuration(timeout)
            ))),
        }
    })
}

/// Runs `fut` to completion on a fresh runtime, for commands that bound their own waits by
/// `--timeout` and report each object that ran out of time.
pub fn block_on<T, F>(fut: F) -> Result<T, CommandError>
where
    F: Future<Output = Result<T, CommandError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::Cluster(format!("unable to start the async runtime: {e}")))?;
    runtime.block_on(fut)
}

/// A client for the cluster the kubeconfig and context flags select.
pub async fn client(global: &GlobalFlags) -> Result<kube::Client, CommandError> {
    let kubeconfig = match &global.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        // KUBECONFIG (a list of files, merged) or ~/.kube/config, as kubectl.
        None => Kubeconfig::read(),
    };
    let kubeconfig = match kubeconfig {
        Ok(kubeconfig) => kubeconfig,
        // No kubeconfig inside a Pod: its ServiceAccount, as client-go falls back to.
        Err(_)
            if global.kubeconfig.is_none()
                && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() =>
        {
            let config = kube::Config::incluster().map_err(|e| {
                CommandError::Cluster(format!("unable to load the in-cluster config: {e}"))
            })?;
            return kube::Client::try_from(config).map_err(|e| {
                CommandError::Cluster(format!("unable to create a Kubernetes client: {e}"))
            });
        }
        Err(e) => {
            return Err(CommandError::Cluster(format!(
                "unable to read the kubeconfig: {e}"
            )));
        }
    };
    let options = KubeConfigOptions {
        context: global.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| CommandError::Cluster(format!("unable to load the kubeconfig: {e}")))?;
    kube::Client::try_from(config)
        .map_err(|e| CommandError::Cluster(format!("unable to create a Kubernetes client: {e}")))
}

/// A Flux kind known to flux-rs. Panics only on a typo in this crate's own constants.
pub fn kind(name: &str) -> &'static KindInfo {
    flux_api::crds::find_kind(name).unwrap_or_else(|| panic!("{name} is not a Flux kind"))
}

/// The dynamic API resource of a kind at its storage version.
pub fn api_resource(info: &KindInfo) -> ApiResource {
    ApiResource {
        group: info.group.to_string(),
        version: info.storage_version.to_string(),
        api_version: info.api_version(),
        kind: info.kind.to_string(),
        plural: info.plural.to_string(),
    }
}

/// The API of `info` in `namespace`, or across all namespaces when `None`.
pub fn api(client: &kube::Client, info: &KindInfo, namespace: Option<&str>) -> Api<DynamicObject> {
    let resource = api_resource(info);
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

/// A Kubernetes API error as one line, naming the API server's reason when it gave one.
pub fn api_error(e: kube::Error) -> CommandError {
    match e {
        kube::Error::Api(status) if !status.message.is_empty() => {
            CommandError::Cluster(status.message.clone())
        }
        other => CommandError::Cluster(other.to_string()),
    }
}

/// A failed list: a 404 there means the kind's CRD is not installed, said as kubectl says it.
pub fn list_error(info: &KindInfo, e: kube::Error) -> CommandError {
    if is_not_found(&e) {
        return CommandError::Cluster(format!(
            "no matches for kind \"{}\" in version \"{}\"",
            info.kind,
            info.api_version()
        ));
    }
    api_error(e)
}

/// Whether an error is the API server's 404.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(status) if status.code == 404)
}

/// Reads one object; `Ok(None)` when it does not exist.
pub async fn get_opt(
    client: &kube::Client,
    info: &KindInfo,
    namespace: &str,
    name: &str,
) -> Result<Option<Value>, CommandError> {
    match api(client, info, Some(namespace)).get(name).await {
        Ok(obj) => Ok(Some(to_value(&obj)?)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(api_error(e)),
    }
}

/// Reads one object; a missing object is the error `Kind 'namespace/name' not found`.
pub async fn get(
    client: &kube::Client,
    info: &KindInfo,
    namespace: &str,
    name: &str,
) -> Result<Value, CommandError> {
    get_opt(client, info, namespace, name)
        .await?
        .ok_or_else(|| not_found(info, namespace, name))
}

/// The error for an object that does not exist.
pub fn not_found(info: &KindInfo, namespace: &str, name: &str) -> CommandError {
    CommandError::Cluster(format!("{} '{namespace}/{name}' not found", info.kind))
}

/// An object as JSON, the shape every helper here reads.
pub fn to_value(obj: &DynamicObject) -> Result<Value, CommandError> {
    serde_json::to_value(obj).map_err(|e| CommandError::Cluster(format!("invalid object: {e}")))
}

/// A string field at `path`, or "".
pub fn str_at<'a>(obj: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(obj, |v, key| v.get(*key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The condition of `type_` in `status.conditions`.
pub fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
}

/// `spec.suspend` as Flux prints it: `True` or `False`.
pub fn suspended(obj: &Value) -> bool {
    obj.pointer("/spec/suspend")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Where an object stands after a reconcile request or a resume, as Flux's readiness checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Not yet observed, or still reconciling.
    Pending,
    Ready,
    /// Reconciled and not Ready; the message says why.
    Failed(String),
}

/// kstatus' generic rules, then the Ready condition: an object is done once its controller
/// observed the current generation and no longer reports Reconciling.
pub fn readiness(obj: &Value) -> Readiness {
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        return Readiness::Pending;
    }
    let generation = obj.pointer("/metadata/generation").and_then(Value::as_i64);
    let observed = obj
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64);
    if let (Some(g), Some(o)) = (generation, observed)
        && o != g
    {
        return Readiness::Pending;
    }
    let is_true =
        |c: Option<&Value>| c.and_then(|c| c.get("status")).and_then(Value::as_str) == Some("True");
    if is_true(condition(obj, "Reconciling")) {
        return Readiness::Pending;
    }
    if let Some(stalled) = condition(obj, "Stalled").filter(|c| is_true(Some(c))) {
        return Readiness::Failed(str_at(stalled, &["message"]).to_string());
    }
    match condition(obj, "Ready") {
        Some(ready) => match str_at(ready, &["status"]) {
            "True" => Readiness::Ready,
            "False" => Readiness::Failed(str_at(ready, &["message"]).to_string()),
            _ => Readiness::Pending,
        },
        None => Readiness::Pending,
    }
}

/// How often the waiting commands read the object again (Flux's `--poll-interval` default).
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Flux's stderr log lines: ► actions, ✔ successes, ◎ waits, ✗ failures.
pub struct Log<'a>(pub &'a mut dyn Write);

impl Log<'_> {
    pub fn action(&mut self, msg: impl AsRef<str>) -> std::io::Result<()> {
        writeln!(self.0, "► {}", msg.as_ref())
    }
    pub fn success(&mut self, msg: impl AsRef<str>) -> std::io::Result<()> {
        writeln!(self.0, "✔ {}", msg.as_ref())
    }
    pub fn waiting(&mut self, msg: impl AsRef<str>) -> std::io::Result<()> {
        writeln!(self.0, "◎ {}", msg.as_ref())
    }
    pub fn generate(&mut self, msg: impl AsRef<str>) -> std::io::Result<()> {
        writeln!(self.0, "✚ {}", msg.as_ref())
    }
    pub fn failure(&mut self, msg: impl AsRef<str>) -> std::io::Result<()> {
        writeln!(self.0, "✗ {}", msg.as_ref())
    }
}

/// Prints rows as Flux's table printer (olekukonko/tablewriter with no borders, tab padding and
/// no white space): every cell padded to its column's width and followed by a tab, except the
/// header's last cell, followed by a space. Headers are upper-cased; no header when `header`
/// is empty. Multi-line cells take several lines, as tablewriter prints them.
pub fn print_table(
    out: &mut dyn Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let header: Vec<String> = header.iter().map(|h| h.trim().to_uppercase()).collect();
    let columns = rows
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(header.len()))
        .max()
        .unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for (i, h) in header.iter().enumerate() {
        widths[i] = widths[i].max(h.chars().count());
    }
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            for line in cell.split('\n') {
                widths[i] = widths[i].max(line.chars().count());
            }
        }
    }
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    if !header.is_empty() {
        let mut line = String::new();
        for (i, width) in widths.iter().enumerate() {
            let h = header.get(i).map(String::as_str).unwrap_or("");
            line.push_str(&pad(h, *width));
            line.push(if i + 1 == columns { ' ' } else { '\t' });
        }
        writeln!(out, "{line}")?;
    }
    for row in rows {
        let cells: Vec<Vec<&str>> = (0..columns)
            .map(|i| {
                row.get(i)
                    .map(|c| c.split('\n').collect())
                    .unwrap_or_else(|| vec![""])
            })
            .collect();
        let height = cells.iter().map(Vec::len).max().unwrap_or(1);
        for l in 0..height {
            let mut line = String::new();
            for (i, width) in widths.iter().enumerate() {
                line.push_str(&pad(cells[i].get(l).copied().unwrap_or(""), *width));
                line.push('\t');
            }
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// Replaces every hexadecimal run of 40 to 128 characters (SHA-1 to SHA-512) with its first
/// eight characters, as Flux shortens revisions and messages in its tables.
pub fn truncate_hex(s: &str) -> String {
    let bytes = s.as_bytes();
    let is_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    // Go's \b: a boundary between a word character and a non-word one.
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        let at_boundary = i == 0 || !is_word(bytes[i - 1]);
        if at_boundary && is_hex(bytes[i]) {
            let end = (i..bytes.len())
                .find(|&j| !is_hex(bytes[j]))
                .unwrap_or(bytes.len());
            let len = end - i;
            let ends_at_boundary = end == bytes.len() || !is_word(bytes[end]);
            if (40..=128).contains(&len) && ends_at_boundary {
                out.push_str(&s[i..i + 8]);
                i = end;
                continue;
            }
            out.push_str(&s[i..end]);
            i = end;
            continue;
        }
        let ch_len = s[i..].chars().next().map(char::len_utf8).unwrap_or(1);
        out.push_str(&s[i..i + ch_len]);
        i += ch_len;
    }
    out
}

/// The current time as Go's `time.RFC3339Nano`, the format of `reconcile.fluxcd.io/requestedAt`.
pub fn now_rfc3339_nano() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(header: &[&str], rows: &[&[&str]]) -> String {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        let mut out = Vec::new();
        print_table(&mut out, header, &rows).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_matches_flux_golden_output() {
        // cmd/flux/testdata/kustomization/get_kustomization_from_git.golden in fluxcd/flux2.
        let text = table(
            &["Name", "Revision", "Suspended", "Ready", "Message"],
            &[&[
                "tkfg",
                "6.0.0/627d5c4b",
                "False",
                "True",
                "Applied revision: 6.0.0/627d5c4b",
            ]],
        );
        assert_eq!(
            text,
            "NAME\tREVISION      \tSUSPENDED\tREADY\tMESSAGE                          \n\
             tkfg\t6.0.0/627d5c4b\tFalse    \tTrue \tApplied revision: 6.0.0/627d5c4b\t\n"
        );
    }

    #[test]
    fn table_without_header_pads_rows_only() {
        let text = table(&[], &[&["a", "bb"], &["ccc", "d"]]);
        assert_eq!(text, "a  \tbb\t\nccc\td \t\n");
    }

    #[test]
    fn truncate_hex_as_flux() {
        let sha1 = "16cfcc0b9066b3234dda29927ac1c19860d9663f";
        let sha256 = "c2448c95e262b10f9c1137bf1472f51c04dffca76966ff15eff409d0b300c0b0";
        assert_eq!(truncate_hex(sha1), "16cfcc0b");
        assert_eq!(
            truncate_hex(&format!("main@sha1:{sha1}")),
            "main@sha1:16cfcc0b"
        );
        assert_eq!(
            truncate_hex(&format!("tag@sha256:{sha256}")),
            "tag@sha256:c2448c95"
        );
        assert_eq!(truncate_hex(&format!("HEAD/{sha1}")), "HEAD/16cfcc0b");
        assert_eq!(
            truncate_hex(&format!("a hash '{sha1}' in it")),
            "a hash '16cfcc0b' in it"
        );
        assert_eq!(truncate_hex("ffffffffffffff"), "ffffffffffffff");
        let too_long = "f".repeat(129);
        assert_eq!(truncate_hex(&too_long), too_long);
        assert_eq!(truncate_hex(&format!("x{sha1}")), format!("x{sha1}"));
        assert_eq!(
            truncate_hex("which should not be modified"),
            "which should not be modified"
        );
    }

    #[test]
    fn readiness_follows_generation_and_conditions() {
        let obj = |observed: i64, conds: Value| {
            serde_json::json!({"metadata": {"generation": 2},
                "status": {"observedGeneration": observed, "conditions": conds}})
        };
        let ready = serde_json::json!([{"type": "Ready", "status": "True", "message": "ok"}]);
        assert_eq!(readiness(&obj(1, ready.clone())), Readiness::Pending);
        assert_eq!(readiness(&obj(2, ready)), Readiness::Ready);
        let failed = serde_json::json!([{"type": "Ready", "status": "False", "message": "bad"}]);
        assert_eq!(readiness(&obj(2, failed)), Readiness::Failed("bad".into()));
        let busy = serde_json::json!([{"type": "Ready", "status": "Unknown"},
            {"type": "Reconciling", "status": "True"}]);
        assert_eq!(readiness(&obj(2, busy)), Readiness::Pending);
    }
}
