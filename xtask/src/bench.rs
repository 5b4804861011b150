//! `cargo run -p xtask -- bench-startup`: time to healthy and idle memory of each controller
//! binary, printed as a table (no assertions; figures to compare across changes).

use std::path::Path;
use std::time::{Duration, Instant};

use flux_runtime::testkit::{RunningController, http_get};

const BINARIES: &[&str] = &[
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
    "image-reflector-controller",
    "image-automation-controller",
];

/// Resident set size of `pid` in KiB, from `/proc/<pid>/status`.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs each binary found under `target_dir` `runs` times and prints median figures.
pub fn startup(target_dir: &Path, runs: usize) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "{:<30} {:>14} {:>12} {:>14}",
        "binary", "to /healthz ms", "idle RSS MiB", "scrape ms"
    );
    for bin in BINARIES {
        let path = target_dir.join(bin);
        if !path.exists() {
            println!("{bin:<30} (not built: {})", path.display());
            continue;
        }
        let path = path.to_string_lossy().into_owned();
        let (mut starts, mut rss, mut scrapes) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let ctl = RunningController::start(&path, &[])?;
            starts.push(t.elapsed());
            // Let start-up allocations settle before reading the idle footprint.
            std::thread::sleep(Duration::from_millis(200));
            let t = Instant::now();
            http_get(ctl.metrics, "/metrics")?;
            scrapes.push(t.elapsed());
            rss.push(rss_kib(ctl.pid()).unwrap_or(0));
            ctl.terminate()?;
        }
        starts.sort();
        rss.sort();
        scrapes.sort();
        let mid = starts.len() / 2;
        println!(
            "{bin:<30} {:>14.1} {:>12.1} {:>14.2}",
            starts[mid].as_secs_f64() * 1e3,
            rss[mid] as f64 / 1024.0,
            scrapes[mid].as_secs_f64() * 1e3
        );
    }
    Ok(())
}
