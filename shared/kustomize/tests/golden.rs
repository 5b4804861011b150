//! Golden corpus: every case under tests/golden/<case>/in is built and compared byte for byte
//! with what `kubectl kustomize` printed (expected.yaml), or must fail when kubectl failed
//! (expected-error.txt).

use std::path::Path;

use flux_kustomize::{BuildOptions, build_to_yaml};

fn diff(expected: &str, actual: &str) -> String {
    let mut out = String::new();
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        let (el, al) = (e.get(i).copied(), a.get(i).copied());
        if el != al {
            out.push_str(&format!("line {}:\n  - {:?}\n  + {:?}\n", i + 1, el, al));
            if out.len() > 2000 {
                break;
            }
        }
    }
    out
}

#[test]
fn golden_cases_match_kubectl_kustomize_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("golden dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let result = build_to_yaml(&case.join("in"), &BuildOptions::default());
        if let Ok(expected) = std::fs::read_to_string(case.join("expected.yaml")) {
            match result {
                Ok(actual) if actual == expected => {}
                Ok(actual) => failures.push(format!(
                    "{name}: output differs\n{}",
                    diff(&expected, &actual)
                )),
                Err(e) => failures.push(format!("{name}: unexpected error: {e}")),
            }
        } else {
            // Error cases: kubectl's message and ours must share the phrase in meaning.txt.
            let want = std::fs::read_to_string(case.join("expected-error.txt")).unwrap_or_default();
            let meaning = std::fs::read_to_string(case.join("meaning.txt")).unwrap_or_default();
            let meaning = meaning.trim().to_lowercase();
            match result {
                Ok(out) => failures.push(format!("{name}: expected an error like {want:?}, got output:\n{out}")),
                Err(e) if meaning.is_empty() || !want.to_lowercase().contains(&meaning) => failures.push(format!(
                    "{name}: meaning.txt {meaning:?} missing or not in kubectl's error {want:?} (ours: {e})"
                )),
                Err(e) if !e.to_string().to_lowercase().contains(&meaning) => {
                    failures.push(format!("{name}: error {e} does not say {meaning:?} like kubectl's {want:?}"))
                }
                Err(_) => {}
            }
        }
    }
    assert!(cases.len() >= 10, "golden corpus is missing");
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
