//! Flux's common controller flags (fluxcd/pkg/runtime option groups) as clap derive structs.
//!
//! Each controller flattens [`ControllerFlags`] into its own `Parser` and adds its own flags.
//! Defaults that differ per controller (for example `--concurrent`, 2 in source-controller and
//! 4 elsewhere) are set at parse time with [`parse_or_exit`]'s `defaults` list, so help text
//! shows each binary's real default.

mod duration;
mod values;

pub use duration::{DurationError, GoDuration, parse_duration};
pub use values::{FeatureGates, ListenAddr, LogEncoding, LogLevel, ValueError, parse_go_bool};

use std::ffi::OsString;

use clap::{ArgAction, Args, Parser};

/// Flags every flux-rs controller accepts, named and defaulted as in Flux.
#[derive(Debug, Clone, Args)]
pub struct ControllerFlags {
    /// The address the metric endpoint binds to.
    #[arg(long, value_name = "ADDR", default_value = ":8080")]
    pub metrics_addr: ListenAddr,

    /// The address the health endpoint binds to.
    #[arg(long, value_name = "ADDR", default_value = ":9440")]
    pub health_addr: ListenAddr,

    /// The address of the events receiver.
    #[arg(long, value_name = "ADDR", default_value = "")]
    pub events_addr: String,

    /// The number of concurrent reconciles per controller.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrent: u32,

    /// The interval at which failing dependencies are reevaluated.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub requeue_dependency: GoDuration,

    /// Default service account used for impersonation.
    #[arg(long, value_name = "NAME", default_value = "")]
    pub default_service_account: String,

    #[command(flatten)]
    pub log: LogFlags,
    #[command(flatten)]
    pub leader_election: LeaderElectionFlags,
    #[command(flatten)]
    pub client: ClientFlags,
    #[command(flatten)]
    pub rate_limiter: RateLimiterFlags,
    #[command(flatten)]
    pub watch: WatchFlags,
    #[command(flatten)]
    pub acl: AclFlags,
    #[command(flatten)]
    pub features: FeatureGateFlags,
    #[command(flatten)]
    pub jitter: JitterFlags,
    #[command(flatten)]
    pub token_cache: TokenCacheFlags,
}

/// `--log-level` and `--log-encoding` (fluxcd/pkg/runtime/logger).
#[derive(Debug, Clone, Args)]
pub struct LogFlags {
    /// Log verbosity level.
    #[arg(long = "log-level", value_enum, default_value = "info")]
    pub level: LogLevel,

    /// Log encoding format.
    #[arg(long = "log-encoding", value_enum, default_value = "json")]
    pub encoding: LogEncoding,
}

/// Leader election (fluxcd/pkg/runtime/leaderelection).
#[derive(Debug, Clone, Args)]
pub struct LeaderElectionFlags {
    /// Enable leader election for controller manager. Enabling this will ensure there is only
    /// one active controller manager.
    #[arg(long = "enable-leader-election", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_value = "false", default_missing_value = "true",
          value_parser = parse_go_bool, action = ArgAction::Set)]
    pub enable: bool,

    /// Defines if the leader should step down voluntarily on controller manager shutdown.
    #[arg(long = "leader-election-release-on-cancel", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_value = "true", default_missing_value = "true",
          value_parser = parse_go_bool, action = ArgAction::Set)]
    pub release_on_cancel: bool,

    /// Interval at which non-leader candidates will wait to force acquire leadership.
    #[arg(
        long = "leader-election-lease-duration",
        value_name = "DURATION",
        default_value = "35s"
    )]
    pub lease_duration: GoDuration,

    /// Duration that the leading controller manager will retry refreshing leadership before
    /// giving up.
    #[arg(
        long = "leader-election-renew-deadline",
        value_name = "DURATION",
        default_value = "30s"
    )]
    pub renew_deadline: GoDuration,

    /// Duration the LeaderElector clients should wait between tries of actions.
    #[arg(
        long = "leader-election-retry-period",
        value_name = "DURATION",
        default_value = "5s"
    )]
    pub retry_period: GoDuration,
}

