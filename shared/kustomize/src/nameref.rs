//! Name references: after prefixes, suffixes and hashes renamed resources, fields that name them
//! (volumes, envFrom, RBAC subjects and roleRefs, ...) are updated to the new names.

use std::collections::HashMap;

use crate::fieldspec::{FieldSpec, split_path, visit};
use crate::resource::{Resource, is_cluster_scoped};
use crate::yaml::Node;

/// Where a pod spec sits in each workload kind.
const POD_SPECS: &[(&str, &str)] = &[
    ("Pod", "spec"),
    ("Deployment", "spec/template/spec"),
    ("ReplicaSet", "spec/template/spec"),
    ("DaemonSet", "spec/template/spec"),
    ("StatefulSet", "spec/template/spec"),
    ("Job", "spec/template/spec"),
    ("ReplicationController", "spec/template/spec"),
    ("CronJob", "spec/jobTemplate/spec/template/spec"),
];

/// (referenced kind, referrer kind or None for pod specs, path).
fn rules() -> Vec<(&'static str, Option<&'static str>, String)> {
    let mut v: Vec<(&'static str, Option<&'static str>, String)> = Vec::new();
    let pod: &[(&str, &str)] = &[
        ("ConfigMap", "volumes/configMap/name"),
        ("ConfigMap", "volumes/projected/sources/configMap/name"),
        ("ConfigMap", "containers/env/valueFrom/configMapKeyRef/name"),
        (
            "ConfigMap",
            "initContainers/env/valueFrom/configMapKeyRef/name",
        ),
        ("ConfigMap", "containers/envFrom/configMapRef/name"),
        ("ConfigMap", "initContainers/envFrom/configMapRef/name"),
        ("Secret", "volumes/secret/secretName"),
        ("Secret", "volumes/projected/sources/secret/name"),
        ("Secret", "containers/env/valueFrom/secretKeyRef/name"),
        ("Secret", "initContainers/env/valueFrom/secretKeyRef/name"),
        ("Secret", "containers/envFrom/secretRef/name"),
        ("Secret", "initContainers/envFrom/secretRef/name"),
        ("Secret", "imagePullSecrets/name"),
        ("ServiceAccount", "serviceAccountName"),
        ("ServiceAccount", "serviceAccount"),
        (
            "PersistentVolumeClaim",
            "volumes/persistentVolumeClaim/claimName",
        ),
        ("PriorityClass", "priorityClassName"),
    ];
    for (kind, base) in POD_SPECS {
        for (target, path) in pod {
            v.push((target, Some(kind), format!("{base}/{path}")));
        }
    }
    v.push(("Service", Some("StatefulSet"), "spec/serviceName".into()));
    v.push((
        "Service",
        Some("Ingress"),
        "spec/rules/http/paths/backend/service/name".into(),
    ));
    v.push((
        "Service",
        Some("Ingress"),
        "spec/defaultBackend/service/name".into(),
    ));
    v.push((
        "Service",
        Some("Ingress"),
        "spec/rules/http/paths/backend/serviceName".into(),
    ));
    v.push(("Service", Some("APIService"), "spec/service/name".into()));
    v.push(("Secret", Some("Ingress"), "spec/tls/secretName".into()));
    v.push((
        "Secret",
        Some("ServiceAccount"),
        "imagePullSecrets/name".into(),
    ));
    v.push(("Secret", Some("ServiceAccount"), "secrets/name".into()));
    v.push((
        "PersistentVolumeClaim",
        Some("PersistentVolume"),
        "spec/claimRef/name".into(),
    ));
    for kind in [
        "Deployment",
        "StatefulSet",
        "ReplicaSet",
        "ReplicationController",
    ] {
        v.push((
            kind,
            Some("HorizontalPodAutoscaler"),
            "spec/scaleTargetRef/name".into(),
        ));
    }
    v
}

