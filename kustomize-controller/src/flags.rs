//! Command-line flags of `kustomize-controller`, named and defaulted as in Flux.

use clap::ArgAction;
use flux_runtime::flags::{ControllerFlags, KubeConfigFlags, parse_go_bool};

/// Flags whose default differs from the common one (clap ids, see
/// `flux_runtime::flags::parse_or_exit`).
pub const DEFAULT_OVERRIDES: &[(&str, &str)] = &[];

/// Feature gates this controller knows, with their defaults.
pub const FEATURE_GATES: &[(&str, bool)] = &[
    ("AdditiveCELDependencyCheck", false),
    ("CacheSecretsAndConfigMaps", false),
    ("CancelHealthCheckOnNewRevision", false),
    ("DisableConfigWatchers", false),
    ("DisableFailFastBehavior", false),
    ("DisableStatusPollerCache", true),
    ("ExternalArtifact", true),
    ("GroupChangeLog", false),
    ("ObjectLevelWorkloadIdentity", false),
    ("StrictPostBuildSubstitutions", false),
];

/// Flux's flags for kustomize-controller: the common controller flags plus its own.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "kustomize-controller",
    version,
    about = "flux-rs kustomize-controller"
)]
pub struct Flags {
    #[command(flatten)]
    pub common: ControllerFlags,

    /// The number of concurrent server-side apply operations.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrent_ssa: u32,

    /// Disallow remote bases usage in Kustomize overlays. When this flag is enabled, all
    /// resources must refer to local files included in the source artifact.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true",
          value_parser = parse_go_bool, action = ArgAction::Set)]
    pub no_remote_bases: bool,

    /// The maximum number of retries when failing to fetch artifacts over HTTP.
    #[arg(long, value_name = "N", default_value_t = 9)]
    pub http_retry: u32,

    /// Default service account used for decryption.
    #[arg(long, value_name = "NAME", default_value = "")]
    pub default_decryption_service_account: String,

    /// Default service account used for kubeconfig.
    #[arg(long, value_name = "NAME", default_value = "")]
    pub default_kubeconfig_service_account: String,

    /// The name of a Kubernetes secret in the RUNTIME_NAMESPACE containing a SOPS age
    /// decryption key for fallback usage.
    #[arg(long, value_name = "NAME", default_value = "")]
    pub sops_age_secret: String,

    /// Field manager disallowed to perform changes on managed resources.
    #[arg(long = "override-manager", value_name = "MANAGER")]
    pub override_managers: Vec<String>,

    #[command(flatten)]
    pub kubeconfig: KubeConfigFlags,
}

impl Flags {
    /// Parses the process arguments; exits 1 with a clear message on bad input.
    pub fn parse_or_exit() -> Self {
        flux_runtime::flags::parse_or_exit(DEFAULT_OVERRIDES)
    }

    /// Parses `args` (including the program name) without exiting.
    pub fn try_parse_from<I, S>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString> + Clone,
    {
        flux_runtime::flags::try_parse_from(args, DEFAULT_OVERRIDES)
    }
}

/// Where `--sops-age-secret` points: the Secret of that name in the runtime namespace, used
/// only when both are set, as in Flux.
pub fn sops_age_secret(
    flags: &Flags,
    runtime_namespace: Option<String>,
) -> Option<(String, String)> {
    let name = flags.sops_age_secret.as_str();
    match runtime_namespace {
        Some(ns) if !name.is_empty() && !ns.is_empty() => Some((ns, name.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sops_age_secret_needs_the_flag_and_the_runtime_namespace() {
        let flags = Flags::try_parse_from(["kustomize-controller", "--sops-age-secret=sops-age"])
            .expect("flags");
        assert_eq!(
            sops_age_secret(&flags, Some("flux-system".into())),
            Some(("flux-system".to_string(), "sops-age".to_string()))
        );
        assert_eq!(sops_age_secret(&flags, None), None);
        let none = Flags::try_parse_from(["kustomize-controller"]).expect("flags");
        assert_eq!(sops_age_secret(&none, Some("flux-system".into())), None);
    }
}
