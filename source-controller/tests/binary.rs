//! The `source-controller` binary as a real process: endpoints, signals, flag errors.

use flux_runtime::testkit::{RunningController, SIGINT, free_port, http_get, run_to_exit};
use source_controller::flags::Flags;

const BIN: &str = env!("CARGO_BIN_EXE_source-controller");

#[test]
fn serves_health_readiness_and_openmetrics_then_exits_zero_on_sigterm() {
    let args: Vec<String> = ["--storage-path=/tmp/flux-rs-test-storage", "--concurrent=3"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let ctl = RunningController::start(BIN, &args).unwrap();

    let (status, _) = http_get(ctl.health, "/healthz").unwrap();
    assert_eq!(status, 200);
    let (status, _) = http_get(ctl.health, "/readyz").unwrap();
    assert_eq!(status, 200);

    let (status, body) = http_get(ctl.metrics, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(
        body.to_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{body}"
    );
    assert!(
        body.contains("# TYPE gotk_reconcile_duration_seconds histogram"),
        "{body}"
    );
    assert!(body.trim_end().ends_with("# EOF"), "{body}");
    assert!(body.contains("process_resident_memory_bytes "), "{body}");

    let (status, stderr) = ctl.terminate().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(r#""msg":"starting manager""#), "{stderr}");
    assert!(
        stderr.contains(r#""controller":"source-controller""#),
        "{stderr}"
    );
    assert!(stderr.contains(r#""signal":"SIGTERM""#), "{stderr}");
}

#[test]
fn unknown_flag_exits_one_naming_the_flag() {
    let out = run_to_exit(BIN, &["--no-such-flag"]).unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("--no-such-flag"), "{}", out.stderr);
}

#[test]
fn bad_duration_exits_one_with_a_clear_message() {
    let out = run_to_exit(BIN, &["--artifact-retention-ttl=5d"]).unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("unknown unit"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn unsupported_feature_gate_exits_one() {
    let out = run_to_exit(
        BIN,
        &[
            "--feature-gates=NoSuchGate=true",
            "--health-addr=127.0.0.1:0",
            "--metrics-addr=0",
        ],
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("feature-gate 'NoSuchGate' not supported"),
        "{}",
        out.stderr
    );
}

#[test]
fn help_exits_zero_and_lists_flux_flags() {
    let out = run_to_exit(BIN, &["--help"]).unwrap();
    assert_eq!(out.status.code(), Some(0));
    for flag in [
        "--metrics-addr",
        "--health-addr",
        "--enable-leader-election",
        "--log-level",
        "--watch-all-namespaces",
    ] {
        assert!(
            out.stdout.contains(flag),
            "{flag} missing from help:\n{}",
            out.stdout
        );
    }
}

#[test]
fn source_flags_default_as_in_flux() {
    let f = Flags::try_parse_from(["source-controller"]).unwrap();
    assert_eq!(f.common.concurrent, 2);
    assert_eq!(f.storage_addr.to_string(), ":9090");
    assert_eq!(f.artifact_retention_ttl.to_string(), "1m0s");
    assert_eq!(f.artifact_retention_records, 2);
    assert_eq!(f.helm_index_max_size, 52_428_800);
    assert_eq!(f.helm_chart_max_size, 10_485_760);
}

#[test]
fn sigint_also_stops_cleanly_with_exit_zero() {
    let ctl = RunningController::start(BIN, &[]).unwrap();
    let (status, stderr) = ctl.stop_with(SIGINT).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(r#""signal":"SIGINT""#), "{stderr}");
}

#[test]
fn health_and_metrics_on_one_port_fail_to_bind_with_exit_one() {
    let port = free_port().unwrap();
    let addr = format!("127.0.0.1:{port}");
    let health = format!("--health-addr={addr}");
    let metrics = format!("--metrics-addr={addr}");
    let out = run_to_exit(BIN, &[&health, &metrics]).unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("unable to bind the metrics address"),
        "{}",
        out.stderr
    );
}
