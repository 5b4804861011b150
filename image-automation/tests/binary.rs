//! The `image-automation-controller` binary as a real process: endpoints, signals, flag errors.

use flux_runtime::testkit::{BinarySpec, check_controller_binary};
use image_automation_controller::flags::Flags;

#[test]
fn behaves_like_a_flux_controller_binary() {
    check_controller_binary(&BinarySpec {
        bin: env!("CARGO_BIN_EXE_image-automation-controller"),
        name: "image-automation-controller",
        args: &["--ssh-kex-algos=curve25519-sha256,ecdh-sha2-nistp256"],
        env: &[],
        bad_duration: ("--max-retry-delay=1y", "unknown unit"),
    });
}

#[test]
fn image_automation_flags_default_as_in_flux() {
    let f = Flags::try_parse_from(["image-automation-controller", "--ssh-kex-algos=a,b"]).unwrap();
    assert_eq!(f.common.concurrent, 4);
    assert_eq!(f.ssh_kex_algos, ["a", "b"]);
}
