//! The default ClusterRoles kube-apiserver creates at start (`cluster-admin`, `admin`, `edit`,
//! `view`), so RoleBindings that reference them, as Flux's multi-tenancy setups do, grant
//! what they grant on a real cluster. Aggregation is not run: `admin`, `edit` and `view` list
//! the built-in API groups and Flux's, as Flux's aggregated `flux-edit`/`flux-view` add them.

use serde_json::{Value, json};

use crate::registry::GroupResource;
use crate::server::ServerState;
use crate::store::Change;

const WORKLOAD_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "autoscaling",
    "networking.k8s.io",
    "policy",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "source.toolkit.fluxcd.io",
    "kustomize.toolkit.fluxcd.io",
    "helm.toolkit.fluxcd.io",
    "notification.toolkit.fluxcd.io",
    "image.toolkit.fluxcd.io",
];

const READ: &[&str] = &["get", "list", "watch"];

fn roles() -> Vec<(&'static str, Value)> {
    let all = json!(["*"]);
    let edit = json!({"apiGroups": WORKLOAD_GROUPS, "resources": all, "verbs": all});
    let rbac = json!({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": all});
    vec![
        (
            "cluster-admin",
            json!([
                {"apiGroups": all, "resources": all, "verbs": all},
                {"nonResourceURLs": all, "verbs": all}
            ]),
        ),
        ("admin", json!([edit, rbac])),
        ("edit", json!([edit])),
        (
            "view",
            json!([{"apiGroups": WORKLOAD_GROUPS, "resources": ["*"], "verbs": READ}]),
        ),
    ]
}

pub(crate) fn seed(state: &ServerState) {
    let gr = GroupResource::new("rbac.authorization.k8s.io", "clusterroles");
    let Some(def) = state
        .registry
        .lookup("rbac.authorization.k8s.io", "v1", "clusterroles")
    else {
        return;
    };
    for (name, rules) in roles() {
        if state.store.get(&gr, "", name).is_some() {
            continue;
        }
        let body = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
            "rules": rules,
        });
        if let Ok(obj) = crate::objects::prepare_create(&def, "", body, false, false) {
            let _ = state
                .store
                .transact(&gr, "", name, false, |_| Ok(Change::Put(obj)));
        }
    }
}
