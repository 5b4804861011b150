//! RBAC authorization, following the Kubernetes "Using RBAC Authorization" docs.

use flux_apimachinery::rbac::{
    Attributes, RbacSnapshot, authorize, forbidden_message, implied_groups,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use serde_json::json;

fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("valid RBAC object")
}

fn snapshot() -> RbacSnapshot {
    RbacSnapshot {
        roles: vec![from(json!({
            "metadata": {"name": "deployer", "namespace": "team-a"},
            "rules": [
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "create", "patch"]},
                {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"], "verbs": ["get", "update"]},
                {"apiGroups": ["apps"], "resources": ["deployments/status"], "verbs": ["patch"]}
            ]
        }))],
        cluster_roles: vec![
            from::<ClusterRole>(json!({
                "metadata": {"name": "view-all"},
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]
            })),
            from(json!({
                "metadata": {"name": "secret-reader"},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
            })),
            from(json!({
                "metadata": {"name": "health"},
                "rules": [{"nonResourceURLs": ["/healthz", "/metrics/*"], "verbs": ["get"]}]
            })),
            from(json!({
                "metadata": {"name": "status-writer"},
                "rules": [{"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["update"]}]
            })),
        ],
        role_bindings: vec![
            from::<RoleBinding>(json!({
                "metadata": {"name": "flux-deployer", "namespace": "team-a"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
                "subjects": [{"kind": "ServiceAccount", "name": "flux"}]
            })),
            from(json!({
                "metadata": {"name": "read-secrets", "namespace": "team-a"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "secret-reader"},
                "subjects": [{"kind": "Group", "name": "system:serviceaccounts:team-a", "apiGroup": "rbac.authorization.k8s.io"}]
            })),
        ],
        cluster_role_bindings: vec![
            from::<ClusterRoleBinding>(json!({
                "metadata": {"name": "viewers"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view-all"},
                "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}]
            })),
            from(json!({
                "metadata": {"name": "health"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "health"},
                "subjects": [{"kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"}]
            })),
            from(json!({
                "metadata": {"name": "status"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "status-writer"},
                "subjects": [{"kind": "ServiceAccount", "name": "ctrl", "namespace": "flux-system"}]
            })),
        ],
    }
}

fn sa(namespace: &str, name: &str) -> Attributes {
    let user = format!("system:serviceaccount:{namespace}:{name}");
    Attributes {
        groups: implied_groups(&user),
        user,
        ..Attributes::default()
    }
}

fn request(
    mut who: Attributes,
    verb: &str,
    group: &str,
    resource: &str,
    ns: Option<&str>,
    name: Option<&str>,
) -> Attributes {
    who.verb = verb.into();
    who.api_group = group.into();
    who.resource = resource.into();
    who.namespace = ns.map(String::from);
    who.name = name.map(String::from);
    who
}

#[test]
fn service_account_is_allowed_by_role_binding_in_its_namespace_only() {
    let rbac = snapshot();
    let allowed = authorize(
        &request(
            sa("team-a", "flux"),
            "create",
            "apps",
            "deployments",
            Some("team-a"),
            None,
        ),
        &rbac,
    );
    assert!(allowed.allowed);
    assert_eq!(
        allowed.reason,
        r#"RBAC: allowed by RoleBinding "flux-deployer/team-a" of Role "deployer" to ServiceAccount "flux/team-a""#
    );
    let other_ns = request(
        sa("team-a", "flux"),
        "create",
        "apps",
        "deployments",
        Some("team-b"),
        Some("web"),
    );
    assert!(!authorize(&other_ns, &rbac).allowed);
    assert_eq!(
        forbidden_message(&other_ns),
        r#"deployments.apps "web" is forbidden: User "system:serviceaccount:team-a:flux" cannot create resource "deployments" in API group "apps" in the namespace "team-b""#
    );
    let other_sa = request(
        sa("team-b", "flux"),
        "create",
        "apps",
        "deployments",
        Some("team-a"),
        None,
    );
    assert!(!authorize(&other_sa, &rbac).allowed);
}

#[test]
fn verbs_not_in_the_rule_are_denied() {
    let rbac = snapshot();
    assert!(
        !authorize(
            &request(
                sa("team-a", "flux"),
                "delete",
                "apps",
                "deployments",
                Some("team-a"),
                Some("x")
            ),
            &rbac
        )
        .allowed
    );
}

#[test]
fn resource_names_restrict_to_named_objects() {
    let rbac = snapshot();
    let who = sa("team-a", "flux");
    assert!(
        authorize(
            &request(
                who.clone(),
                "get",
                "",
                "configmaps",
                Some("team-a"),
                Some("settings")
            ),
            &rbac
        )
        .allowed
    );
    assert!(
        !authorize(
            &request(
                who.clone(),
                "get",
                "",
                "configmaps",
                Some("team-a"),
                Some("other")
            ),
            &rbac
        )
        .allowed
    );
    assert!(
        !authorize(
            &request(who, "get", "", "configmaps", Some("team-a"), None),
            &rbac
        )
        .allowed
    );
}

#[test]
fn subresources_need_their_own_rule() {
    let rbac = snapshot();
    let mut status = request(
        sa("team-a", "flux"),
        "patch",
        "apps",
        "deployments",
        Some("team-a"),
        Some("web"),
    );
    status.subresource = "status".into();
    assert!(authorize(&status, &rbac).allowed);
    let mut scale = status.clone();
    scale.subresource = "scale".into();
    assert!(!authorize(&scale, &rbac).allowed);
    assert_eq!(
        forbidden_message(&scale),
        r#"deployments.apps "web" is forbidden: User "system:serviceaccount:team-a:flux" cannot patch resource "deployments/scale" in API group "apps" in the namespace "team-a""#
    );
}

#[test]
fn wildcard_subresource_rule_covers_every_status_endpoint() {
    let rbac = snapshot();
    let mut req = request(
        sa("flux-system", "ctrl"),
        "update",
        "kustomize.toolkit.fluxcd.io",
        "kustomizations",
        Some("x"),
        Some("k"),
    );
    req.subresource = "status".into();
    assert!(authorize(&req, &rbac).allowed);
    req.subresource.clear();
    assert!(!authorize(&req, &rbac).allowed);
}

#[test]
fn groups_of_service_accounts_are_matched() {
    let rbac = snapshot();
    assert!(
        authorize(
            &request(
                sa("team-a", "any"),
                "get",
                "",
                "secrets",
                Some("team-a"),
                Some("s")
            ),
            &rbac
        )
        .allowed
    );
    assert!(
        !authorize(
            &request(
                sa("team-b", "any"),
                "get",
                "",
                "secrets",
                Some("team-a"),
                Some("s")
            ),
            &rbac
        )
        .allowed
    );
    assert_eq!(
        implied_groups("system:serviceaccount:team-a:flux"),
        [
            "system:serviceaccounts",
            "system:serviceaccounts:team-a",
            "system:authenticated"
        ]
    );
}

#[test]
fn cluster_role_binding_with_wildcards_applies_everywhere() {
    let rbac = snapshot();
    let jane = Attributes {
        user: "jane".into(),
        groups: implied_groups("jane"),
        ..Attributes::default()
    };
    let d = authorize(
        &request(
            jane.clone(),
            "list",
            "source.toolkit.fluxcd.io",
            "gitrepositories",
            None,
            None,
        ),
        &rbac,
    );
    assert!(d.allowed);
    assert_eq!(
        d.reason,
        r#"RBAC: allowed by ClusterRoleBinding "viewers" of ClusterRole "view-all" to User "jane""#
    );
    let write = request(jane, "create", "", "namespaces", None, None);
    assert!(!authorize(&write, &rbac).allowed);
    assert_eq!(
        forbidden_message(&write),
        r#"namespaces is forbidden: User "jane" cannot create resource "namespaces" in API group "" at the cluster scope"#
    );
}

#[test]
fn non_resource_urls_match_exactly_or_by_prefix() {
    let rbac = snapshot();
    let mut req = Attributes {
        user: "bob".into(),
        groups: implied_groups("bob"),
        verb: "get".into(),
        non_resource_path: "/healthz".into(),
        ..Attributes::default()
    };
    assert!(authorize(&req, &rbac).allowed);
    req.non_resource_path = "/metrics/cadvisor".into();
    assert!(authorize(&req, &rbac).allowed);
    req.non_resource_path = "/version".into();
    assert!(!authorize(&req, &rbac).allowed);
    assert_eq!(
        forbidden_message(&req),
        r#"forbidden: User "bob" cannot get path "/version""#
    );
    req.groups.clear();
    req.non_resource_path = "/healthz".into();
    assert!(
        !authorize(&req, &rbac).allowed,
        "only authenticated users are bound"
    );
}

#[test]
fn system_masters_are_always_allowed_and_no_bindings_deny() {
    let admin = Attributes {
        user: "admin".into(),
        groups: vec!["system:masters".into()],
        verb: "delete".into(),
        resource: "nodes".into(),
        ..Attributes::default()
    };
    assert!(authorize(&admin, &RbacSnapshot::default()).allowed);
    let nobody = Attributes {
        user: "x".into(),
        verb: "get".into(),
        resource: "pods".into(),
        namespace: Some("a".into()),
        ..Attributes::default()
    };
    assert!(!authorize(&nobody, &snapshot()).allowed);
}

#[test]
fn role_binding_to_a_missing_role_grants_nothing() {
    let mut rbac = snapshot();
    rbac.roles.clear();
    assert!(
        !authorize(
            &request(
                sa("team-a", "flux"),
                "get",
                "apps",
                "deployments",
                Some("team-a"),
                None
            ),
            &rbac
        )
        .allowed
    );
}

#[test]
fn aggregated_cluster_role_includes_rules_of_selected_roles() {
    let rbac = RbacSnapshot {
        cluster_roles: vec![
            from(json!({
                "metadata": {"name": "edit"},
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}]},
                "rules": []
            })),
            from(json!({
                "metadata": {"name": "flux-edit-flux-system", "labels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}},
                "rules": [{"apiGroups": ["kustomize.toolkit.fluxcd.io"], "resources": ["kustomizations"], "verbs": ["patch"]}]
            })),
            from(json!({
                "metadata": {"name": "unrelated"},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
            })),
        ],
        role_bindings: vec![from(json!({
            "metadata": {"name": "dev-edit", "namespace": "apps"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "User", "name": "dev", "apiGroup": "rbac.authorization.k8s.io"}]
        }))],
        ..RbacSnapshot::default()
    };
    let dev = Attributes {
        user: "dev".into(),
        groups: implied_groups("dev"),
        ..Attributes::default()
    };
    assert!(
        authorize(
            &request(
                dev.clone(),
                "patch",
                "kustomize.toolkit.fluxcd.io",
                "kustomizations",
                Some("apps"),
                Some("k")
            ),
            &rbac
        )
        .allowed
    );
    assert!(
        !authorize(
            &request(dev, "get", "", "secrets", Some("apps"), Some("s")),
            &rbac
        )
        .allowed
    );
}
