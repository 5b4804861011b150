//! Built-in transformers: namespace, name prefix/suffix, labels, annotations, images, replicas.

use crate::fieldspec::{FieldSpec, visit};
use crate::resource::{Resource, is_cluster_scoped};
use crate::yaml::Node;

const WORKLOADS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "DaemonSet",
    "StatefulSet",
    "Job",
    "ReplicationController",
];

/// namespace: sets metadata.namespace on namespaced kinds, renames Namespace objects and
/// moves `default` ServiceAccount subjects of role bindings, as kustomize does.
pub fn namespace(resources: &mut [Resource], ns: &str) {
    for r in resources.iter_mut() {
        let kind = r.kind().to_string();
        if kind == "Namespace" {
            r.set_name(ns);
            continue;
        }
        if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
            let subjects = r.node.get_mut("subjects").and_then(Node::as_seq_mut);
            if let Some(subjects) = subjects {
                for s in subjects {
                    if s.get_str("kind") == Some("ServiceAccount")
                        && s.get_str("name") == Some("default")
                        && let Some(m) = s.as_map_mut()
                    {
                        m.insert("namespace".into(), Node::Str(ns.to_string()));
                    }
                }
            }
        }
        if matches!(
            kind.as_str(),
            "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration"
        ) {
            visit(
                &mut r.node,
                &["webhooks", "clientConfig", "service", "namespace"],
                false,
                &mut |n| *n = Node::Str(ns.to_string()),
            );
        }
        if kind == "APIService" {
            visit(
                &mut r.node,
                &["spec", "service", "namespace"],
                false,
                &mut |n| *n = Node::Str(ns.to_string()),
            );
        }
        if kind == "CustomResourceDefinition" {
            visit(
                &mut r.node,
                &[
                    "spec",
                    "conversion",
                    "webhook",
                    "clientConfig",
                    "service",
                    "namespace",
                ],
                false,
                &mut |n| *n = Node::Str(ns.to_string()),
            );
        }
        if !is_cluster_scoped(&kind) {
            r.set_namespace(ns);
        }
    }
}

/// namePrefix / nameSuffix on every resource but CustomResourceDefinitions and Namespaces.
pub fn prefix_suffix(resources: &mut [Resource], prefix: &str, suffix: &str) {
    for r in resources.iter_mut() {
        if matches!(r.kind(), "CustomResourceDefinition" | "Namespace") {
            continue;
        }
        let name = format!("{prefix}{}{suffix}", r.name());
        r.set_name(&name);
    }
}

fn spec(group: Option<&str>, kind: &str, path: &str, create: bool) -> FieldSpec {
    let mut f = FieldSpec::new(Some(kind), path, create);
    f.group = group.map(str::to_string);
    f
}

/// kustomize's default field specs for commonLabels (selectors included).
pub fn common_label_specs() -> Vec<FieldSpec> {
    let mut v = vec![
        FieldSpec::new(None, "metadata/labels", true),
        spec(None, "Service", "spec/selector", true),
        spec(None, "ReplicationController", "spec/selector", true),
        spec(
            None,
            "ReplicationController",
            "spec/template/metadata/labels",
            true,
        ),
    ];
    for kind in ["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"] {
        v.push(spec(None, kind, "spec/selector/matchLabels", true));
        v.push(spec(None, kind, "spec/template/metadata/labels", true));
    }
    for kind in ["Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"] {
        for aff in ["podAffinity", "podAntiAffinity"] {
            v.push(spec(
                None,
                kind,
                &format!("spec/template/spec/affinity/{aff}/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels"),
                false,
            ));
            v.push(spec(
                None,
                kind,
                &format!("spec/template/spec/affinity/{aff}/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels"),
                false,
            ));
        }
        v.push(spec(
            None,
            kind,
            "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
            false,
        ));
    }
    v.push(spec(
        None,
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ));
    v.push(spec(None, "Job", "spec/selector/matchLabels", false));
    v.push(spec(None, "Job", "spec/template/metadata/labels", true));
    v.push(spec(
        None,
        "CronJob",
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ));
    v.push(spec(
        None,
        "CronJob",
        "spec/jobTemplate/metadata/labels",
        true,
    ));
    v.push(spec(
        None,
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ));
    v.push(spec(
        None,
        "PodDisruptionBudget",
        "spec/selector/matchLabels",
        false,
    ));
    v.push(spec(
        None,
        "NetworkPolicy",
        "spec/podSelector/matchLabels",
        false,
    ));
    v.push(spec(
        None,
        "NetworkPolicy",
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ));
    v.push(spec(
        None,
        "NetworkPolicy",
        "spec/egress/to/podSelector/matchLabels",
        false,
    ));
    v
}

/// Field specs for `labels` with includeTemplates but not includeSelectors.
pub fn template_label_specs() -> Vec<FieldSpec> {
    let mut v = vec![spec(
        None,
        "ReplicationController",
        "spec/template/metadata/labels",
        true,
    )];
    for kind in WORKLOADS {
        v.push(spec(None, kind, "spec/template/metadata/labels", true));
    }
    v.push(spec(
        None,
        "CronJob",
        "spec/jobTemplate/metadata/labels",
        true,
    ));
    v.push(spec(
        None,
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ));
    v.push(spec(
        None,
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ));
    v
}

