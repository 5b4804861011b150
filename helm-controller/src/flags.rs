//! Command-line flags of `helm-controller`, named and defaulted as in Flux.

use flux_runtime::flags::{ControllerFlags, GoDuration, KubeConfigFlags};

/// Flags whose default differs from the common one (clap ids, see
/// `flux_runtime::flags::parse_or_exit`).
pub const DEFAULT_OVERRIDES: &[(&str, &str)] = &[];

/// Feature gates this controller knows, with their defaults.
pub const FEATURE_GATES: &[(&str, bool)] = &[
    ("AdoptLegacyReleases", true),
    ("AllowDNSLookups", false),
    ("CacheSecretsAndConfigMaps", false),
    ("DisableChartDigestTracking", false),
    ("DisableConfigWatchers", false),
    ("ExternalArtifact", false),
    ("ObjectLevelWorkloadIdentity", false),
    ("OOMWatch", false),
];

/// Flux's flags for helm-controller: the common controller flags plus its own.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "helm-controller", version, about = "flux-rs helm-controller")]
pub struct Flags {
    #[command(flatten)]
    pub common: ControllerFlags,

    /// The maximum number of retries when failing to fetch artifacts over HTTP.
    #[arg(long, value_name = "N", default_value_t = 9)]
    pub http_retry: u32,

    /// Default service account used for kubeconfig.
    #[arg(long, value_name = "NAME", default_value = "")]
    pub default_kubeconfig_service_account: String,

    /// The duration given to the reconciler to finish before forcibly stopping.
    #[arg(long, value_name = "DURATION", default_value = "600s")]
    pub graceful_shutdown_timeout: GoDuration,

    /// The interval at which the OOM watcher will check for memory usage. Requires feature
    /// gate 'OOMWatch' to be enabled.
    #[arg(long, value_name = "DURATION", default_value = "500ms")]
    pub oom_watch_interval: GoDuration,

    /// The memory threshold in percentage at which the OOM watcher will trigger a graceful
    /// shutdown. Requires feature gate 'OOMWatch' to be enabled.
    #[arg(long, value_name = "PERCENT", default_value_t = 95,
          value_parser = clap::value_parser!(u8).range(1..=100))]
    pub oom_watch_memory_threshold: u8,

    /// The path to the cgroup memory limit file. If not set, the path will be automatically
    /// detected.
    #[arg(long, value_name = "PATH", default_value = "")]
    pub oom_watch_max_memory_path: String,

    /// The path to the cgroup current memory usage file. If not set, the path will be
    /// automatically detected.
    #[arg(long, value_name = "PATH", default_value = "")]
    pub oom_watch_current_memory_path: String,

    /// The algorithm to use to calculate the digest of Helm release storage snapshots.
    #[arg(long, value_name = "ALGO", default_value = "sha256",
          value_parser = ["sha256", "sha384", "sha512", "blake3"])]
    pub snapshot_digest_algo: String,

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