/// Kubernetes client throttling (fluxcd/pkg/runtime/client).
#[derive(Debug, Clone, Args)]
pub struct ClientFlags {
    /// The maximum queries-per-second of requests sent to the Kubernetes API.
    #[arg(long = "kube-api-qps", value_name = "QPS", default_value_t = 50.0)]
    pub qps: f32,

    /// The maximum burst queries-per-second of requests sent to the Kubernetes API.
    #[arg(long = "kube-api-burst", value_name = "N", default_value_t = 100)]
    pub burst: u32,
}

/// Retry back-off of failed reconciles (fluxcd/pkg/runtime/controller RateLimiterOptions).
#[derive(Debug, Clone, Args)]
pub struct RateLimiterFlags {
    /// The minimum amount of time for which an object being reconciled will have to wait
    /// before a retry.
    #[arg(
        long = "min-retry-delay",
        value_name = "DURATION",
        default_value = "750ms"
    )]
    pub min_retry_delay: GoDuration,

    /// The maximum amount of time for which an object being reconciled will have to wait
    /// before a retry.
    #[arg(
        long = "max-retry-delay",
        value_name = "DURATION",
        default_value = "15m"
    )]
    pub max_retry_delay: GoDuration,
}

/// Which objects a controller watches (fluxcd/pkg/runtime/controller WatchOptions).
#[derive(Debug, Clone, Args)]
pub struct WatchFlags {
    /// Watch for custom resources in all namespaces, if set to false it will only watch the
    /// runtime namespace.
    #[arg(long = "watch-all-namespaces", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_value = "true", default_missing_value = "true",
          value_parser = parse_go_bool, action = ArgAction::Set)]
    pub all_namespaces: bool,

    /// Watch for resources with matching labels e.g. 'sharding.fluxcd.io/key=shard1'.
    #[arg(
        long = "watch-label-selector",
        value_name = "SELECTOR",
        default_value = ""
    )]
    pub label_selector: String,

    /// Watch for ConfigMaps and Secrets with matching labels.
    #[arg(
        long = "watch-configs-label-selector",
        value_name = "SELECTOR",
        default_value = "reconcile.fluxcd.io/watch=Enabled"
    )]
    pub configs_label_selector: String,
}

/// Cross-namespace reference policy (fluxcd/pkg/runtime/acl).
#[derive(Debug, Clone, Args)]
pub struct AclFlags {
    /// When set to true, references between custom resources are allowed only if the
    /// reference and the referee are in the same namespace.
    #[arg(long = "no-cross-namespace-refs", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_value = "false", default_missing_value = "true",
          value_parser = parse_go_bool, action = ArgAction::Set)]
    pub no_cross_namespace_refs: bool,
}

/// `--feature-gates` (fluxcd/pkg/runtime/features).
#[derive(Debug, Clone, Args)]
pub struct FeatureGateFlags {
    /// A comma separated list of key=value pairs defining the state of experimental features.
    #[arg(
        long = "feature-gates",
        value_name = "NAME=BOOL,...",
        default_value = ""
    )]
    pub feature_gates: FeatureGates,
}

/// `--interval-jitter-percentage` (fluxcd/pkg/runtime/jitter).
#[derive(Debug, Clone, Args)]
pub struct JitterFlags {
    /// Percentage of jitter to apply to interval durations. A value of 10 will apply a jitter
    /// of +/-10% to the interval duration. It cannot be negative, and must be less than 100.
    #[arg(long = "interval-jitter-percentage", value_name = "PERCENT", default_value_t = 5,
          value_parser = clap::value_parser!(u8).range(0..100))]
    pub percentage: u8,
}

