//! `flux uninstall`: delete the controllers, the finalizers of Flux's objects (so nothing hangs
//! once the controllers are gone), the CRDs and the namespace, as Flux's pkg/uninstall.

use std::io::{BufRead, Write};

use clap::Args;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;

use super::CommandError;
use crate::cli::GlobalFlags;
use crate::cluster::{self, Log};

#[derive(Debug, Clone, Args)]
pub struct UninstallArgs {
    /// Skip the namespace deletion.
    #[arg(long)]
    pub keep_namespace: bool,

    /// Only print the objects that would be deleted.
    #[arg(long)]
    pub dry_run: bool,

    /// Delete components without asking for confirmation.
    #[arg(short = 's', long)]
    pub silent: bool,
}

pub fn run(
    global: &GlobalFlags,
    args: &UninstallArgs,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    if !args.dry_run && !args.silent {
        write!(
            err,
            "? Are you sure you want to delete Flux and its custom resource definitions? [y/N] "
        )?;
        err.flush()?;
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(CommandError::Failed("aborting".into()));
        }
    }
    let mut log = Log(err);
    let dry = if args.dry_run { "(dry run)" } else { "" };
    cluster::run(global, async {
        let client = cluster::client(global).await?;
        let ns = global.namespace.as_str();
        let params = if args.dry_run {
            DeleteParams {
                dry_run: true,
                ..DeleteParams::default()
            }
        } else {
            DeleteParams::default()
        };
        let selector = ListParams::default().labels(&format!(
            "app.kubernetes.io/part-of=flux,app.kubernetes.io/instance={ns}"
        ));

        log.action(format!("deleting components in {ns} namespace"))?;
        macro_rules! delete_all {
            ($api:expr, $kind:literal, $namespaced:expr) => {{
                let api = $api;
                let list = api.list(&selector).await.map_err(cluster::api_error)?;
                for item in list.items {
                    let name = item.metadata.name.clone().unwrap_or_default();
                    match api.delete(&name, &params).await {
                        Ok(_) if $namespaced => {
                            log.success(format!("{}/{ns}/{name} deleted {dry}", $kind))?
                        }
                        Ok(_) => log.success(format!("{}/{name} deleted {dry}", $kind))?,
                        Err(e) => log.failure(format!(
                            "{}/{name} deletion failed: {}",
                            $kind,
                            cluster::api_error(e)
                        ))?,
                    }
                }
            }};
        }
        delete_all!(
            Api::<Deployment>::namespaced(client.clone(), ns),
            "Deployment",
            true
        );
        delete_all!(
            Api::<Service>::namespaced(client.clone(), ns),
            "Service",
            true
        );
        delete_all!(
            Api::<NetworkPolicy>::namespaced(client.clone(), ns),
            "NetworkPolicy",
            true
        );
        delete_all!(
            Api::<ServiceAccount>::namespaced(client.clone(), ns),
            "ServiceAccount",
            true
        );
        delete_all!(
            Api::<ClusterRole>::all(client.clone()),
            "ClusterRole",
            false
        );
        delete_all!(
            Api::<ClusterRoleBinding>::all(client.clone()),
            "ClusterRoleBinding",
            false
        );

        log.action("deleting toolkit.fluxcd.io finalizers in all namespaces")?;
        for info in flux_api::crds::kinds() {
            let api = cluster::api(&client, info, None);
            // A kind whose CRD is not installed has nothing to clean up.
            let Ok(list) = api.list(&ListParams::default()).await else {
                continue;
            };
            for obj in list.items {
                let name = obj.metadata.name.clone().unwrap_or_default();
                let obj_ns = obj.metadata.namespace.clone().unwrap_or_default();
                let subject = format!("{}/{obj_ns}/{name}", info.kind);
                if !args.dry_run {
                    let api = cluster::api(&client, info, Some(&obj_ns));
                    let patch = json!({"metadata": {"finalizers": null}});
                    if let Err(e) = api
                        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                    {
                        log.failure(format!(
                            "{subject} removing finalizers failed: {}",
                            cluster::api_error(e)
                        ))?;
                        continue;
                    }
                }
                log.success(format!("{subject} finalizers deleted {dry}"))?;
            }
        }

        log.action("deleting toolkit.fluxcd.io custom resource definitions")?;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        let list = crds
            .list(&ListParams::default().labels("app.kubernetes.io/part-of=flux"))
            .await
            .map_err(cluster::api_error)?;
        for crd in list.items {
            let name = crd.metadata.name.clone().unwrap_or_default();
            match crds.delete(&name, &params).await {
                Ok(_) => log.success(format!("CustomResourceDefinition/{name} deleted {dry}"))?,
                Err(e) => log.failure(format!(
                    "CustomResourceDefinition/{name} deletion failed: {}",
                    cluster::api_error(e)
                ))?,
            }
        }

        if !args.keep_namespace {
            let namespaces: Api<Namespace> = Api::all(client.clone());
            match namespaces.delete(ns, &params).await {
                Ok(_) => log.success(format!("Namespace/{ns} deleted {dry}"))?,
                Err(e) if cluster::is_not_found(&e) => {}
                Err(e) => log.failure(format!(
                    "Namespace/{ns} deletion failed: {}",
                    cluster::api_error(e)
                ))?,
            }
        }
        log.success("uninstall finished")?;
        Ok(())
    })
}