/// kustomize's default field specs for commonAnnotations.
pub fn annotation_specs() -> Vec<FieldSpec> {
    let mut v = vec![FieldSpec::new(None, "metadata/annotations", true)];
    for kind in WORKLOADS {
        v.push(spec(None, kind, "spec/template/metadata/annotations", true));
    }
    v.push(spec(
        None,
        "CronJob",
        "spec/jobTemplate/metadata/annotations",
        true,
    ));
    v.push(spec(
        None,
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ));
    v
}

/// Adds string pairs to the map at every field the specs reach.
pub fn add_pairs(resources: &mut [Resource], pairs: &[(String, String)], specs: &[FieldSpec]) {
    if pairs.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        for fs in specs {
            if !fs.applies_to(&r.node) {
                continue;
            }
            let segs = fs.segments();
            visit(&mut r.node, &segs, fs.create, &mut |n| {
                if n.is_null() {
                    *n = Node::new_map();
                }
                if let Some(m) = n.as_map_mut() {
                    for (k, v) in pairs {
                        m.insert(k.clone(), Node::Str(v.clone()));
                    }
                }
            });
        }
    }
}

/// One `images:` entry.
#[derive(Debug, Clone)]
pub struct ImageRule {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
}

/// Splits an image reference into its name and the `:tag` / `@digest` rest.
fn split_image(image: &str) -> (&str, &str) {
    let head = image.find('@').map(|at| &image[..at]).unwrap_or(image);
    let (name, _) = split_tag(head);
    (name, &image[name.len()..])
}

fn split_tag(image: &str) -> (&str, &str) {
    let slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[slash..].find(':') {
        Some(c) => (&image[..slash + c], &image[slash + c..]),
        None => (image, ""),
    }
}

fn update_image(image: &str, rules: &[ImageRule]) -> Option<String> {
    let (name, rest) = split_image(image);
    let rule = rules.iter().find(|r| r.name == name)?;
    let new_name = rule.new_name.as_deref().unwrap_or(name);
    let suffix = match (&rule.new_tag, &rule.digest) {
        (Some(t), Some(d)) => format!(":{t}@{d}"),
        (Some(t), None) => format!(":{t}"),
        (None, Some(d)) => format!("@{d}"),
        (None, None) => rest.to_string(),
    };
    Some(format!("{new_name}{suffix}"))
}

/// images: rewrites `image` of every container and init container anywhere in a resource.
pub fn images(resources: &mut [Resource], rules: &[ImageRule]) {
    if rules.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        walk_containers(&mut r.node, rules);
    }
}

fn walk_containers(node: &mut Node, rules: &[ImageRule]) {
    match node {
        Node::Map(m) => {
            for (k, v) in m.iter_mut() {
                if (k == "containers" || k == "initContainers" || k == "ephemeralContainers")
                    && let Node::Seq(items) = v
                {
                    for c in items.iter_mut() {
                        if let Some(Node::Str(img)) = c.get("image")
                            && let Some(new) = update_image(img, rules)
                            && let Some(cm) = c.as_map_mut()
                        {
                            cm.insert("image".into(), Node::Str(new));
                        }
                    }
                }
                walk_containers(v, rules);
            }
        }
        Node::Seq(items) => items.iter_mut().for_each(|i| walk_containers(i, rules)),
        _ => {}
    }
}

/// replicas: sets spec.replicas of the named workloads.
pub fn replicas(resources: &mut [Resource], name: &str, count: i64) -> Result<(), String> {
    let scalable = |k: &str| {
        matches!(
            k,
            "Deployment" | "ReplicaSet" | "StatefulSet" | "ReplicationController"
        )
    };
    let named: Vec<usize> = (0..resources.len())
        .filter(|&i| resources[i].had_name(name))
        .collect();
    if !named.iter().any(|&i| scalable(resources[i].kind())) {
        return Err(format!(
            "resource with name {name} does not match a config with the following GVK [Deployment.[noVer].[noGrp] StatefulSet.[noVer].[noGrp] ReplicaSet.[noVer].[noGrp] ReplicationController.[noVer].[noGrp]]"
        ));
    }
    for i in named {
        if scalable(resources[i].kind()) {
            visit(
                &mut resources[i].node,
                &["spec", "replicas"],
                true,
                &mut |n| *n = Node::Int(count),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        name: &str,
        new_name: Option<&str>,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> ImageRule {
        ImageRule {
            name: name.into(),
            new_name: new_name.map(Into::into),
            new_tag: tag.map(Into::into),
            digest: digest.map(Into::into),
        }
    }

    #[test]
    fn image_rules_replace_name_tag_and_digest() {
        let rules = [rule("nginx", Some("reg:5000/nginx"), Some("1.2"), None)];
        assert_eq!(
            update_image("nginx:1.0", &rules).as_deref(),
            Some("reg:5000/nginx:1.2")
        );
        let rules = [rule("reg:5000/app", None, None, Some("sha256:abc"))];
        assert_eq!(
            update_image("reg:5000/app:1", &rules).as_deref(),
            Some("reg:5000/app@sha256:abc")
        );
        assert_eq!(update_image("other:1", &rules), None);
    }
}