/// Cloud token cache (fluxcd/pkg/cache TokenFlags).
#[derive(Debug, Clone, Args)]
pub struct TokenCacheFlags {
    /// The maximum amount of entries in the LRU cache used for tokens (0 disables it).
    #[arg(long = "token-cache-max-size", value_name = "N", default_value_t = 100)]
    pub max_size: u32,

    /// The maximum duration for which a token would be considered unexpired. This is capped
    /// at 1h.
    #[arg(
        long = "token-cache-max-duration",
        value_name = "DURATION",
        default_value = "1h"
    )]
    pub max_duration: GoDuration,
}

/// Remote cluster kubeconfig policy (fluxcd/pkg/runtime/client KubeConfigOptions), used by
/// kustomize-controller and helm-controller.
#[derive(Debug, Clone, Args)]
pub struct KubeConfigFlags {
    /// Allow use of the user.exec section in kubeconfigs provided for remote apply.
    #[arg(long = "insecure-kubeconfig-exec", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_value = "false", default_missing_value = "true",
          value_parser = parse_go_bool, action = ArgAction::Set)]
    pub insecure_exec: bool,

    /// Allow that kubeconfigs provided for remote apply can disable TLS verification.
    #[arg(long = "insecure-kubeconfig-tls", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_value = "false", default_missing_value = "true",
          value_parser = parse_go_bool, action = ArgAction::Set)]
    pub insecure_tls: bool,
}

/// Parses `args` into `T`, first replacing the defaults of the named arguments (clap ids are
/// the field names, e.g. `concurrent`, `max_size`).
pub fn try_parse_from<T, I, S>(
    args: I,
    defaults: &[(&'static str, &'static str)],
) -> Result<T, clap::Error>
where
    T: Parser,
    I: IntoIterator<Item = S>,
    S: Into<OsString> + Clone,
{
    // pflag lets a later occurrence win (`--concurrent=4 ... --concurrent=10`); Flux installs
    // rely on it when patches append flags to the default args.
    let mut cmd = T::command().args_override_self(true);
    for (id, value) in defaults {
        cmd = cmd.mut_arg(*id, |arg| arg.default_value(*value));
    }
    let mut matches = cmd.try_get_matches_from_mut(args)?;
    T::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd))
}

