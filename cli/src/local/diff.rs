//! `flux local diff`: a unified diff, object by object, of what a cluster path produces at a
//! git ref and in the work tree. Secret values are masked, as `flux diff` masks them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

const CONTEXT: usize = 3;

fn key(obj: &Value) -> String {
    let text = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let ns = text("/metadata/namespace");
    let scope = if ns.is_empty() {
        String::new()
    } else {
        format!("{ns}/")
    };
    format!("{}/{scope}{}", text("/kind"), text("/metadata/name"))
}

fn is_secret(obj: &Value) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("Secret")
        && obj.get("apiVersion").and_then(Value::as_str) == Some("v1")
}

/// Replaces Secret values with `***`, or `*** (before)` / `*** (after)` where they differ, so
/// a change is visible without the value.
fn mask(obj: &Value, other: Option<&Value>, side: &str) -> Value {
    let mut obj = obj.clone();
    if !is_secret(&obj) {
        return obj;
    }
    for field in ["data", "stringData"] {
        let theirs = other.and_then(|o| o.get(field)).cloned();
        if let Some(map) = obj.get_mut(field).and_then(Value::as_object_mut) {
            for (k, v) in map.iter_mut() {
                let same = theirs.as_ref().and_then(|t| t.get(k)) == Some(&*v);
                *v = Value::String(if same {
                    "***".into()
                } else {
                    format!("*** ({side})")
                });
            }
        }
    }
    obj
}

/// A Secret with every value replaced by `***` (other objects unchanged).
pub fn mask_secret(obj: &Value) -> Value {
    mask(obj, Some(obj), "")
}

fn yaml_lines(obj: Option<&Value>) -> Vec<String> {
    obj.map(|o| {
        serde_yaml::to_string(o)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// The diff of `before` (at `base`) and `after` (the work tree); empty when nothing changed.
pub fn diff_objects(before: &[Value], after: &[Value], base: &str) -> String {
    let index = |objs: &[Value]| -> BTreeMap<String, Value> {
        objs.iter().map(|o| (key(o), o.clone())).collect()
    };
    let (old, new) = (index(before), index(after));
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = String::new();
    for k in keys {
        let (a, b) = (old.get(k), new.get(k));
        if a == b {
            continue;
        }
        let a_masked = a.map(|a| mask(a, b, "before"));
        let b_masked = b.map(|b| mask(b, a, "after"));
        let (from, to) = (yaml_lines(a_masked.as_ref()), yaml_lines(b_masked.as_ref()));
        let _ = writeln!(
            out,
            "--- {}",
            if a.is_some() {
                format!("{k} ({base})")
            } else {
                "/dev/null".into()
            }
        );
        let _ = writeln!(
            out,
            "+++ {}",
            if b.is_some() {
                format!("{k} (work tree)")
            } else {
                "/dev/null".into()
            }
        );
        out.push_str(&unified(&from, &to));
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Same,
    Del,
    Add,
}

/// Line edit script by longest common subsequence (objects are small).
fn edit_script(a: &[String], b: &[String]) -> Vec<(Op, usize, usize)> {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut ops) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((Op::Same, i, j));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push((Op::Del, i, j));
            i += 1;
        } else {
            ops.push((Op::Add, i, j));
            j += 1;
        }
    }
    ops
}

fn unified(a: &[String], b: &[String]) -> String {
    let ops = edit_script(a, b);
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| op.0 != Op::Same)
        .map(|(i, _)| i)
        .collect();
    let mut out = String::new();
    let mut start = 0;
    while start < changed.len() {
        // Group changes whose context windows touch into one hunk.
        let mut end = start;
        while end + 1 < changed.len() && changed[end + 1] - changed[end] <= 2 * CONTEXT {
            end += 1;
        }
        let lo = changed[start].saturating_sub(CONTEXT);
        let hi = (changed[end] + CONTEXT + 1).min(ops.len());
        let hunk = &ops[lo..hi];
        let a_len = hunk.iter().filter(|o| o.0 != Op::Add).count();
        let b_len = hunk.iter().filter(|o| o.0 != Op::Del).count();
        let a_start = hunk[0].1 + usize::from(a_len > 0);
        let b_start = hunk[0].2 + usize::from(b_len > 0);
        let _ = writeln!(out, "@@ -{a_start},{a_len} +{b_start},{b_len} @@");
        for (op, i, j) in hunk {
            let _ = match op {
                Op::Same => writeln!(out, " {}", a[*i]),
                Op::Del => writeln!(out, "-{}", a[*i]),
                Op::Add => writeln!(out, "+{}", b[*j]),
            };
        }
        start = end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(name: &str, value: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "apps"}, "data": {"k": value}})
    }

    #[test]
    fn unchanged_objects_give_an_empty_diff() {
        assert_eq!(diff_objects(&[cm("a", "1")], &[cm("a", "1")], "main"), "");
    }

    #[test]
    fn changes_additions_and_removals_are_shown_per_object() {
        let diff = diff_objects(
            &[cm("a", "1"), cm("gone", "x")],
            &[cm("a", "2"), cm("new", "y")],
            "main",
        );
        assert!(
            diff.contains("--- ConfigMap/apps/a (main)\n+++ ConfigMap/apps/a (work tree)\n"),
            "{diff}"
        );
        assert!(diff.contains("-  k: '1'\n+  k: '2'\n"), "{diff}");
        assert!(
            diff.contains("--- ConfigMap/apps/gone (main)\n+++ /dev/null\n"),
            "{diff}"
        );
        assert!(
            diff.contains("--- /dev/null\n+++ ConfigMap/apps/new (work tree)\n"),
            "{diff}"
        );
    }

    #[test]
    fn secret_values_never_appear() {
        let secret = |v: &str| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": v, "user": "YWRtaW4="}});
        let diff = diff_objects(&[secret("b2xk")], &[secret("bmV3")], "main");
        assert!(
            !diff.contains("b2xk") && !diff.contains("bmV3") && !diff.contains("YWRtaW4="),
            "{diff}"
        );
        assert!(
            diff.contains("-  password: '*** (before)'\n+  password: '*** (after)'\n"),
            "{diff}"
        );
        assert!(diff.contains("   user: '***'\n"), "{diff}");
    }
}
