//! RBAC authorization over Role/ClusterRole/RoleBinding/ClusterRoleBinding objects, with the
//! rule matching of Kubernetes' RBAC authorizer and the API server's Forbidden wording.
//!
//! Aggregated ClusterRoles get the rules of the ClusterRoles they select, as the API server's
//! aggregation controller would write them.

use crate::selectors::LabelSelector;
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

/// The request being authorized (`authorizer.Attributes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// The user name, e.g. `system:serviceaccount:team-a:flux`.
    pub user: String,
    /// The user's groups.
    pub groups: Vec<String>,
    /// The verb (get, list, watch, create, update, patch, delete, deletecollection, ...).
    pub verb: String,
    /// The API group ("" for core).
    pub api_group: String,
    /// The resource (plural).
    pub resource: String,
    /// The subresource, e.g. `status`; empty for none.
    pub subresource: String,
    /// The namespace for namespaced requests.
    pub namespace: Option<String>,
    /// The object name, when the request names one.
    pub name: Option<String>,
    /// For non-resource requests, the URL path (e.g. `/healthz`); empty otherwise.
    pub non_resource_path: String,
}

impl Attributes {
    /// Whether this is a request for an API resource rather than a plain URL path.
    pub fn is_resource_request(&self) -> bool {
        self.non_resource_path.is_empty()
    }
}

/// The groups the API server's authenticators give `user`: service accounts get
/// `system:serviceaccounts` and `system:serviceaccounts:<namespace>`, and everyone who is
/// not anonymous gets `system:authenticated`.
pub fn implied_groups(user: &str) -> Vec<String> {
    if user == "system:anonymous" {
        return vec!["system:unauthenticated".into()];
    }
    let mut groups = Vec::new();
    if let Some(rest) = user.strip_prefix("system:serviceaccount:")
        && let Some((namespace, _)) = rest.split_once(':')
    {
        groups.push("system:serviceaccounts".into());
        groups.push(format!("system:serviceaccounts:{namespace}"));
    }
    groups.push("system:authenticated".into());
    groups
}

/// All RBAC objects of a cluster at one moment.
#[derive(Debug, Clone, Default)]
pub struct RbacSnapshot {
    /// Roles.
    pub roles: Vec<Role>,
    /// ClusterRoles.
    pub cluster_roles: Vec<ClusterRole>,
    /// RoleBindings.
    pub role_bindings: Vec<RoleBinding>,
    /// ClusterRoleBindings.
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
}

/// The answer of the authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// Which binding allowed it, worded like the RBAC authorizer; empty when denied.
    pub reason: String,
}

/// The group whose members bypass authorization, as in kube-apiserver.
pub const SYSTEM_MASTERS: &str = "system:masters";

/// Decides whether `attrs` is allowed by `rbac`: members of `system:masters` always are;
/// otherwise a ClusterRoleBinding (any namespace) or a RoleBinding in the request's
/// namespace must bind a role with a matching rule to the user, one of its groups, or its
/// service account.
pub fn authorize(attrs: &Attributes, rbac: &RbacSnapshot) -> Decision {
    if attrs.groups.iter().any(|g| g == SYSTEM_MASTERS) {
        return allow(format!("member of group {SYSTEM_MASTERS:?}"));
    }
    for binding in &rbac.cluster_role_bindings {
        let subjects = binding.subjects.as_deref().unwrap_or_default();
        let Some(subject) = subjects.iter().find(|s| applies_to(s, attrs, "")) else {
            continue;
        };
        if binding.role_ref.kind != "ClusterRole" {
            continue;
        }
        if let Some(rules) = cluster_role_rules(rbac, &binding.role_ref.name)
            && rules.iter().any(|r| rule_allows(r, attrs))
        {
            return allow(format!(
                "RBAC: allowed by ClusterRoleBinding {:?} of ClusterRole {:?} to {}",
                binding.metadata.name.as_deref().unwrap_or_default(),
                binding.role_ref.name,
                describe_subject(subject, "")
            ));
        }
    }
    let Some(namespace) = attrs.namespace.as_deref().filter(|n| !n.is_empty()) else {
        return deny();
    };
    for binding in &rbac.role_bindings {
        if binding.metadata.namespace.as_deref() != Some(namespace) {
            continue;
        }
        let subjects = binding.subjects.as_deref().unwrap_or_default();
        let Some(subject) = subjects.iter().find(|s| applies_to(s, attrs, namespace)) else {
            continue;
        };
        let Some(rules) = role_ref_rules(rbac, &binding.role_ref, namespace) else {
            continue;
        };
        if rules.iter().any(|r| rule_allows(r, attrs)) {
            return allow(format!(
                "RBAC: allowed by RoleBinding \"{}/{namespace}\" of {} {:?} to {}",
                binding.metadata.name.as_deref().unwrap_or_default(),
                binding.role_ref.kind,
                binding.role_ref.name,
                describe_subject(subject, namespace)
            ));
        }
    }
    deny()
}

fn allow(reason: String) -> Decision {
    Decision {
        allowed: true,
        reason,
    }
}

fn deny() -> Decision {
    Decision {
        allowed: false,
        reason: String::new(),
    }
}

fn describe_subject(subject: &Subject, binding_namespace: &str) -> String {
    match subject.kind.as_str() {
        "ServiceAccount" => format!(
            "ServiceAccount \"{}/{}\"",
            subject.name,
            subject
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or(binding_namespace)
        ),
        kind => format!("{kind} {:?}", subject.name),
    }
}

