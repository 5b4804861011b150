//! Command-line flags of `notification-controller`, named and defaulted as in Flux.

use flux_runtime::flags::{ControllerFlags, GoDuration, ListenAddr};

/// Flags whose default differs from the common one (clap ids, see
/// `flux_runtime::flags::parse_or_exit`).
pub const DEFAULT_OVERRIDES: &[(&str, &str)] = &[("events_addr", ":9090"), ("max_size", "0")];

/// Feature gates this controller knows, with their defaults.
pub const FEATURE_GATES: &[(&str, bool)] = &[
    ("CacheSecretsAndConfigMaps", false),
    ("ObjectLevelWorkloadIdentity", false),
];

/// Flux's flags for notification-controller: the common controller flags plus its own.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "notification-controller",
    version,
    about = "flux-rs notification-controller"
)]
pub struct Flags {
    #[command(flatten)]
    pub common: ControllerFlags,

    /// The address the webhook receiver endpoint binds to.
    #[arg(
        long = "receiverAddr",
        alias = "receiver-addr",
        value_name = "ADDR",
        default_value = ":9292"
    )]
    pub receiver_addr: ListenAddr,

    /// Interval in which rate limit has effect.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub rate_limit_interval: GoDuration,
}

impl Flags {
    /// The event intake address: in notification-controller `--events-addr` is where events
    /// are received (default `:9090`), not where they are sent.
    pub fn events_listen_addr(&self) -> Result<ListenAddr, flux_runtime::flags::ValueError> {
        self.common.events_addr.parse()
    }
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