/// Updates every reference to a renamed resource.
/// `extra` holds (referenced kind, field spec) pairs from `configurations` files.
pub fn fix(resources: &mut [Resource], extra: &[(String, FieldSpec)]) {
    struct Target {
        name: String,
        ns: String,
        /// Every (name, namespace) the target had, the current one included.
        ids: Vec<(String, String)>,
    }
    let mut index: HashMap<(String, String), Vec<usize>> = HashMap::new();
    let mut targets: Vec<Target> = Vec::new();
    for r in resources.iter().filter(|r| !r.history.is_empty()) {
        let t = targets.len();
        let mut ids = r.history.clone();
        ids.push((r.name().to_string(), r.namespace().to_string()));
        targets.push(Target {
            name: r.name().to_string(),
            ns: r.namespace().to_string(),
            ids,
        });
        let mut names: Vec<&str> = r.history.iter().map(|(n, _)| n.as_str()).collect();
        names.push(r.name());
        names.sort_unstable();
        names.dedup();
        for n in names {
            index
                .entry((r.kind().to_string(), n.to_string()))
                .or_default()
                .push(t);
        }
    }
    if targets.is_empty() {
        return;
    }
    let mut rules: Vec<(&str, Option<&str>, Vec<String>)> = rules()
        .into_iter()
        .map(|(t, k, p)| {
            (
                t,
                k,
                split_path(&p).into_iter().map(str::to_string).collect(),
            )
        })
        .collect();
    for (target, fs) in extra {
        rules.push((
            target.as_str(),
            fs.kind.as_deref(),
            fs.segments().into_iter().map(str::to_string).collect(),
        ));
    }
    let default_ns = |s: &str| {
        if s.is_empty() {
            "default".to_string()
        } else {
            s.to_string()
        }
    };
    for r in resources.iter_mut() {
        let kind = r.kind().to_string();
        let ns = r.namespace().to_string();
        let cluster_referrer = is_cluster_scoped(&kind);
        // A RoleBinding also sees the ServiceAccounts of the namespaces its ServiceAccount
        // subjects name (kustomize's SubsetThatCouldBeReferencedByResource), which then match
        // subjects that name no namespace as well.
        let subject_namespaces: Vec<String> = if kind == "RoleBinding" {
            r.node
                .get("subjects")
                .and_then(Node::as_seq)
                .into_iter()
                .flatten()
                .filter(|s| s.get_str("kind") == Some("ServiceAccount"))
                .filter_map(|s| s.get_str("namespace").map(str::to_string))
                .collect()
        } else {
            Vec::new()
        };
        let find =
            |target_kind: &str, old: &str, ref_ns: Option<&str>| -> Option<(String, String)> {
                let cands = index.get(&(target_kind.to_string(), old.to_string()))?;
                cands
                    .iter()
                    .map(|&i| &targets[i])
                    .find(|t| {
                        // A namespaced referrer only sees targets in its own namespace; a subject
                        // that names a namespace must name one the target had with that name.
                        let same_ns = cluster_referrer
                            || is_cluster_scoped(target_kind)
                            || default_ns(&t.ns) == default_ns(&ns)
                            || (target_kind == "ServiceAccount"
                                && subject_namespaces.contains(&t.ns));
                        match ref_ns {
                            // `default` only names a target that started there.
                            Some("default") => {
                                same_ns
                                    && t.ids
                                        .first()
                                        .is_some_and(|(_, s)| default_ns(s) == "default")
                            }
                            Some(want) if !want.is_empty() => {
                                same_ns
                                    && t.ids
                                        .iter()
                                        .any(|(n, s)| n == old && default_ns(s) == default_ns(want))
                            }
                            _ => same_ns,
                        }
                    })
                    .map(|t| (t.name.clone(), t.ns.clone()))
            };
        for (target_kind, referrer, segs) in &rules {
            if referrer.is_some_and(|k| k != kind) {
                continue;
            }
            let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
            visit(&mut r.node, &segs, false, &mut |n| {
                if let Node::Str(old) = n
                    && let Some((new, _)) = find(target_kind, old, None)
                {
                    *n = Node::Str(new);
                }
            });
        }
        if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
            if let Some(role_ref) = r.node.get_mut("roleRef") {
                let rk = role_ref.get_str("kind").unwrap_or("").to_string();
                if let Some(Node::Str(old)) = role_ref.get("name").cloned()
                    && let Some((new, _)) = find(&rk, &old, None)
                    && let Some(m) = role_ref.as_map_mut()
                {
                    m.insert("name".into(), Node::Str(new));
                }
            }
            if let Some(subjects) = r.node.get_mut("subjects").and_then(Node::as_seq_mut) {
                for s in subjects {
                    if s.get_str("kind") != Some("ServiceAccount") {
                        continue;
                    }
                    let old = s.get_str("name").unwrap_or("").to_string();
                    let sns = s.get_str("namespace").unwrap_or("").to_string();
                    if let Some((new, new_ns)) = find("ServiceAccount", &old, Some(&sns))
                        && let Some(m) = s.as_map_mut()
                    {
                        m.insert("name".into(), Node::Str(new));
                        if !new_ns.is_empty() {
                            m.insert("namespace".into(), Node::Str(new_ns));
                        }
                    }
                }
            }
        }
    }
}
