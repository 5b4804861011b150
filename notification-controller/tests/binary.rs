//! The `notification-controller` binary as a real process: endpoints, signals, flag errors.

use flux_runtime::testkit::{BinarySpec, check_controller_binary, run_to_exit};
use notification_controller::flags::Flags;

const BIN: &str = env!("CARGO_BIN_EXE_notification-controller");

#[test]
fn behaves_like_a_flux_controller_binary() {
    check_controller_binary(&BinarySpec {
        bin: BIN,
        name: "notification-controller",
        args: &["--receiverAddr=127.0.0.1:0"],
        env: &[],
        bad_duration: ("--rate-limit-interval=5", "missing unit"),
    });
}

#[test]
fn notification_flags_default_as_in_flux() {
    let f = Flags::try_parse_from(["notification-controller"]).unwrap();
    assert_eq!(f.events_listen_addr().unwrap().to_string(), ":9090");
    assert_eq!(f.receiver_addr.to_string(), ":9292");
    assert_eq!(f.rate_limit_interval.to_string(), "5m0s");
    assert_eq!(f.common.token_cache.max_size, 0);
    let kebab =
        Flags::try_parse_from(["notification-controller", "--receiver-addr=:9393"]).unwrap();
    assert_eq!(kebab.receiver_addr.to_string(), ":9393");
}

#[test]
fn events_addr_must_be_a_listen_address() {
    let out = run_to_exit(BIN, &["--events-addr=http://notification-controller/"]).unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("--events-addr"), "{}", out.stderr);
}
