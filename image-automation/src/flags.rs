//! Command-line flags of `image-automation-controller`, named and defaulted as in Flux.

use flux_runtime::flags::ControllerFlags;

/// Flags whose default differs from the common one (clap ids, see
/// `flux_runtime::flags::parse_or_exit`).
pub const DEFAULT_OVERRIDES: &[(&str, &str)] = &[];

/// Feature gates this controller knows, with their defaults.
pub const FEATURE_GATES: &[(&str, bool)] = &[
    ("CacheSecretsAndConfigMaps", false),
    ("GitAllBranchReferences", true),
    ("GitForcePushBranch", true),
    ("GitShallowClone", true),
    ("GitSparseCheckout", false),
    ("ObjectLevelWorkloadIdentity", false),
];

/// Flux's flags for image-automation-controller: the common controller flags plus its own.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "image-automation-controller",
    version,
    about = "flux-rs image-automation-controller"
)]
pub struct Flags {
    #[command(flatten)]
    pub common: ControllerFlags,

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
