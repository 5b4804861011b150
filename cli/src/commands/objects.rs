//! The kinds `flux suspend`, `resume`, `reconcile` and `export` act on, named as Flux names
//! them (`source git`, `kustomization`, `image repository`, ...), and what Flux says about
//! each once it is reconciled.

use std::time::Duration;

use clap::{Args, Subcommand};
use flux_api::crds::KindInfo;
use serde_json::Value;

use super::CommandError;
use crate::cluster::{self, Readiness};

/// Object names.
#[derive(Debug, Clone, Args)]
pub struct Names {
    /// Names of the objects.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Target {
    /// Sources: git, oci, helm, chart, bucket.
    #[command(subcommand)]
    Source(SourceTarget),
    /// A Kustomization.
    #[command(alias = "ks")]
    Kustomization(Names),
    /// A HelmRelease.
    #[command(alias = "hr")]
    Helmrelease(Names),
    /// An Alert.
    Alert(Names),
    /// A Provider.
    AlertProvider(Names),
    /// A Receiver.
    Receiver(Names),
    /// Image automation objects: repository, policy, update.
    #[command(subcommand)]
    Image(ImageTarget),
}

#[derive(Debug, Clone, Subcommand)]
pub enum SourceTarget {
    /// A GitRepository.
    Git(Names),
    /// An OCIRepository.
    Oci(Names),
    /// A HelmRepository.
    Helm(Names),
    /// A HelmChart.
    Chart(Names),
    /// A Bucket.
    Bucket(Names),
}

#[derive(Debug, Clone, Subcommand)]
pub enum ImageTarget {
    /// An ImageRepository.
    Repository(Names),
    /// An ImagePolicy.
    Policy(Names),
    /// An ImageUpdateAutomation.
    Update(Names),
}

impl Target {
    /// The kind and the names given.
    pub fn resolve(&self) -> (&'static KindInfo, &[String]) {
        let (kind, names) = match self {
            Target::Source(s) => match s {
                SourceTarget::Git(n) => ("GitRepository", n),
                SourceTarget::Oci(n) => ("OCIRepository", n),
                SourceTarget::Helm(n) => ("HelmRepository", n),
                SourceTarget::Chart(n) => ("HelmChart", n),
                SourceTarget::Bucket(n) => ("Bucket", n),
            },
            Target::Kustomization(n) => ("Kustomization", n),
            Target::Helmrelease(n) => ("HelmRelease", n),
            Target::Alert(n) => ("Alert", n),
            Target::AlertProvider(n) => ("Provider", n),
            Target::Receiver(n) => ("Receiver", n),
            Target::Image(i) => match i {
                ImageTarget::Repository(n) => ("ImageRepository", n),
                ImageTarget::Policy(n) => ("ImagePolicy", n),
                ImageTarget::Update(n) => ("ImageUpdateAutomation", n),
            },
        };
        (cluster::kind(kind), &names.names)
    }
}

/// How Flux's messages name a kind: `source git`, `kustomization`, `image policy`.
pub fn human_kind(kind: &str) -> &'static str {
    match kind {
        "GitRepository" => "source git",
        "OCIRepository" => "source oci",
        "HelmRepository" => "source helm",
        "HelmChart" => "source chart",
        "Bucket" => "source bucket",
        "Kustomization" => "kustomization",
        "HelmRelease" => "helmrelease",
        "Alert" => "alert",
        "Provider" => "alert-provider",
        "Receiver" => "receiver",
        "ImageRepository" => "image repository",
        "ImagePolicy" => "image policy",
        "ImageUpdateAutomation" => "image update automation",
        _ => "object",
    }
}

/// Objects no controller reconciles (Alerts and Providers since v1beta3, OCI HelmRepositories):
/// they are ready as soon as they exist.
pub fn is_static(kind: &str, obj: &Value) -> bool {
    matches!(kind, "Alert" | "Provider")
        || (kind == "HelmRepository" && cluster::str_at(obj, &["spec", "type"]) == "oci")
}

/// What Flux prints once an object is reconciled.
pub fn success_message(kind: &str, obj: &Value) -> String {
    let s = |path: &[&str]| cluster::str_at(obj, path).to_string();
    match kind {
        "Kustomization" => format!("applied revision {}", s(&["status", "lastAppliedRevision"])),
        "HelmRelease" => format!(
            "applied revision {}",
            super::get::helm_release_revision(obj)
        ),
        "Alert" => "Alert reconciliation completed".to_string(),
        "Provider" => "Provider reconciliation completed".to_string(),
        "Receiver" => "Receiver reconciliation completed".to_string(),
        "ImageRepository" => format!(
            "scan fetched {} tags",
            obj.pointer("/status/lastScanResult/tagCount")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        ),
        "ImagePolicy" => format!(
            "selected ref {}:{}",
            s(&["status", "latestRef", "name"]),
            s(&["status", "latestRef", "tag"])
        ),
        "ImageUpdateAutomation" => match s(&["status", "lastAutomationRunTime"]) {
            t if t.is_empty() => "automation not yet run".to_string(),
            t => format!("last run {t}"),
        },
        _ => format!(
            "fetched revision {}",
            s(&["status", "artifact", "revision"])
        ),
    }
}

/// Reads the object every [`cluster::POLL_INTERVAL`] until `done` says it is, or `timeout`
/// passes; returns the object as last read.
pub async fn poll_until(
    client: &kube::Client,
    info: &'static KindInfo,
    namespace: &str,
    name: &str,
    timeout: Duration,
    mut done: impl FnMut(&Value) -> bool,
) -> Result<Value, CommandError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let obj = cluster::get(client, info, namespace, name).await?;
        if done(&obj) {
            return Ok(obj);
        }
        if tokio::time::Instant::now() + cluster::POLL_INTERVAL > deadline {
            return Err(CommandError::Cluster(format!(
                "timeout waiting for {} '{namespace}/{name}' reconciliation: context deadline exceeded",
                info.kind
            )));
        }
        tokio::time::sleep(cluster::POLL_INTERVAL).await;
    }
}

/// Waits for the object to be Ready (or, for a static object, to exist); a Ready=False or
/// Stalled object is an error naming its message.
pub async fn wait_ready(
    client: &kube::Client,
    info: &'static KindInfo,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Result<Value, CommandError> {
    let obj = poll_until(client, info, namespace, name, timeout, |obj| {
        is_static(info.kind, obj) || cluster::readiness(obj) != Readiness::Pending
    })
    .await?;
    match cluster::readiness(&obj) {
        Readiness::Failed(msg) if !is_static(info.kind, &obj) => Err(CommandError::Cluster(msg)),
        _ => Ok(obj),
    }
}
