//! The committed `manifests/` folder must equal what the code generates.

use std::path::Path;

use flux_cli::manifests::{InstallOptions, repository_files};

#[test]
fn committed_manifests_match_the_generator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests");
    let files = repository_files(&InstallOptions::all_components()).unwrap();
    let mut stale = Vec::new();
    for (rel, generated) in &files {
        match std::fs::read_to_string(root.join(rel)) {
            Ok(committed) if committed == *generated => {}
            Ok(_) => stale.push(format!("{rel} differs")),
            Err(e) => stale.push(format!("{rel}: {e}")),
        }
    }
    assert!(
        stale.is_empty(),
        "manifests/ is stale, run `cargo run -p xtask -- manifests`:\n{}",
        stale.join("\n")
    );
}
