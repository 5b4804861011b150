//! Authentication (bearer tokens, impersonation) and RBAC authorization of requests.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use flux_apimachinery::rbac::{self, Attributes, RbacSnapshot};
use http::HeaderMap;
use serde_json::Value;

use crate::error::ApiError;
use crate::registry::GroupResource;
use crate::store::Store;

pub const MASTERS: &str = "system:masters";
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    pub fn admin() -> Self {
        Self {
            name: "admin".into(),
            groups: vec![MASTERS.into(), "system:authenticated".into()],
        }
    }

    pub fn service_account(ns: &str, name: &str) -> Self {
        Self {
            name: format!("system:serviceaccount:{ns}:{name}"),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".into(),
            ],
        }
    }

    fn anonymous() -> Self {
        Self {
            name: "system:anonymous".into(),
            groups: vec!["system:unauthenticated".into()],
        }
    }
}

/// Tokens the server accepts and a cached RBAC snapshot.
pub struct Auth {
    pub admin_token: String,
    tokens: RwLock<HashMap<String, UserInfo>>,
    rbac_cache: RwLock<Option<Arc<RbacSnapshot>>>,
    pub rbac_enabled: bool,
    pub anonymous_admin: bool,
}

impl Auth {
    pub fn new(rbac_enabled: bool, anonymous_admin: bool) -> Self {
        let admin_token = format!(
            "flux-admin-{:016x}{:016x}",
            crate::http_util::random_u64(),
            crate::http_util::random_u64()
        );
        let mut tokens = HashMap::new();
        tokens.insert(admin_token.clone(), UserInfo::admin());
        Self {
            admin_token,
            tokens: RwLock::new(tokens),
            rbac_cache: RwLock::new(None),
            rbac_enabled,
            anonymous_admin,
        }
    }

    /// Mint a bearer token that authenticates as the ServiceAccount `ns/name`.
    pub fn mint(&self, user: UserInfo) -> String {
        let token = format!(
            "flux-sa-{:016x}{:016x}",
            crate::http_util::random_u64(),
            crate::http_util::random_u64()
        );
        let mut t = self.tokens.write().unwrap_or_else(|p| p.into_inner());
        t.insert(token.clone(), user);
        token
    }

    pub fn lookup_token(&self, token: &str) -> Option<UserInfo> {
        self.tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .cloned()
    }

    /// The user the bearer token names (anonymous without one; 401 for an unknown token).
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
        let Some(v) = headers.get(http::header::AUTHORIZATION) else {
            // client-go never sends credentials over plain HTTP, so a loopback request without
            // them is the admin, like kube-apiserver's old localhost insecure port.
            return Ok(if self.anonymous_admin {
                UserInfo::admin()
            } else {
                UserInfo::anonymous()
            });
        };
        let v = v.to_str().map_err(|_| ApiError::unauthorized())?;
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        self.lookup_token(token.trim())
            .ok_or_else(ApiError::unauthorized)
    }

    pub fn invalidate_rbac(&self) {
        *self.rbac_cache.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn snapshot(&self, store: &Store) -> Arc<RbacSnapshot> {
        if let Some(s) = self
            .rbac_cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return s.clone();
        }
        fn load<T: serde::de::DeserializeOwned>(store: &Store, res: &str) -> Vec<T> {
            store
                .list(&GroupResource::new(RBAC_GROUP, res), None)
                .0
                .iter()
                .filter_map(|v| serde_json::from_value((**v).clone()).ok())
                .collect()
        }
        let snap = Arc::new(RbacSnapshot {
            roles: load(store, "roles"),
            cluster_roles: load(store, "clusterroles"),
            role_bindings: load(store, "rolebindings"),
            cluster_role_bindings: load(store, "clusterrolebindings"),
        });
        *self.rbac_cache.write().unwrap_or_else(|p| p.into_inner()) = Some(snap.clone());
        snap
    }

    /// Whether `attrs` is allowed (masters and disabled RBAC allow everything).
    pub fn allowed(&self, store: &Store, attrs: &Attributes) -> bool {
        if !self.rbac_enabled || attrs.groups.iter().any(|g| g == MASTERS) {
            return true;
        }
        rbac::authorize(attrs, &self.snapshot(store)).allowed
    }

    pub fn authorize(&self, store: &Store, attrs: &Attributes) -> Result<(), ApiError> {
        if self.allowed(store, attrs) {
            Ok(())
        } else {
            Err(ApiError::forbidden(forbidden_message(attrs)))
        }
    }

    /// Apply `Impersonate-User` / `Impersonate-Group` headers, if the caller may impersonate.
    pub fn impersonate(
        &self,
        store: &Store,
        user: UserInfo,
        headers: &HeaderMap,
    ) -> Result<UserInfo, ApiError> {
        let Some(target) = headers.get("impersonate-user") else {
            if headers.get("impersonate-group").is_some() {
                return Err(ApiError::bad_request(
                    "requested [Impersonate-Group] without impersonating a user",
                ));
            }
            return Ok(user);
        };
        let target = target
            .to_str()
            .map_err(|_| ApiError::bad_request("invalid Impersonate-User header"))?
            .to_string();
        let groups: Vec<String> = headers
            .get_all("impersonate-group")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let sa = target
            .strip_prefix("system:serviceaccount:")
            .and_then(|r| r.split_once(':'));
        let check = |resource: &str, name: &str, ns: Option<&str>| {
            let attrs = Attributes {
                user: user.name.clone(),
                groups: user.groups.clone(),
                verb: "impersonate".into(),
                api_group: String::new(),
                resource: resource.into(),
                namespace: ns.map(str::to_string),
                name: Some(name.into()),
                ..Default::default()
            };
            if self.allowed(store, &attrs) {
                Ok(())
            } else {
                Err(ApiError::forbidden(format!(
                    "{resource} \"{name}\" is forbidden: User \"{}\" cannot impersonate resource \"{resource}\" in API group \"\"{}",
                    user.name,
                    ns.map(|n| format!(" in the namespace \"{n}\""))
                        .unwrap_or_default()
                )))
            }
        };
        let mut out = match sa {
            Some((ns, name)) => {
                check("serviceaccounts", name, Some(ns))?;
                let mut u = UserInfo::service_account(ns, name);
                if !groups.is_empty() {
                    u.groups.clear();
                }
                u
            }
            None => {
                check("users", &target, None)?;
                UserInfo {
                    name: target.clone(),
                    groups: vec![],
                }
            }
        };
        for g in groups {
            check("groups", &g, None)?;
            if !out.groups.contains(&g) {
                out.groups.push(g);
            }
        }
        if !out.groups.iter().any(|g| g == "system:authenticated") && out.name != "system:anonymous"
        {
            out.groups.push("system:authenticated".into());
        }
        Ok(out)
    }
}

