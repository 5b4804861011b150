//! Command-line flags of `source-controller`, named and defaulted as in Flux.

use flux_runtime::flags::{ControllerFlags, GoDuration, ListenAddr};

/// Flags whose default differs from the common one (clap ids, see
/// `flux_runtime::flags::parse_or_exit`).
pub const DEFAULT_OVERRIDES: &[(&str, &str)] = &[("concurrent", "2")];

/// Feature gates this controller knows, with their defaults.
pub const FEATURE_GATES: &[(&str, bool)] = &[
    ("OptimizedGitClones", true),
    ("CacheSecretsAndConfigMaps", false),
    ("ObjectLevelWorkloadIdentity", false),
];

/// Flux's flags for source-controller: the common controller flags plus its own.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "source-controller",
    version,
    about = "flux-rs source-controller"
)]
pub struct Flags {
    #[command(flatten)]
    pub common: ControllerFlags,

    /// The path to the directory where artifacts will be stored.
    #[arg(
        long,
        value_name = "PATH",
        env = "STORAGE_PATH",
        default_value = "/data"
    )]
    pub storage_path: String,

    /// The address the artifact server binds to.
    #[arg(
        long,
        value_name = "ADDR",
        env = "STORAGE_ADDRESS",
        default_value = ":9090"
    )]
    pub storage_addr: ListenAddr,

    /// The in-cluster address the artifact server advertises to clients.
    #[arg(
        long,
        value_name = "HOST",
        env = "STORAGE_ADV_ADDR",
        default_value = ""
    )]
    pub storage_adv_addr: String,

    /// The duration after which stale artifacts are garbage collected.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub artifact_retention_ttl: GoDuration,

    /// The maximum number of artifacts to be kept in storage after a garbage collection.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub artifact_retention_records: u32,

    /// The hashing algorithm used to calculate the digest of artifacts.
    #[arg(long, value_name = "ALGO", default_value = "sha256",
          value_parser = ["sha256", "sha384", "sha512", "blake3"])]
    pub artifact_digest_algo: String,

    /// The max allowed size in bytes of a Helm repository index file.
    #[arg(long, value_name = "BYTES", default_value_t = 52_428_800)]
    pub helm_index_max_size: u64,

    /// The max allowed size in bytes of a Helm chart file.
    #[arg(long, value_name = "BYTES", default_value_t = 10_485_760)]
    pub helm_chart_max_size: u64,

    /// The max allowed size in bytes of a file in a Helm chart.
    #[arg(long, value_name = "BYTES", default_value_t = 5_242_880)]
    pub helm_chart_file_max_size: u64,

    /// The maximum size of the cache in number of indexes (0 disables the cache).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub helm_cache_max_size: u32,

    /// The TTL of an index in the cache.
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub helm_cache_ttl: GoDuration,

    /// The interval at which the cache is purged.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub helm_cache_purge_interval: GoDuration,

    /// The list of key exchange algorithms to use for ssh connections, arranged from most
    /// preferred to the least.
    #[arg(long, value_name = "ALGOS", value_delimiter = ',')]
    pub ssh_kex_algos: Vec<String>,

    /// The list of hostkey algorithms to use for ssh connections, arranged from most preferred
    /// to the least.
    #[arg(long, value_name = "ALGOS", value_delimiter = ',')]
    pub ssh_hostkey_algos: Vec<String>,
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
