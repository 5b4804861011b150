//! `flux install`: render the controllers' manifests, and apply them to the cluster unless
//! `--export`.

use std::io::Write;

use clap::{ArgAction, Args};

use super::CommandError;
use crate::cli::GlobalFlags;
use crate::cluster::{self, Log};
use crate::manifests::{self, DEFAULT_COMPONENTS, InstallOptions};

#[derive(Debug, Clone, Args)]
pub struct InstallArgs {
    /// Write the install manifests to stdout and exit.
    #[arg(long)]
    pub export: bool,

    /// List of components to install.
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_COMPONENTS.iter().map(|s| s.to_string()))]
    pub components: Vec<String>,

    /// List of components in addition to those supplied or defaulted, accepts values such as
    /// 'image-reflector-controller,image-automation-controller'.
    #[arg(long, value_delimiter = ',')]
    pub components_extra: Vec<String>,

    /// Container registry where the toolkit images are published.
    #[arg(long, default_value = "ghcr.io/flux-rs")]
    pub registry: String,

    /// Toolkit version (image tag), e.g. 'v0.1.0'; defaults to this CLI's version.
    #[arg(short = 'v', long)]
    pub version: Option<String>,

    /// Watch for custom resources in all namespaces, if set to false it will only watch the
    /// namespace where the Flux controllers are installed.
    #[arg(long, default_value_t = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set)]
    pub watch_all_namespaces: bool,

    /// Log level of the controllers.
    #[arg(long, default_value = "info", value_parser = ["debug", "info", "error"])]
    pub log_level: String,

    /// Deny ingress access to the toolkit controllers from other namespaces using network
    /// policies.
    #[arg(long, default_value_t = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set)]
    pub network_policy: bool,

    /// Internal cluster domain.
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,
}

impl InstallArgs {
    /// The generator options these flags describe.
    pub fn options(&self, global: &GlobalFlags) -> InstallOptions {
        let defaults = InstallOptions::default();
        InstallOptions {
            namespace: global.namespace.clone(),
            components: self
                .components
                .iter()
                .chain(&self.components_extra)
                .cloned()
                .collect(),
            registry: self.registry.trim_end_matches('/').to_string(),
            version: self.version.clone().unwrap_or(defaults.version),
            cluster_domain: self.cluster_domain.clone(),
            log_level: self.log_level.clone(),
            watch_all_namespaces: self.watch_all_namespaces,
            network_policy: self.network_policy,
        }
    }
}

pub fn run(
    global: &GlobalFlags,
    args: &InstallArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    if args.export {
        let yaml = manifests::install_yaml(&args.options(global))?;
        out.write_all(yaml.as_bytes())?;
        return Ok(());
    }
    let mut log = Log(err);
    log.generate("generating manifests")?;
    let yaml = manifests::install_yaml(&args.options(global))?;
    let objects = crate::apply::parse_yaml(&yaml)?;
    log.success("manifests build completed")?;
    log.action(format!(
        "installing components in {} namespace",
        global.namespace
    ))?;
    let deadline = tokio::time::Instant::now() + global.timeout;
    cluster::block_on(async {
        let client = cluster::client(global).await?;
        let changes = tokio::time::timeout_at(
            deadline,
            crate::apply::apply_staged(&client, &objects, "flux"),
        )
        .await
        .map_err(|_| CommandError::Failed("install failed: timeout waiting for the CRDs".into()))?
        .map_err(|e| CommandError::Failed(format!("install failed: {e}")))?;
        for change in &changes {
            writeln!(log.0, "{change}")?;
        }
        log.waiting("verifying installation")?;
        let deployments: Vec<String> = objects
            .iter()
            .filter(|o| o["kind"] == "Deployment")
            .filter_map(|o| o.pointer("/metadata/name").and_then(|n| n.as_str()))
            .map(String::from)
            .collect();
        if !crate::apply::wait_deployments(
            &client,
            &global.namespace,
            &deployments,
            deadline,
            &mut log,
        )
        .await?
        {
            return Err(CommandError::Failed("install failed".into()));
        }
        log.success("install finished")?;
        Ok(())
    })
}
