//! Splitting rendered templates into documents, separating hooks, and sorting in Helm's install
//! order (kind order, stable within a kind, unknown kinds last alphabetically).

use std::collections::BTreeMap;

use crate::error::Error;

/// Helm's `InstallOrder`.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The annotation marking a hook.
pub const HOOK_ANNOTATION: &str = "helm.sh/hook";
pub const HOOK_WEIGHT_ANNOTATION: &str = "helm.sh/hook-weight";
pub const HOOK_DELETE_ANNOTATION: &str = "helm.sh/hook-delete-policy";

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// A rendered document that is not a hook.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The template path, e.g. `chart/templates/x.yaml`.
    pub name: String,
    pub content: String,
    pub kind: String,
}

/// A hook: a document annotated with `helm.sh/hook`, kept as metadata for helm-controller.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub name: String,
    pub kind: String,
    pub path: String,
    pub manifest: String,
    pub events: Vec<String>,
    pub weight: i64,
    pub delete_policies: Vec<String>,
}

impl Hook {
    pub fn is_test(&self) -> bool {
        self.events
            .iter()
            .any(|e| e == "test" || e == "test-success")
    }
}

/// The hooks that run on `event`, in the order Helm runs them: by weight, then by name.
pub fn hooks_for_event<'a>(hooks: &'a [Hook], event: &str) -> Vec<&'a Hook> {
    let mut v: Vec<&Hook> = hooks
        .iter()
        .filter(|h| h.events.iter().any(|e| e == event))
        .collect();
    v.sort_by(|a, b| a.weight.cmp(&b.weight).then_with(|| a.name.cmp(&b.name)));
    v
}

