//! The report `flux local run` prints: every Flux object with its readiness, revision, how many
//! objects it applied and why it failed, as a tree of who applied whom, or as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReport {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// "True", "False" or "Unknown".
    pub ready: String,
    pub reason: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Entries in `status.inventory` (Kustomizations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<usize>,
    /// `namespace/name` of the Kustomization that applied this object, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

impl ObjectReport {
    pub fn is_ready(&self) -> bool {
        self.ready == "True"
    }

    fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub succeeded: bool,
    pub timed_out: bool,
    pub elapsed_seconds: f64,
    pub objects: Vec<ObjectReport>,
}

impl Report {
    pub fn failures(&self) -> impl Iterator<Item = &ObjectReport> {
        self.objects.iter().filter(|o| !o.is_ready())
    }

    /// Human-readable tree: roots first, children indented under the Kustomization that
    /// applied them.
    pub fn to_text(&self) -> String {
        let mut children: BTreeMap<Option<String>, Vec<&ObjectReport>> = BTreeMap::new();
        for o in &self.objects {
            let parent = o
                .parent
                .clone()
                // The bootstrap Kustomization applies itself; it is still a root.
                .filter(|p| !(o.kind == "Kustomization" && *p == o.id()))
                .filter(|p| {
                    self.objects
                        .iter()
                        .any(|x| x.kind == "Kustomization" && x.id() == *p)
                });
            children.entry(parent).or_default().push(o);
        }
        let mut out = String::new();
        let mut stack: Vec<(usize, &ObjectReport)> = children
            .get(&None)
            .map(|v| v.iter().rev().map(|o| (0, *o)).collect())
            .unwrap_or_default();
        let mut seen = std::collections::BTreeSet::new();
        while let Some((depth, o)) = stack.pop() {
            if !seen.insert((o.kind.clone(), o.id())) {
                continue;
            }
            let mark = if o.is_ready() { "✔" } else { "✗" };
            let _ = write!(out, "{}{mark} {}/{}", "  ".repeat(depth), o.kind, o.id());
            if let Some(rev) = &o.revision {
                let _ = write!(out, "  {rev}");
            }
            if let Some(n) = o.applied {
                let _ = write!(out, "  ({n} object{})", if n == 1 { "" } else { "s" });
            }
            out.push('\n');
            if !o.is_ready() {
                let _ = writeln!(out, "{}  {}: {}", "  ".repeat(depth), o.reason, o.message);
            }
            if o.kind == "Kustomization"
                && let Some(kids) = children.get(&Some(o.id()))
            {
                for k in kids.iter().rev() {
                    stack.push((depth + 1, k));
                }
            }
        }
        let failed = self.failures().count();
        let _ = writeln!(
            out,
            "{} of {} Flux objects ready in {:.1}s{}",
            self.objects.len() - failed,
            self.objects.len(),
            self.elapsed_seconds,
            if self.timed_out { " (timed out)" } else { "" }
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(kind: &str, name: &str, ready: bool, parent: Option<&str>) -> ObjectReport {
        ObjectReport {
            kind: kind.into(),
            namespace: "flux-system".into(),
            name: name.into(),
            ready: if ready { "True" } else { "False" }.into(),
            reason: if ready {
                "ReconciliationSucceeded"
            } else {
                "HealthCheckFailed"
            }
            .into(),
            message: if ready {
                "Applied"
            } else {
                "timeout waiting for: [Deployment/apps/web]"
            }
            .into(),
            revision: Some("local@sha256:abc".into()),
            applied: (kind == "Kustomization").then_some(3),
            parent: parent.map(str::to_string),
        }
    }

    #[test]
    fn text_report_nests_children_and_explains_failures() {
        let report = Report {
            succeeded: false,
            timed_out: false,
            elapsed_seconds: 1.5,
            objects: vec![
                obj(
                    "Kustomization",
                    "flux-system",
                    true,
                    Some("flux-system/flux-system"),
                ),
                obj(
                    "GitRepository",
                    "flux-system",
                    true,
                    Some("flux-system/flux-system"),
                ),
                obj(
                    "Kustomization",
                    "apps",
                    false,
                    Some("flux-system/flux-system"),
                ),
            ],
        };
        let text = report.to_text();
        assert!(
            text.starts_with(
                "✔ Kustomization/flux-system/flux-system  local@sha256:abc  (3 objects)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  ✗ Kustomization/flux-system/apps"),
            "{text}"
        );
        assert!(
            text.contains("    HealthCheckFailed: timeout waiting for: [Deployment/apps/web]"),
            "{text}"
        );
        assert!(
            text.ends_with("2 of 3 Flux objects ready in 1.5s\n"),
            "{text}"
        );
    }
}