/// The rules of a ClusterRole. An aggregated ClusterRole also gets the rules of every
/// ClusterRole its `aggregationRule` selects, which is what the API server's aggregation
/// controller writes into it.
fn cluster_role_rules<'a>(rbac: &'a RbacSnapshot, name: &str) -> Option<Vec<&'a PolicyRule>> {
    let role = rbac
        .cluster_roles
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some(name))?;
    let mut rules: Vec<&PolicyRule> = role.rules.iter().flatten().collect();
    let selectors = role
        .aggregation_rule
        .as_ref()
        .and_then(|a| a.cluster_role_selectors.as_ref());
    for selector in selectors.into_iter().flatten() {
        let Ok(selector) = LabelSelector::from_object(selector) else {
            continue;
        };
        for other in &rbac.cluster_roles {
            let labels = other.metadata.labels.clone().unwrap_or_default();
            if other.metadata.name.as_deref() != Some(name) && selector.matches(&labels) {
                rules.extend(other.rules.iter().flatten());
            }
        }
    }
    Some(rules)
}

fn role_ref_rules<'a>(
    rbac: &'a RbacSnapshot,
    role_ref: &RoleRef,
    namespace: &str,
) -> Option<Vec<&'a PolicyRule>> {
    match role_ref.kind.as_str() {
        "ClusterRole" => cluster_role_rules(rbac, &role_ref.name),
        "Role" => rbac
            .roles
            .iter()
            .find(|r| {
                r.metadata.name.as_deref() == Some(role_ref.name.as_str())
                    && r.metadata.namespace.as_deref() == Some(namespace)
            })
            .map(|r| r.rules.iter().flatten().collect()),
        _ => None,
    }
}

/// `appliesToUser` of the RBAC authorizer. A ServiceAccount subject without a namespace
/// means the binding's namespace.
fn applies_to(subject: &Subject, attrs: &Attributes, binding_namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => subject.name == attrs.user,
        "Group" => attrs.groups.contains(&subject.name),
        "ServiceAccount" => {
            let namespace = subject
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or(binding_namespace);
            !namespace.is_empty()
                && attrs.user == format!("system:serviceaccount:{namespace}:{}", subject.name)
        }
        _ => false,
    }
}

fn has(values: Option<&Vec<String>>, wanted: &str) -> bool {
    values
        .into_iter()
        .flatten()
        .any(|v| v == "*" || v == wanted)
}

fn rule_allows(rule: &PolicyRule, attrs: &Attributes) -> bool {
    if !has(Some(&rule.verbs), &attrs.verb) {
        return false;
    }
    if !attrs.is_resource_request() {
        return rule.non_resource_urls.iter().flatten().any(|url| {
            url == "*"
                || *url == attrs.non_resource_path
                || url
                    .strip_suffix('*')
                    .is_some_and(|prefix| attrs.non_resource_path.starts_with(prefix))
        });
    }
    if !has(rule.api_groups.as_ref(), &attrs.api_group) {
        return false;
    }
    let resource_ok = rule.resources.iter().flatten().any(|r| {
        if attrs.subresource.is_empty() {
            r == "*" || *r == attrs.resource
        } else {
            r == "*"
                || *r == format!("{}/{}", attrs.resource, attrs.subresource)
                || *r == format!("*/{}", attrs.subresource)
        }
    });
    if !resource_ok {
        return false;
    }
    match rule.resource_names.as_deref() {
        None | Some([]) => true,
        Some(names) => attrs
            .name
            .as_deref()
            .is_some_and(|n| names.iter().any(|allowed| allowed == n)),
    }
}

/// The reason part of a denial, as the API server words it: `User "u" cannot create
/// resource "deployments" in API group "apps" in the namespace "team-b"`.
pub fn forbidden_reason(attrs: &Attributes) -> String {
    if !attrs.is_resource_request() {
        return format!(
            "User {:?} cannot {} path {:?}",
            attrs.user, attrs.verb, attrs.non_resource_path
        );
    }
    let mut resource = attrs.resource.clone();
    if !attrs.subresource.is_empty() {
        resource = format!("{resource}/{}", attrs.subresource);
    }
    match attrs.namespace.as_deref().filter(|n| !n.is_empty()) {
        Some(ns) => format!(
            "User {:?} cannot {} resource {resource:?} in API group {:?} in the namespace {ns:?}",
            attrs.user, attrs.verb, attrs.api_group
        ),
        None => format!(
            "User {:?} cannot {} resource {resource:?} in API group {:?} at the cluster scope",
            attrs.user, attrs.verb, attrs.api_group
        ),
    }
}

/// The message of the 403 Forbidden status for a denied request:
/// `deployments.apps "web" is forbidden: User "..." cannot create resource "deployments" in
/// API group "apps" in the namespace "team-b"`.
pub fn forbidden_message(attrs: &Attributes) -> String {
    let reason = forbidden_reason(attrs);
    if !attrs.is_resource_request() {
        return format!("forbidden: {reason}");
    }
    let qualified = if attrs.api_group.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}.{}", attrs.resource, attrs.api_group)
    };
    match attrs.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => format!("{qualified} {name:?} is forbidden: {reason}"),
        None => format!("{qualified} is forbidden: {reason}"),
    }
}
