//! Command-line flags of `image-reflector-controller`, named and defaulted as in Flux.

use flux_runtime::flags::ControllerFlags;

/// Flags whose default differs from the common one (clap ids, see
/// `flux_runtime::flags::parse_or_exit`).
pub const DEFAULT_OVERRIDES: &[(&str, &str)] = &[];

/// Feature gates this controller knows, with their defaults.
pub const FEATURE_GATES: &[(&str, bool)] = &[
    ("CacheSecretsAndConfigMaps", false),
    ("ObjectLevelWorkloadIdentity", false),
];

/// Flux's flags for image-reflector-controller: the common controller flags plus its own.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "image-reflector-controller",
    version,
    about = "flux-rs image-reflector-controller"
)]
pub struct Flags {
    #[command(flatten)]
    pub common: ControllerFlags,

    /// Where to store the persistent database of image metadata.
    #[arg(long, value_name = "PATH", default_value = "/data")]
    pub storage_path: String,

    /// Set the database's memory mapped value log file size in bytes. Effective memory usage
    /// is about two times this size.
    #[arg(long, value_name = "BYTES", default_value_t = 268_435_456)]
    pub storage_value_log_file_size: u64,
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
