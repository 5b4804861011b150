//! The `image-reflector-controller` binary as a real process: endpoints, signals, flag errors.

use flux_runtime::testkit::{BinarySpec, check_controller_binary};
use image_reflector_controller::flags::Flags;

#[test]
fn behaves_like_a_flux_controller_binary() {
    check_controller_binary(&BinarySpec {
        bin: env!("CARGO_BIN_EXE_image-reflector-controller"),
        name: "image-reflector-controller",
        args: &["--storage-path=/tmp/flux-rs-test-badger"],
        env: &[],
        bad_duration: ("--min-retry-delay=fast", "invalid duration"),
    });
}

#[test]
fn image_reflector_flags_default_as_in_flux() {
    let f = Flags::try_parse_from(["image-reflector-controller"]).unwrap();
    assert_eq!(f.storage_path, "/data");
    assert_eq!(f.storage_value_log_file_size, 268_435_456);
}
