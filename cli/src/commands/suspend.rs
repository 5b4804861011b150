//! `flux suspend` and `flux resume`: set `spec.suspend` on objects by name or `--all` in the
//! namespace; resume then waits for them to be Ready, as Flux does.

use std::collections::BTreeSet;
use std::io::Write;

use clap::Args;
use flux_api::crds::KindInfo;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use super::CommandError;
use super::objects::{self, Target, human_kind};
use crate::cli::GlobalFlags;
use crate::cluster::{self, Log};

/// The annotation `--reason` sets, as Flux.
pub const SUSPEND_REASON_ANNOTATION: &str = "suspend.toolkit.fluxcd.io/reason";

#[derive(Debug, Clone, Args)]
pub struct SuspendArgs {
    /// Suspend all resources in that namespace.
    #[arg(long, global = true)]
    pub all: bool,

    /// Set a reason for why the resource is suspended, the reason will show up under the
    /// suspend.toolkit.fluxcd.io/reason annotation.
    #[arg(short = 'r', long, global = true)]
    pub reason: Option<String>,

    #[command(subcommand)]
    pub target: Target,
}

#[derive(Debug, Clone, Args)]
pub struct ResumeArgs {
    /// Resume all resources in that namespace.
    #[arg(long, global = true)]
    pub all: bool,

    /// Wait for each resource to reconcile; the default when exactly one name is given.
    #[arg(
        long,
        global = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    pub wait: Option<bool>,

    #[command(subcommand)]
    pub target: Target,
}

/// The names given, each once, in order.
fn unique(names: &[String]) -> Vec<&str> {
    let mut seen = BTreeSet::new();
    names
        .iter()
        .filter(|n| seen.insert(n.as_str()))
        .map(String::as_str)
        .collect()
}

async fn list_names(
    client: &kube::Client,
    info: &KindInfo,
    namespace: &str,
) -> Result<Vec<String>, CommandError> {
    let list = cluster::api(client, info, Some(namespace))
        .list(&ListParams::default())
        .await
        .map_err(|e| cluster::list_error(info, e))?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect())
}

async fn patch(
    client: &kube::Client,
    info: &KindInfo,
    namespace: &str,
    name: &str,
    body: Value,
) -> Result<(), CommandError> {
    cluster::api(client, info, Some(namespace))
        .patch(name, &PatchParams::default(), &Patch::Merge(body))
        .await
        .map(|_| ())
        .map_err(cluster::api_error)
}

pub fn run_suspend(
    global: &GlobalFlags,
    args: &SuspendArgs,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let (info, names) = args.target.resolve();
    let human = human_kind(info.kind);
    if names.is_empty() && !args.all {
        return Err(CommandError::Cluster(format!("{human} name is required")));
    }
    let ns = global.namespace.as_str();
    let mut body = json!({"spec": {"suspend": true}});
    if let Some(reason) = args.reason.as_deref().filter(|r| !r.is_empty()) {
        body["metadata"] = json!({"annotations": {SUSPEND_REASON_ANNOTATION: reason}});
    }
    cluster::run(global, async {
        let client = cluster::client(global).await?;
        let mut log = Log(err);
        if names.is_empty() {
            let all = list_names(&client, info, ns).await?;
            if all.is_empty() {
                return Err(CommandError::Cluster(format!(
                    "no {} objects found in {ns} namespace",
                    info.kind
                )));
            }
            for name in &all {
                log.action(format!("suspending {human} {name} in {ns} namespace"))?;
                patch(&client, info, ns, name, body.clone()).await?;
                log.success(format!("{human} suspended"))?;
            }
            return Ok(());
        }
        // As Flux: a name that is missing or fails is reported and the others still go.
        for name in unique(names) {
            if cluster::get_opt(&client, info, ns, name).await?.is_none() {
                log.failure(format!("{} {name} not found in {ns} namespace", info.kind))?;
                continue;
            }
            log.action(format!("suspending {human} {name} in {ns} namespace"))?;
            match patch(&client, info, ns, name, body.clone()).await {
                Ok(()) => log.success(format!("{human} suspended"))?,
                Err(e) => log.failure(format!(
                    "failed suspending {} {name} in {ns} namespace: {e}",
                    info.kind
                ))?,
            }
        }
        Ok(())
    })
}

pub fn run_resume(
    global: &GlobalFlags,
    args: &ResumeArgs,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let (info, names) = args.target.resolve();
    let human = human_kind(info.kind);
    if names.is_empty() && !args.all {
        return Err(CommandError::Cluster(format!("{human} name is required")));
    }
    let ns = global.namespace.as_str();
    // One name waits unless told not to; several wait only with --wait (Flux's compatibility rule).
    let wait = args.wait.unwrap_or(names.len() == 1);
    cluster::block_on(async {
        let client = cluster::client(global).await?;
        let mut log = Log(err);
        let mut resumed = Vec::new();
        let targets: Vec<String> = if names.is_empty() {
            list_names(&client, info, ns).await?
        } else {
            unique(names).into_iter().map(str::to_string).collect()
        };
        if names.is_empty() && targets.is_empty() {
            log.failure(format!("no {} objects found in {ns} namespace", info.kind))?;
        }
        for name in targets {
            let Some(obj) = cluster::get_opt(&client, info, ns, &name).await? else {
                log.failure(format!(
                    "{} object '{name}' not found in {ns} namespace",
                    info.kind
                ))?;
                continue;
            };
            log.action(format!("resuming {human} {name} in {ns} namespace"))?;
            let mut body = json!({"spec": {"suspend": false}});
            if obj
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(SUSPEND_REASON_ANNOTATION))
                .is_some()
            {
                body["metadata"] = json!({"annotations": {SUSPEND_REASON_ANNOTATION: null}});
            }
            patch(&client, info, ns, &name, body).await?;
            log.success(format!("{human} resumed"))?;
            resumed.push(name);
        }
        if !wait || resumed.is_empty() {
            return Ok(());
        }
        for _ in &resumed {
            log.waiting(format!("waiting for {} reconciliation", info.kind))?;
        }
        let waits = resumed
            .iter()
            .map(|name| objects::wait_ready(&client, info, ns, name, global.timeout));
        let results = join_all(waits).await;
        let mut failed = false;
        let mut outcomes: Vec<_> = resumed.iter().zip(results).collect();
        outcomes.sort_by(|a, b| a.0.cmp(b.0));
        for (name, result) in outcomes {
            match result {
                Ok(obj) => {
                    log.success(format!("{} {name} reconciliation completed", info.kind))?;
                    log.success(objects::success_message(info.kind, &obj))?;
                }
                Err(e) => {
                    failed = true;
                    log.failure(e.to_string())?;
                }
            }
        }
        if failed {
            return Err(CommandError::Cluster(format!(
                "{} reconciliation failed",
                info.kind
            )));
        }
        Ok(())
    })
}

/// Runs the futures concurrently on the current task and returns their outputs in order.
async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
