//! Repository tasks. `cargo run -p xtask -- manifests` regenerates `manifests/` from the code
//! (the same generator `flux install --export` uses); `bench-startup [debug|release] [runs]`
//! prints each controller's start-up time and idle memory.

mod bench;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use flux_cli::manifests::{InstallOptions, repository_files};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("manifests") => match write_manifests(&repo_root().join("manifests")) {
            Ok(count) => {
                println!("wrote {count} files under manifests/");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("xtask manifests: {err}");
                ExitCode::from(1)
            }
        },
        Some("bench-startup") => {
            let profile = args.get(1).map(String::as_str).unwrap_or("release");
            let runs = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo_root().join("target"));
            match bench::startup(&target.join(profile), runs) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("xtask bench-startup: {err}");
                    ExitCode::from(1)
                }
            }
        }
        _ => {
            eprintln!(
                "usage: cargo run -p xtask -- manifests | bench-startup [debug|release] [runs]"
            );
            ExitCode::from(1)
        }
    }
}

fn repo_root() -> PathBuf {
    // xtask lives one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Writes every generated file.
fn write_manifests(dir: &Path) -> Result<usize, Box<dyn std::error::Error>> {
    let files = repository_files(&InstallOptions::all_components())?;
    for (rel, content) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)?;
    }
    Ok(files.len())
}
