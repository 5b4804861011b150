//! Parsing a large Helm repository index: time and peak memory of the lookup-only parse
//! (`helm_index::Index`) against a full YAML tree (`serde_yaml::Value`, what a DOM-based parser
//! holds), on a synthetic index shaped like a big public repository. Prints figures only.
//!
//! Run: `cargo bench -p source-controller --bench helm_index`

use std::time::Instant;

use source_controller::helm_index::Index;

/// An index with `charts` charts of `versions` versions each, with the descriptive fields real
/// indexes carry (description, maintainers, keywords, annotations, dependencies).
fn synthetic_index(charts: usize, versions: usize) -> String {
    let mut out = String::from("apiVersion: v1\nentries:\n");
    for c in 0..charts {
        out.push_str(&format!("  chart-{c}:\n"));
        for v in 0..versions {
            out.push_str(&format!(
                "  - apiVersion: v2\n    appVersion: {v}.0.0\n    created: \"2026-01-{:02}T10:00:00.000000Z\"\n    description: A Helm chart for deploying service {c}, with a fairly long description line as real charts have\n    digest: {:064x}\n    home: https://example.com/charts/chart-{c}\n    icon: https://example.com/icons/chart-{c}.png\n    keywords:\n    - web\n    - service\n    - chart-{c}\n    maintainers:\n    - email: team-{c}@example.com\n      name: Team {c}\n    annotations:\n      artifacthub.io/changes: |\n        - kind: fixed\n          description: bug fix number {v}\n    dependencies:\n    - name: common\n      repository: https://example.com/charts\n      version: 2.x.x\n    name: chart-{c}\n    sources:\n    - https://github.com/example/chart-{c}\n    urls:\n    - https://example.com/charts/chart-{c}-{v}.0.0.tgz\n    version: {v}.0.0\n",
                v % 28 + 1,
                c * 1000 + v
            ));
        }
    }
    out.push_str("generated: \"2026-01-01T00:00:00Z\"\n");
    out
}

/// Peak resident memory of this process in KiB (VmHWM), reset before each measurement.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn measure<T>(label: &str, f: impl FnOnce() -> T) -> (f64, u64) {
    reset_peak();
    let before = peak_kib();
    let start = Instant::now();
    let value = f();
    let secs = start.elapsed().as_secs_f64();
    let peak = peak_kib().saturating_sub(before);
    drop(value);
    println!(
        "{label:<28} {secs:>8.3} s   peak +{:>7.1} MiB",
        peak as f64 / 1024.0
    );
    (secs, peak)
}

fn main() {
    let text = synthetic_index(1000, 30);
    let bytes = text.as_bytes();
    println!(
        "index: {:.1} MiB, 1000 charts x 30 versions",
        bytes.len() as f64 / (1024.0 * 1024.0)
    );
    let (ours_t, ours_m) = measure("lookup-only parse (ours)", || {
        let index = Index::parse(bytes).expect("index");
        let hit = index
            .get("chart-999", ">=10.0.0 <20.0.0")
            .map(|v| v.version.clone());
        assert_eq!(hit.ok().as_deref(), Some("19.0.0"));
        index
    });
    let (dom_t, dom_m) = measure("full YAML tree (serde_yaml)", || {
        serde_yaml::from_slice::<serde_yaml::Value>(bytes).expect("yaml")
    });
    println!(
        "ratio tree/ours: time {:.2}x, peak memory {:.2}x",
        dom_t / ours_t.max(1e-9),
        dom_m as f64 / (ours_m.max(1)) as f64
    );
}
