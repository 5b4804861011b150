//! `flux reconcile`: annotate an object with `reconcile.fluxcd.io/requestedAt`, wait until its
//! controller has handled that request, and report the outcome as Flux does.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;

use clap::Args;
use flux_api::crds::KindInfo;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use super::CommandError;
use super::objects::{self, Target};
use crate::cli::GlobalFlags;
use crate::cluster::{self, Log, Readiness};

pub const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";
const FORCE_AT: &str = "reconcile.fluxcd.io/forceAt";
const RESET_AT: &str = "reconcile.fluxcd.io/resetAt";

#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// Reconcile the source (Kustomization, HelmRelease, HelmChart) first.
    #[arg(long, global = true)]
    pub with_source: bool,

    /// Force a one-off install or upgrade of the HelmRelease.
    #[arg(long, global = true)]
    pub force: bool,

    /// Reset the HelmRelease's failure count.
    #[arg(long, global = true)]
    pub reset: bool,

    #[command(subcommand)]
    pub target: Target,
}

pub fn run(
    global: &GlobalFlags,
    args: &ReconcileArgs,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let (info, names) = args.target.resolve();
    let [name] = names else {
        return Err(CommandError::Cluster(if names.is_empty() {
            format!("{} name is required", info.kind)
        } else {
            format!("{} accepts one name, got {}", info.kind, names.len())
        }));
    };
    cluster::block_on(async {
        let client = cluster::client(global).await?;
        let mut ctx = Ctx {
            client,
            args,
            timeout: global.timeout,
            log: Log(err),
        };
        reconcile(&mut ctx, info, &global.namespace, name, args.with_source).await
    })
}

struct Ctx<'a> {
    client: kube::Client,
    args: &'a ReconcileArgs,
    timeout: std::time::Duration,
    log: Log<'a>,
}

/// Reconciles one object, its source first when asked.
fn reconcile<'a>(
    ctx: &'a mut Ctx<'_>,
    info: &'static KindInfo,
    namespace: &'a str,
    name: &'a str,
    with_source: bool,
) -> Pin<Box<dyn Future<Output = Result<(), CommandError>> + 'a>> {
    Box::pin(async move {
        let obj = cluster::get(&ctx.client, info, namespace, name).await?;
        if objects::is_static(info.kind, &obj) {
            ctx.log
                .success("reconciliation not supported by the object")?;
            return Ok(());
        }
        if cluster::suspended(&obj) {
            return Err(CommandError::Cluster("resource is suspended".to_string()));
        }
        if with_source
            && let Some((source, source_ns, source_name)) = source_of(info.kind, &obj, namespace)
        {
            // Flux reconciles a source's own source only for HelmCharts asked for directly.
            reconcile(ctx, source, &source_ns, &source_name, false).await?;
        }
        let last = cluster::str_at(&obj, &["status", "lastHandledReconcileAt"]).to_string();
        ctx.log.action(format!(
            "annotating {} {name} in {namespace} namespace",
            info.kind
        ))?;
        let now = cluster::now_rfc3339_nano();
        let mut annotations = json!({REQUESTED_AT: now});
        if info.kind == "HelmRelease" {
            if ctx.args.force {
                annotations[FORCE_AT] = json!(now);
            }
            if ctx.args.reset {
                annotations[RESET_AT] = json!(now);
            }
        }
        cluster::api(&ctx.client, info, Some(namespace))
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": annotations}})),
            )
            .await
            .map_err(cluster::api_error)?;
        ctx.log.success(format!("{} annotated", info.kind))?;
        ctx.log
            .waiting(format!("waiting for {} reconciliation", info.kind))?;
        let obj = objects::poll_until(&ctx.client, info, namespace, name, ctx.timeout, |obj| {
            // Handled a request newer than the last one, and done with it.
            cluster::str_at(obj, &["status", "lastHandledReconcileAt"]) != last
                && cluster::readiness(obj) != Readiness::Pending
        })
        .await?;
        let Some(ready) = cluster::condition(&obj, "Ready") else {
            return Err(CommandError::Cluster(
                "status can't be determined".to_string(),
            ));
        };
        if cluster::str_at(ready, &["status"]) != "True" {
            return Err(CommandError::Cluster(format!(
                "{} reconciliation failed: '{}'",
                info.kind,
                cluster::str_at(ready, &["message"])
            )));
        }
        ctx.log.success(objects::success_message(info.kind, &obj))?;
        Ok(())
    })
}

/// The source Flux reconciles first with `--with-source`: kind, namespace and name.
fn source_of(
    kind: &str,
    obj: &Value,
    namespace: &str,
) -> Option<(&'static KindInfo, String, String)> {
    let reference = |r: &Value| -> Option<(&'static KindInfo, String, String)> {
        let kind = flux_api::crds::find_kind(r.get("kind")?.as_str()?)?;
        let name = r.get("name")?.as_str()?.to_string();
        let ns = r
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or(namespace)
            .to_string();
        Some((kind, ns, name))
    };
    match kind {
        "Kustomization" | "HelmChart" => reference(obj.pointer("/spec/sourceRef")?),
        "HelmRelease" => {
            if let Some(chart_ref) = obj.pointer("/spec/chartRef") {
                return reference(chart_ref);
            }
            // A chart template: the HelmChart helm-controller made, named in the status.
            let (ns, name) = cluster::str_at(obj, &["status", "helmChart"]).split_once('/')?;
            Some((cluster::kind("HelmChart"), ns.to_string(), name.to_string()))
        }
        _ => None,
    }
}