/// Splits a YAML stream at `---` lines; each document keeps its trailing whitespace and loses
/// its leading whitespace, as Helm's template output shows.
pub fn split_manifests(big: &str) -> Vec<String> {
    let s = big.trim_start();
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut i = 0usize;
    let bytes = s.as_bytes();
    while i < bytes.len() {
        let at_line_start = i == 0 || bytes[i - 1] == b'\n';
        if at_line_start && s[i..].starts_with("---") {
            docs.push(&s[start..i]);
            let mut j = i + 3;
            while j < bytes.len() && (bytes[j] as char).is_ascii_whitespace() {
                j += 1;
            }
            start = j;
            i = j;
            continue;
        }
        i += 1;
    }
    docs.push(&s[start..]);
    docs.into_iter()
        .filter(|d| !d.is_empty())
        .map(|d| d.trim_start().to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct SimpleHead {
    kind: String,
    metadata: Option<HeadMeta>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct HeadMeta {
    name: String,
    annotations: Option<BTreeMap<String, String>>,
}

/// Sorts rendered files (path → content) into hooks and manifests, as Helm's `SortManifests`.
pub fn sort_manifests(
    files: &BTreeMap<String, String>,
) -> Result<(Vec<Hook>, Vec<Manifest>), Error> {
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || content.trim().is_empty() {
            continue;
        }
        for doc in split_manifests(content) {
            let head = parse_head(&doc).map_err(|message| Error::ManifestYaml {
                path: path.clone(),
                message,
            })?;
            let meta = head.metadata.unwrap_or_default();
            let annotations = meta.annotations.unwrap_or_default();
            let Some(hook_types) = annotations.get(HOOK_ANNOTATION) else {
                generic.push(Manifest {
                    name: path.clone(),
                    content: doc,
                    kind: head.kind,
                });
                continue;
            };
            let mut events = Vec::new();
            let mut unknown = false;
            for t in hook_types.split(',') {
                let t = t.trim().to_lowercase();
                if HOOK_EVENTS.contains(&t.as_str()) {
                    events.push(t);
                } else {
                    unknown = true;
                    break;
                }
            }
            if unknown {
                continue;
            }
            let weight = annotations
                .get(HOOK_WEIGHT_ANNOTATION)
                .and_then(|w| w.parse::<i64>().ok())
                .unwrap_or(0);
            let delete_policies = annotations
                .get(HOOK_DELETE_ANNOTATION)
                .map(|p| {
                    p.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            hooks.push(Hook {
                name: meta.name,
                kind: head.kind,
                path: path.clone(),
                manifest: doc,
                events,
                weight,
                delete_policies,
            });
        }
    }
    sort_by_kind(&mut generic, |m| &m.kind);
    sort_by_kind(&mut hooks, |h| &h.kind);
    Ok((hooks, generic))
}

fn parse_head(doc: &str) -> Result<SimpleHead, String> {
    let v = crate::yaml::parse_yaml_head(doc, &["kind", "metadata"])?;
    if v.is_null() {
        return Ok(SimpleHead::default());
    }
    let kind = match v.get("kind") {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => {
            return Err("error unmarshaling JSON: json: cannot unmarshal into Go struct field SimpleHead.kind of type string".into());
        }
    };
    let metadata = match v.get("metadata") {
        Some(serde_json::Value::Object(m)) => {
            let name = m
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or("")
                .to_string();
            let annotations = match m.get("annotations") {
                Some(serde_json::Value::Object(a)) => Some(
                    a.iter()
                        .map(|(k, v)| match v {
                            serde_json::Value::String(s) => Ok((k.clone(), s.clone())),
                            serde_json::Value::Null => Ok((k.clone(), String::new())),
                            _ => Err(format!(
                                "error unmarshaling JSON: json: cannot unmarshal {} into Go struct field .metadata.annotations of type string",
                                if v.is_number() { "number" } else if v.is_boolean() { "bool" } else { "object" }
                            )),
                        })
                        .collect::<Result<_, _>>()?,
                ),
                _ => None,
            };
            Some(HeadMeta { name, annotations })
        }
        _ => None,
    };
    Ok(SimpleHead { kind, metadata })
}

/// Stable sort by install order; unknown kinds go last, alphabetically among themselves.
pub fn sort_by_kind<T>(items: &mut [T], kind: impl Fn(&T) -> &str) {
    let rank = |k: &str| INSTALL_ORDER.iter().position(|o| *o == k);
    items.sort_by(|a, b| {
        let (ka, kb) = (kind(a), kind(b));
        match (rank(ka), rank(kb)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => ka.cmp(kb),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_trailing_whitespace_and_drops_empty_documents() {
        let docs = split_manifests("\n---\na: 1\n\n---\n\nb: 2\n---\n");
        assert_eq!(docs, vec!["a: 1\n\n".to_string(), "b: 2\n".to_string()]);
    }

    #[test]
    fn kinds_sort_in_install_order_unknown_last_alphabetically() {
        let mut kinds = vec![
            "Zeta",
            "Deployment",
            "Alpha",
            "Namespace",
            "Service",
            "Deployment",
        ];
        sort_by_kind(&mut kinds, |k| k);
        assert_eq!(
            kinds,
            vec![
                "Namespace",
                "Service",
                "Deployment",
                "Deployment",
                "Alpha",
                "Zeta"
            ]
        );
    }

    #[test]
    fn hooks_carry_events_weight_and_delete_policies() {
        let mut files = BTreeMap::new();
        files.insert(
            "c/templates/job.yaml".to_string(),
            "kind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install, post-upgrade\n    helm.sh/hook-weight: \"-5\"\n    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded\n".to_string(),
        );
        files.insert(
            "c/templates/cm.yaml".to_string(),
            "kind: ConfigMap\nmetadata:\n  name: x\n".to_string(),
        );
        let (hooks, manifests) = sort_manifests(&files).unwrap();
        assert_eq!(manifests.len(), 1);
        assert_eq!(hooks[0].events, vec!["pre-install", "post-upgrade"]);
        assert_eq!(hooks[0].weight, -5);
        assert_eq!(
            hooks[0].delete_policies,
            vec!["before-hook-creation", "hook-succeeded"]
        );
        assert!(!hooks[0].is_test());
    }

    #[test]
    fn hooks_for_an_event_run_by_weight_then_name() {
        let hook = |name: &str, weight: i64, events: &[&str]| Hook {
            name: name.into(),
            kind: "Job".into(),
            path: "c/templates/h.yaml".into(),
            manifest: String::new(),
            events: events.iter().map(|e| e.to_string()).collect(),
            weight,
            delete_policies: vec![],
        };
        let hooks = vec![
            hook("b", 0, &["pre-install"]),
            hook("a", 0, &["pre-install", "pre-upgrade"]),
            hook("z", -5, &["pre-install"]),
            hook("post", -10, &["post-install"]),
        ];
        let order: Vec<&str> = hooks_for_event(&hooks, "pre-install")
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        assert_eq!(order, vec!["z", "a", "b"]);
    }

    #[test]
    fn unknown_hook_events_drop_the_document() {
        let mut files = BTreeMap::new();
        files.insert(
            "c/templates/x.yaml".to_string(),
            "kind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: sometime\n".to_string(),
        );
        let (hooks, manifests) = sort_manifests(&files).unwrap();
        assert!(hooks.is_empty() && manifests.is_empty());
    }

    #[test]
    fn invalid_yaml_names_the_template() {
        let mut files = BTreeMap::new();
        files.insert(
            "c/templates/bad.yaml".to_string(),
            "a: b\ninvalid\n".to_string(),
        );
        let err = sort_manifests(&files).unwrap_err().to_string();
        assert!(
            err.starts_with("YAML parse error on c/templates/bad.yaml"),
            "{err}"
        );
    }
}
