//! `kbuild DIR`: prints what `kubectl kustomize DIR` prints (used by bench/run.sh).

use std::io::Write;
use std::path::Path;

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: kbuild DIR");
        std::process::exit(2);
    };
    match flux_kustomize::build_to_yaml(Path::new(&dir), &flux_kustomize::BuildOptions::default()) {
        Ok(out) => {
            let _ = std::io::stdout().write_all(out.as_bytes());
        }
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
    }
}
