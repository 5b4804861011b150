//! Subresources and virtual resources: scale, TokenRequest, access and token reviews.

use axum::response::Response;
use flux_apimachinery::rbac::Attributes;
use http::StatusCode;
use serde_json::{Value, json};

use crate::api::Req;
use crate::auth::{UserInfo, review};
use crate::error::ApiError;
use crate::http_util::{json_response, ok};
use crate::objects;
use crate::patch::set_path;
use crate::store::Change;
use crate::table;

impl Req {
    pub(crate) fn scale_of(&self, obj: &Value) -> Value {
        let paths = self.def().scale.clone();
        let num = |p: &str| {
            table::json_path(obj, p)
                .first()
                .and_then(|v| v.as_i64())
                .unwrap_or(0)
        };
        let (spec, status, selector) = match &paths {
            Some(p) => (
                num(&p.spec_replicas),
                num(&p.status_replicas),
                p.label_selector.as_ref().and_then(|l| {
                    table::json_path(obj, l)
                        .first()
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                }),
            ),
            None => (0, 0, None),
        };
        let selector = selector.or_else(|| {
            obj.pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                        .collect::<Vec<_>>()
                        .join(",")
                })
        });
        let m = obj.get("metadata").cloned().unwrap_or(json!({}));
        let mut status_v = json!({"replicas": status});
        if let Some(s) = selector {
            status_v["selector"] = json!(s);
        }
        json!({
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": m.get("name"), "namespace": m.get("namespace"), "uid": m.get("uid"),
                         "resourceVersion": m.get("resourceVersion"), "creationTimestamp": m.get("creationTimestamp")},
            "spec": {"replicas": spec},
            "status": status_v,
        })
    }

    pub(crate) fn update_scale<F>(&self, f: F) -> Result<Response, ApiError>
    where
        F: FnOnce(&Value) -> Result<Value, ApiError>,
    {
        let Some(paths) = self.def().scale.clone() else {
            return Err(ApiError::path_not_found());
        };
        let d = self.def();
        let (_, new) =
            self.st
                .store
                .transact(&self.gr(), self.ns(), self.name(), self.dry_run(), |old| {
                    let Some(old) = old else {
                        return Err(ApiError::not_found(&d.group, &d.plural, self.name()));
                    };
                    let scale = f(&self.scale_of(old))?;
                    let Some(replicas) = scale.pointer("/spec/replicas").and_then(Value::as_i64)
                    else {
                        return Err(ApiError::invalid_field(
                            "autoscaling",
                            "Scale",
                            self.name(),
                            "spec.replicas",
                            "Required value",
                        ));
                    };
                    if replicas < 0 {
                        return Err(ApiError::invalid_field(
                            "autoscaling",
                            "Scale",
                            self.name(),
                            "spec.replicas",
                            &format!(
                                "Invalid value: {replicas}: must be greater than or equal to 0"
                            ),
                        ));
                    }
                    let mut new = old.as_ref().clone();
                    set_path(&mut new, &paths.spec_replicas, json!(replicas))?;
                    objects::bump_generation(d, old, &mut new);
                    Ok(Change::Put(new))
                })?;
        if !self.dry_run() {
            self.after_write(new.as_ref());
        }
        match new {
            Some(o) => Ok(ok(&self.scale_of(&o))),
            None => Err(self.not_found()),
        }
    }

    pub(crate) fn token_request(&self) -> Result<Response, ApiError> {
        if self
            .st
            .store
            .get(&self.gr(), self.ns(), self.name())
            .is_none()
        {
            return Err(self.not_found());
        }
        let token = self
            .st
            .auth
            .mint(UserInfo::service_account(self.ns(), self.name()));
        let body = if self.body.is_empty() {
            json!({})
        } else {
            self.body_json()?
        };
        let expiration = chrono::Utc::now() + chrono::Duration::hours(1);
        Ok(json_response(
            StatusCode::CREATED,
            &json!({
                "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                "metadata": {"name": self.name(), "namespace": self.ns(), "creationTimestamp": null},
                "spec": body.get("spec").cloned().unwrap_or(json!({})),
                "status": {"token": token, "expirationTimestamp": expiration.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}
            }),
        ))
    }

    pub(crate) fn virtual_create(&self) -> Result<Response, ApiError> {
        let mut body = self.body_json()?;
        objects::check_type(self.def(), &mut body)?;
        let out = match self.def().plural.as_str() {
            "selfsubjectaccessreviews" => {
                review(&self.st.auth, &self.st.store, body, &self.user, true)
            }
            "subjectaccessreviews" => {
                let attrs = Attributes {
                    user: self.user.name.clone(),
                    groups: self.user.groups.clone(),
                    verb: "create".into(),
                    api_group: "authorization.k8s.io".into(),
                    resource: "subjectaccessreviews".into(),
                    ..Default::default()
                };
                self.st.auth.authorize(&self.st.store, &attrs)?;
                review(&self.st.auth, &self.st.store, body, &self.user, false)
            }
            "selfsubjectreviews" => {
                body["status"] =
                    json!({"userInfo": {"username": self.user.name, "groups": self.user.groups}});
                body
            }
            "tokenreviews" => {
                let token = body
                    .pointer("/spec/token")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                body["status"] = match self.st.auth.lookup_token(token) {
                    Some(u) => {
                        json!({"authenticated": true, "user": {"username": u.name, "groups": u.groups}})
                    }
                    None => json!({"authenticated": false}),
                };
                body
            }
            _ => return Err(ApiError::path_not_found()),
        };
        Ok(json_response(StatusCode::CREATED, &out))
    }
}