/// The message of the real server's 403, e.g.
/// `configmaps is forbidden: User "x" cannot list resource "configmaps" in API group "" in the namespace "a"`.
pub fn forbidden_message(a: &Attributes) -> String {
    let mut res = a.resource.clone();
    if !a.subresource.is_empty() {
        res = format!("{res}/{}", a.subresource);
    }
    let subject = match &a.name {
        Some(n) if !n.is_empty() => format!(
            "{} \"{n}\"",
            crate::error::qualified(&a.api_group, &a.resource)
        ),
        _ => crate::error::qualified(&a.api_group, &a.resource),
    };
    let scope = match &a.namespace {
        Some(ns) if !ns.is_empty() => format!(" in the namespace \"{ns}\""),
        _ => " at the cluster scope".into(),
    };
    format!(
        "{subject} is forbidden: User \"{}\" cannot {} resource \"{res}\" in API group \"{}\"{scope}",
        a.user, a.verb, a.api_group
    )
}

/// The body of a (Self)SubjectAccessReview with `status` filled in.
pub fn review(
    auth: &Auth,
    store: &Store,
    mut body: Value,
    user: &UserInfo,
    self_review: bool,
) -> Value {
    let spec = body.get("spec").cloned().unwrap_or(Value::Null);
    let (name, groups) = if self_review {
        (user.name.clone(), user.groups.clone())
    } else {
        (
            spec.get("user")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            spec.get("groups")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|g| g.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let attrs = if let Some(ra) = spec.get("resourceAttributes") {
        let ns = s(ra, "namespace");
        let n = s(ra, "name");
        Attributes {
            user: name,
            groups,
            verb: s(ra, "verb"),
            api_group: s(ra, "group"),
            resource: s(ra, "resource"),
            subresource: s(ra, "subresource"),
            namespace: (!ns.is_empty()).then_some(ns),
            name: (!n.is_empty()).then_some(n),
            non_resource_path: String::new(),
        }
    } else {
        let nra = spec
            .get("nonResourceAttributes")
            .cloned()
            .unwrap_or(Value::Null);
        Attributes {
            user: name,
            groups,
            verb: s(&nra, "verb"),
            non_resource_path: s(&nra, "path"),
            ..Default::default()
        }
    };
    let allowed = auth.allowed(store, &attrs);
    body["status"] = serde_json::json!({ "allowed": allowed });
    if let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("creationTimestamp".into(), Value::Null);
    }
    body
}
