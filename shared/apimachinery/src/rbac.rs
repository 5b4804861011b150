//! RBAC authorization over Role/ClusterRole/RoleBinding/ClusterRoleBinding objects.

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};

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
    /// The subresource, e.g. `status`.
    pub subresource: String,
    /// The namespace for namespaced requests.
    pub namespace: Option<String>,
    /// The object name, when the request names one.
    pub name: Option<String>,
    /// For non-resource requests, the URL path (e.g. `/healthz`); empty otherwise.
    pub non_resource_path: String,
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
    /// Why (which binding allowed it), or empty.
    pub reason: String,
}

/// Decides whether `attrs` is allowed by `rbac`.
pub fn authorize(attrs: &Attributes, rbac: &RbacSnapshot) -> Decision {
    let _ = (attrs, rbac);
    Decision {
        allowed: false,
        reason: String::new(),
    }
}

/// The message of the 403 Forbidden status the API server returns for a denied request.
pub fn forbidden_message(attrs: &Attributes) -> String {
    format!(
        "User \"{}\" cannot {} resource \"{}\"",
        attrs.user, attrs.verb, attrs.resource
    )
}
