//! Cluster RBAC: Flux's `crd-controller` ClusterRole shared by all controllers, the
//! `flux-edit`/`flux-view` roles aggregated into Kubernetes' admin/edit/view, one binding per
//! installed controller, and cluster-admin for the two that apply user manifests.

use serde_json::{Value, json};

use super::InstallOptions;
use super::components::ComponentSpec;

const FLUX_GROUPS: &[&str] = &[
    "notification.toolkit.fluxcd.io",
    "source.toolkit.fluxcd.io",
    "source.extensions.fluxcd.io",
    "helm.toolkit.fluxcd.io",
    "image.toolkit.fluxcd.io",
    "kustomize.toolkit.fluxcd.io",
];

/// A ClusterRole on every Flux group that Kubernetes aggregates into the listed built-in roles,
/// so a namespace `edit`or can manage Flux objects and a `view`er can read them.
fn aggregated(opts: &InstallOptions, name: &str, into: &[&str], verbs: &[&str]) -> Value {
    let mut labels = opts.labels();
    for role in into {
        labels.insert(
            format!("rbac.authorization.k8s.io/aggregate-to-{role}"),
            json!("true"),
        );
    }
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": { "labels": Value::Object(labels), "name": format!("{name}-{}", opts.namespace) },
        "rules": [{ "apiGroups": FLUX_GROUPS, "resources": ["*"], "verbs": verbs }],
    })
}

/// `crd-controller-<namespace>` (what every controller needs, Flux's manifests/rbac/controller.yaml)
/// and the aggregated `flux-edit-<namespace>` and `flux-view-<namespace>`.
pub fn cluster_roles(opts: &InstallOptions) -> Vec<Value> {
    let all = |group: &str| json!({ "apiGroups": [group], "resources": ["*"], "verbs": ["*"] });
    let edit = aggregated(
        opts,
        "flux-edit",
        &["admin", "edit"],
        &["create", "delete", "deletecollection", "patch", "update"],
    );
    let view = aggregated(
        opts,
        "flux-view",
        &["admin", "edit", "view"],
        &["get", "list", "watch"],
    );
    let crd_controller = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "labels": Value::Object(opts.labels()),
            "name": crd_controller(opts),
        },
        "rules": [
            all("source.toolkit.fluxcd.io"),
            all("kustomize.toolkit.fluxcd.io"),
            all("helm.toolkit.fluxcd.io"),
            all("notification.toolkit.fluxcd.io"),
            all("image.toolkit.fluxcd.io"),
            {
                "apiGroups": [""],
                "resources": ["namespaces", "secrets", "configmaps", "serviceaccounts"],
                "verbs": ["get", "list", "watch"],
            },
            { "apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"] },
            // Leader election.
            {
                "apiGroups": ["coordination.k8s.io"],
                "resources": ["leases"],
                "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
            },
            // Object-level workload identity.
            { "apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"] },
        ],
    });
    vec![crd_controller, edit, view]
}

fn crd_controller(opts: &InstallOptions) -> String {
    format!("crd-controller-{}", opts.namespace)
}

fn binding(opts: &InstallOptions, spec: &ComponentSpec, name: String, role: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "labels": Value::Object(opts.component_labels(spec.name)),
            "name": name,
        },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role },
        "subjects": [{ "kind": "ServiceAccount", "name": spec.name, "namespace": opts.namespace }],
    })
}

/// The bindings of one controller's ServiceAccount. Bound per controller (Flux binds all six
/// in one object) so that installing a subset grants nothing to absent service accounts.
pub fn bindings(opts: &InstallOptions, spec: &ComponentSpec) -> Vec<Value> {
    let mut out = vec![binding(
        opts,
        spec,
        format!("{}-{}", spec.name, opts.namespace),
        &crd_controller(opts),
    )];
    // kustomize-controller and helm-controller apply arbitrary user objects, as in Flux's
    // cluster-reconciler binding; tenants are restricted by impersonation, not by this role.
    if matches!(spec.name, "kustomize-controller" | "helm-controller") {
        out.push(binding(
            opts,
            spec,
            format!("cluster-reconciler-{}-{}", spec.name, opts.namespace),
            "cluster-admin",
        ));
    }
    out
}