/// Parses the process arguments into `T`. `--help` exits 0; any bad flag or value prints
/// clap's message to stderr and exits with code 1 (the code Flux's controllers use for a
/// failed start), never 2.
pub fn parse_or_exit<T: Parser>(defaults: &[(&'static str, &'static str)]) -> T {
    match try_parse_from::<T, _, _>(std::env::args_os(), defaults) {
        Ok(flags) => flags,
        Err(err) => {
            let code = if err.use_stderr() { 1 } else { 0 };
            // Printing can only fail when stdout/stderr are closed; the exit code still tells.
            let _ = err.print();
            std::process::exit(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[derive(Debug, Parser)]
    #[command(name = "test-controller")]
    struct TestFlags {
        #[command(flatten)]
        common: ControllerFlags,
        #[command(flatten)]
        kubeconfig: KubeConfigFlags,
    }

    fn parse(args: &[&str]) -> Result<TestFlags, clap::Error> {
        let argv = std::iter::once("test-controller").chain(args.iter().copied());
        try_parse_from(argv, &[])
    }

    #[test]
    fn defaults_match_flux() {
        let f = parse(&[]).unwrap().common;
        assert_eq!(f.metrics_addr.to_string(), ":8080");
        assert_eq!(f.health_addr.to_string(), ":9440");
        assert_eq!(f.events_addr, "");
        assert_eq!(f.concurrent, 4);
        assert_eq!(f.requeue_dependency.0, Duration::from_secs(30));
        assert!(f.watch.all_namespaces);
        assert_eq!(
            f.watch.configs_label_selector,
            "reconcile.fluxcd.io/watch=Enabled"
        );
        assert!(!f.leader_election.enable);
        assert!(f.leader_election.release_on_cancel);
        assert_eq!(f.leader_election.lease_duration.0, Duration::from_secs(35));
        assert_eq!(f.leader_election.renew_deadline.0, Duration::from_secs(30));
        assert_eq!(f.leader_election.retry_period.0, Duration::from_secs(5));
        assert_eq!(f.rate_limiter.min_retry_delay.0, Duration::from_millis(750));
        assert_eq!(f.rate_limiter.max_retry_delay.0, Duration::from_secs(900));
        assert_eq!(f.log.level, LogLevel::Info);
        assert_eq!(f.log.encoding, LogEncoding::Json);
        assert_eq!(f.client.qps, 50.0);
        assert_eq!(f.client.burst, 100);
        assert_eq!(f.jitter.percentage, 5);
        assert_eq!(f.token_cache.max_size, 100);
    }

    #[test]
    fn go_style_booleans_work_bare_and_with_values() {
        let f = parse(&["--enable-leader-election", "--watch-all-namespaces=false"]).unwrap();
        assert!(f.common.leader_election.enable);
        assert!(!f.common.watch.all_namespaces);
        let f = parse(&[
            "--no-cross-namespace-refs=true",
            "--insecure-kubeconfig-tls",
        ])
        .unwrap();
        assert!(f.common.acl.no_cross_namespace_refs);
        assert!(f.kubeconfig.insecure_tls);
        assert!(!f.kubeconfig.insecure_exec);
    }

    #[test]
    fn durations_and_levels_parse_from_flags() {
        let f = parse(&[
            "--requeue-dependency=1m30s",
            "--log-level=debug",
            "--log-encoding",
            "console",
        ])
        .unwrap()
        .common;
        assert_eq!(f.requeue_dependency.0, Duration::from_secs(90));
        assert_eq!(f.log.level, LogLevel::Debug);
        assert_eq!(f.log.encoding, LogEncoding::Console);
    }

    #[test]
    fn bad_duration_names_the_flag_and_the_problem() {
        let err = parse(&["--requeue-dependency=30"]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("--requeue-dependency"), "{msg}");
        assert!(msg.contains("missing unit"), "{msg}");
        assert!(err.use_stderr());
    }

    #[test]
    fn unknown_flag_and_bad_level_are_errors() {
        assert!(parse(&["--no-such-flag"]).is_err());
        assert!(parse(&["--log-level=warn"]).is_err());
        assert!(parse(&["--interval-jitter-percentage=100"]).is_err());
        assert!(parse(&["--concurrent=0"]).is_err());
        assert!(parse(&["--metrics-addr=8080"]).is_err());
    }

    #[test]
    fn per_controller_defaults_replace_the_common_ones() {
        let f: TestFlags =
            try_parse_from(["x"], &[("concurrent", "2"), ("max_size", "0")]).unwrap();
        assert_eq!(f.common.concurrent, 2);
        assert_eq!(f.common.token_cache.max_size, 0);
        let f: TestFlags = try_parse_from(["x", "--concurrent=7"], &[("concurrent", "2")]).unwrap();
        assert_eq!(f.common.concurrent, 7);
    }

    #[test]
    fn repeated_flags_take_the_last_value_like_pflag() {
        let f = parse(&[
            "--concurrent=4",
            "--watch-all-namespaces",
            "--concurrent=10",
            "--watch-all-namespaces=false",
            "--log-level=debug",
            "--log-level=error",
        ])
        .unwrap()
        .common;
        assert_eq!(f.concurrent, 10);
        assert!(!f.watch.all_namespaces);
        assert_eq!(f.log.level, LogLevel::Error);
    }

    #[test]
    fn feature_gates_flag_collects_pairs() {
        let f = parse(&["--feature-gates=OOMWatch=true,DetectDrift=false"]).unwrap();
        assert!(f.common.features.feature_gates.enabled("OOMWatch", false));
        assert!(!f.common.features.feature_gates.enabled("DetectDrift", true));
    }
}
