//! Request routing and the resource verbs: get, list, create, update, patch, delete,
//! deletecollection, status and scale subresources, token requests and access reviews.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use flux_apimachinery::rbac::Attributes;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use crate::auth::UserInfo;
use crate::delete::delete_object;
use crate::error::ApiError;
use crate::http_util::{MAX_BODY, accept, content_type, json_response, ok, parse_body, query_map};
use crate::objects::{self, is_deleting, meta_mut};
use crate::patch::{apply_patch, set_path};
use crate::query::{Filter, decode_continue, encode_continue};
use crate::registry::{GroupResource, ResourceDef};
use crate::server::ServerState;
use crate::store::{Change, meta_str};
use crate::{discovery, table, watch};

pub async fn handle(State(st): State<Arc<ServerState>>, req: Request) -> Response {
    match route(st, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// A parsed resource URL.
pub struct Target {
    pub def: Arc<ResourceDef>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    pub watch_path: bool,
}

async fn route(st: Arc<ServerState>, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let user = st.auth.authenticate(&parts.headers)?;
    let user = st.auth.impersonate(&st.store, user, &parts.headers)?;
    let path = parts.uri.path().to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let q = query_map(parts.uri.query());
    let method = parts.method.clone();
    let get = method == Method::GET;
    if get
        && matches!(segs.as_slice(), ["api"] | ["apis"])
        && discovery::wants_aggregated(&accept(&parts.headers))
    {
        let doc = discovery::aggregated(&st.registry, segs[0] == "api");
        let mut r = ok(&doc);
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(discovery::AGGREGATED_V2),
        );
        r.headers_mut()
            .insert(http::header::VARY, http::HeaderValue::from_static("Accept"));
        return Ok(r);
    }
    let discovery_doc = match segs.as_slice() {
        ["version"] => Some(discovery::version()),
        ["healthz" | "livez" | "readyz"] => {
            return Ok((StatusCode::OK, "ok").into_response());
        }
        ["api"] => Some(discovery::core_versions(&st.addr)),
        ["apis"] => Some(discovery::group_list(&st.registry)),
        ["apis", g] => {
            Some(discovery::group(&st.registry, g).ok_or_else(ApiError::path_not_found)?)
        }
        ["api", v] => Some(
            discovery::resource_list(&st.registry, "", v).ok_or_else(ApiError::path_not_found)?,
        ),
        ["apis", g, v] => Some(
            discovery::resource_list(&st.registry, g, v).ok_or_else(ApiError::path_not_found)?,
        ),
        ["openapi", "v3"] => Some(discovery::openapi_v3_index(&st.registry)),
        ["openapi", "v3", "api", v] => Some(
            discovery::openapi_v3_gv(&st.registry, "", v).ok_or_else(ApiError::path_not_found)?,
        ),
        ["openapi", "v3", "apis", g, v] => Some(
            discovery::openapi_v3_gv(&st.registry, g, v).ok_or_else(ApiError::path_not_found)?,
        ),
        ["openapi", "v2"] => {
            let acc = accept(&parts.headers);
            if get && crate::openapi_pb::wanted(&acc) {
                let doc = discovery::openapi_v2(&st.registry);
                return Ok(Response::builder()
                    .status(StatusCode::OK)
                    .header(http::header::CONTENT_TYPE, crate::openapi_pb::MEDIA_TYPE)
                    .body(Body::from(crate::openapi_pb::encode(&doc)))
                    .unwrap_or_default());
            }
            let json_ok = acc.is_empty()
                || acc.split(',').any(|m| {
                    let m = m.split(';').next().unwrap_or("").trim();
                    m == "application/json" || m == "*/*" || m == "application/*"
                });
            if !json_ok {
                return Err(ApiError::new(
                    406,
                    "NotAcceptable",
                    "only the following media types are accepted: application/json",
                ));
            }
            Some(discovery::openapi_v2(&st.registry))
        }
        ["openapi", ..] => return Err(ApiError::path_not_found()),
        _ => None,
    };
    if let Some(doc) = discovery_doc {
        if !get {
            return Err(ApiError::method_not_allowed(method.as_str()));
        }
        return Ok(ok(&doc));
    }
    let target = parse_target(&st, &segs)?;
    let verb = verb_of(&method, &target, &q)?;
    // Masters (the admin) pass every check: skip building the request's attributes.
    let needs_check =
        st.auth.rbac_enabled && !user.groups.iter().any(|g| g == crate::auth::MASTERS);
    if !target.def.virtual_only && needs_check {
        let attrs = Attributes {
            user: user.name.clone(),
            groups: user.groups.clone(),
            verb: verb.to_string(),
            api_group: target.def.group.clone(),
            resource: target.def.plural.clone(),
            subresource: target.subresource.clone().unwrap_or_default(),
            namespace: target.namespace.clone(),
            name: target.name.clone(),
            non_resource_path: String::new(),
        };
        st.auth.authorize(&st.store, &attrs)?;
    }
    let body = if matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        read_body(&parts.headers, body).await?
    } else {
        Vec::new()
    };
    let req = Req {
        st: st.clone(),
        t: target,
        q,
        headers: parts.headers,
        body,
        user,
    };
    match verb {
        "get" => req.get(),
        "list" => req.list(),
        "watch" => watch::serve(&req),
        "create" => req.create(),
        "update" => req.update(),
        "patch" => req.patch(),
        "delete" => req.delete(),
        "deletecollection" => req.delete_collection(),
        _ => Err(ApiError::method_not_allowed(method.as_str())),
    }
}

async fn read_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(ApiError::too_large());
    }
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| ApiError::too_large())
}

fn parse_target(st: &ServerState, segs: &[&str]) -> Result<Target, ApiError> {
    let (group, version, mut rest) = match segs {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(ApiError::path_not_found()),
    };
    let mut watch_path = false;
    if rest.first() == Some(&"watch") {
        watch_path = true;
        rest = &rest[1..];
    }
    let mut namespace = None;
    let namespace_sub =
        rest.len() == 3 && rest[0] == "namespaces" && matches!(rest[2], "status" | "finalize");
    if rest.len() >= 3 && rest[0] == "namespaces" && !namespace_sub {
        namespace = Some(rest[1].to_string());
        rest = &rest[2..];
    }
    let (resource, name, sub) = match rest {
        [r] => (*r, None, None),
        [r, n] => (*r, Some(n.to_string()), None),
        [r, n, s] => (*r, Some(n.to_string()), Some(s.to_string())),
        _ => return Err(ApiError::path_not_found()),
    };
    let def = st
        .registry
        .lookup(group, version, resource)
        .ok_or_else(ApiError::path_not_found)?;
    if !def.namespaced && namespace.is_some() {
        return Err(ApiError::path_not_found());
    }
    if def.namespaced && namespace.is_none() && name.is_some() {
        return Err(ApiError::path_not_found());
    }
    if let Some(s) = &sub {
        let known = match s.as_str() {
            "status" => def.status,
            "scale" => def.scale.is_some(),
            "token" => def.group.is_empty() && def.plural == "serviceaccounts",
            "finalize" => def.group.is_empty() && def.plural == "namespaces",
            _ => false,
        };
        if !known {
            return Err(ApiError::path_not_found());
        }
    }
    Ok(Target {
        def,
        namespace,
        name,
        subresource: sub,
        watch_path,
    })
}

fn truthy(q: &HashMap<String, String>, k: &str) -> bool {
    q.get(k)
        .is_some_and(|v| v == "1" || v == "true" || v.is_empty())
}

fn verb_of(
    method: &Method,
    t: &Target,
    q: &HashMap<String, String>,
) -> Result<&'static str, ApiError> {
    let named = t.name.is_some();
    Ok(match *method {
        Method::GET if t.watch_path || truthy(q, "watch") => "watch",
        Method::GET if named => "get",
        Method::GET => "list",
        Method::POST if !named || t.subresource.as_deref() == Some("token") => "create",
        Method::PUT if named => "update",
        Method::PATCH if named => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => return Err(ApiError::method_not_allowed(method.as_str())),
    })
}

/// The output form of an object: CRs read through another served version get its apiVersion.
pub fn present(def: &ResourceDef, obj: &Value) -> Value {
    crate::convert::to_view(def, obj)
}

pub struct Req {
    pub st: Arc<ServerState>,
    pub t: Target,
    pub q: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub user: UserInfo,
}

impl Req {
    pub(crate) fn def(&self) -> &ResourceDef {
        &self.t.def
    }

    pub(crate) fn ns(&self) -> &str {
        self.t.namespace.as_deref().unwrap_or("")
    }

    pub(crate) fn name(&self) -> &str {
        self.t.name.as_deref().unwrap_or("")
    }

    pub(crate) fn dry_run(&self) -> bool {
        self.q.get("dryRun").is_some_and(|v| v == "All")
    }

    /// `fieldValidation=Strict` (kubectl's default): unknown fields are an error, not pruned.
    pub(crate) fn strict(&self) -> bool {
        self.q.get("fieldValidation").is_some_and(|v| v == "Strict")
    }

    pub(crate) fn manager(&self) -> String {
        match self.q.get("fieldManager").filter(|m| !m.is_empty()) {
            Some(m) => m.clone(),
            None => {
                let ua = self
                    .headers
                    .get(http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("unknown");
                ua.split('/').next().unwrap_or("unknown").to_string()
            }
        }
    }

    pub(crate) fn gr(&self) -> GroupResource {
        self.def().gr()
    }

    pub(crate) fn not_found(&self) -> ApiError {
        ApiError::not_found(&self.def().group, &self.def().plural, self.name())
    }

    pub(crate) fn respond(&self, code: StatusCode, obj: &Value) -> Result<Response, ApiError> {
        let acc = accept(&self.headers);
        let table = table::wants_table(&acc) && self.t.subresource.is_none();
        if table::wants_metadata(&acc) && self.t.subresource.is_none() {
            return Ok(json_response(code, &table::partial(obj)));
        }
        if !table && !crate::convert::needed(self.def()) {
            // The stored form is the served form: serialise it without a copy.
            return Ok(json_response(code, obj));
        }
        let out = present(self.def(), obj);
        if table {
            let meta = json!({"resourceVersion": meta_str(obj, "resourceVersion")});
            let inc = self
                .q
                .get("includeObject")
                .map(String::as_str)
                .unwrap_or("PartialObjectMetadata");
            return Ok(json_response(
                code,
                &table::table(self.def(), &[out], meta, inc, true),
            ));
        }
        Ok(json_response(code, &out))
    }

    fn get(&self) -> Result<Response, ApiError> {
        let obj = self
            .st
            .store
            .get(&self.gr(), self.ns(), self.name())
            .ok_or_else(|| self.not_found())?;
        match self.t.subresource.as_deref() {
            Some("scale") => Ok(ok(&self.scale_of(&obj))),
            _ => self.respond(StatusCode::OK, &obj),
        }
    }

    fn list(&self) -> Result<Response, ApiError> {
        let filter = Filter::from_query(&self.q)?;
        let (items, rv) = self.st.store.list(&self.gr(), self.t.namespace.as_deref());
        let start = match self.q.get("continue").filter(|c| !c.is_empty()) {
            Some(c) => Some(decode_continue(c)?),
            None => None,
        };
        let limit = self
            .q
            .get("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|l| *l > 0);
        let list_rv = start.as_ref().map(|(rv, _)| *rv).unwrap_or(rv);
        let mut out = Vec::new();
        let mut next = None;
        let mut remaining = 0usize;
        for o in items.iter() {
            if let Some((_, (sns, sname))) = &start {
                let key = (meta_str(o, "namespace"), meta_str(o, "name"));
                if key <= (sns.as_str(), sname.as_str()) {
                    continue;
                }
            }
            let view = present(self.def(), o);
            if !filter.matches(&view) {
                continue;
            }
            if limit.is_some_and(|l| out.len() >= l) {
                if next.is_none()
                    && let Some(last) = out.last()
                {
                    next = Some(encode_continue(list_rv, last));
                }
                remaining += 1;
                continue;
            }
            out.push(view);
        }
        let mut meta = json!({"resourceVersion": list_rv.to_string()});
        if let Some(c) = next {
            meta["continue"] = json!(c);
            meta["remainingItemCount"] = json!(remaining);
        }
        if table::wants_table(&accept(&self.headers)) {
            let inc = self
                .q
                .get("includeObject")
                .map(String::as_str)
                .unwrap_or("PartialObjectMetadata");
            return Ok(ok(&table::table(self.def(), &out, meta, inc, true)));
        }
        if table::wants_metadata(&accept(&self.headers)) {
            let items: Vec<Value> = out.iter().map(table::partial).collect();
            return Ok(ok(&json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta,
                "items": items,
            })));
        }
        Ok(ok(&json!({
            "kind": format!("{}List", self.def().kind),
            "apiVersion": self.def().api_version(),
            "metadata": meta,
            "items": out,
        })))
    }

    pub(crate) fn body_json(&self) -> Result<Value, ApiError> {
        parse_body(&self.body, &content_type(&self.headers))
    }

    /// Namespaced writes need an existing namespace that is not terminating.
    pub(crate) fn check_namespace(&self) -> Result<(), ApiError> {
        if !self.def().namespaced {
            return Ok(());
        }
        let ns = self
            .st
            .store
            .get(&GroupResource::new("", "namespaces"), "", self.ns())
            .ok_or_else(|| ApiError::not_found("", "namespaces", self.ns()))?;
        if is_deleting(&ns) {
            return Err(ApiError::forbidden(format!(
                "{} \"{}\" is forbidden: unable to create new content in namespace {} because it is being terminated",
                crate::error::qualified(&self.def().group, &self.def().plural),
                self.name(),
                self.ns()
            )));
        }
        Ok(())
    }

    /// What controllers do when an object appears: a new Namespace gets its `default`
    /// ServiceAccount.
    fn created(&self, obj: &Value) {
        if self.def().group.is_empty() && self.def().plural == "namespaces" {
            crate::server::default_service_account(&self.st, meta_str(obj, "name"));
        }
    }

    pub(crate) fn after_write(&self, obj: Option<&Arc<Value>>) {
        let d = self.def();
        if d.group == crate::crd::GROUP && d.plural == "customresourcedefinitions" {
            crate::crd::sync_registry(&self.st.store, &self.st.registry);
            if obj.is_none() {
                // Remove the CRD's objects now, so a CRD re-created at once starts empty.
                crate::gc::sweep(&self.st);
            }
        }
        if d.group == crate::auth::RBAC_GROUP {
            self.st.auth.invalidate_rbac();
        }
        let owned = obj.is_some_and(|o| o.pointer("/metadata/ownerReferences").is_some());
        if obj.is_none() || obj.is_some_and(|o| is_deleting(o)) || owned || d.plural == "namespaces"
        {
            self.st.gc.notify_one();
        }
        if self.st.simulate && crate::simulate::simulated(&d.gr()) {
            self.st.sim.notify_one();
        }
    }

    fn create(&self) -> Result<Response, ApiError> {
        if self.def().virtual_only {
            return self.virtual_create();
        }
        if self.t.subresource.as_deref() == Some("token") {
            return self.token_request();
        }
        let body = self.body_json()?;
        let mut obj = objects::prepare_create(self.def(), self.ns(), body, true, self.strict())?;
        let name = meta_str(&obj, "name").to_string();
        let created_name = name.clone();
        self.check_namespace_for(&created_name)?;
        objects::track_update(self.def(), None, &mut obj, &self.manager(), "Update");
        let gr = self.gr();
        let d = self.def();
        let (_, new) = self
            .st
            .store
            .transact(&gr, self.ns(), &name, self.dry_run(), |old| {
                if old.is_some() {
                    return Err(ApiError::already_exists(&d.group, &d.plural, &name));
                }
                Ok(Change::Put(crate::convert::to_storage(d, obj)))
            })?;
        let new = new.ok_or_else(|| ApiError::internal("create stored nothing"))?;
        if !self.dry_run() {
            self.after_write(Some(&new));
            self.created(&new);
        }
        self.respond(StatusCode::CREATED, &new)
    }

    fn check_namespace_for(&self, name: &str) -> Result<(), ApiError> {
        self.check_namespace().map_err(|mut e| {
            if e.code == 403 {
                e.message = e.message.replace("\"\"", &format!("\"{name}\""));
            }
            e
        })
    }

    fn update(&self) -> Result<Response, ApiError> {
        let body = self.body_json()?;
        match self.t.subresource.as_deref() {
            Some("scale") => return self.update_scale(|_| Ok(body)),
            Some("finalize") => {
                return self.write(
                    |old| {
                        let mut o = old.clone();
                        let fins = body
                            .pointer("/spec/finalizers")
                            .cloned()
                            .unwrap_or(json!([]));
                        set_path(&mut o, ".spec.finalizers", fins)?;
                        Ok(o)
                    },
                    "Update",
                );
            }
            _ => {}
        }
        self.write(|_| Ok(body), "Update")
    }

    /// Replace the stored object with `f(old)` through the update rules.
    fn write<F>(&self, f: F, op: &str) -> Result<Response, ApiError>
    where
        F: FnOnce(&Value) -> Result<Value, ApiError>,
    {
        let d = self.def();
        let gr = self.gr();
        let sub = self.t.subresource.clone();
        let manager = self.manager();
        let (_, new) =
            self.st
                .store
                .transact(&gr, self.ns(), self.name(), self.dry_run(), |old| {
                    let Some(old) = old else {
                        return Err(ApiError::not_found(&d.group, &d.plural, self.name()));
                    };
                    let old = &present(d, old);
                    let mut desired = f(old)?;
                    if !desired.is_object() {
                        return Err(ApiError::new(
                            422,
                            "Invalid",
                            "the patched object is not a JSON object",
                        ));
                    }
                    let sub_ref = sub.as_deref().filter(|s| *s == "status");
                    if op != "Apply" {
                        objects::track_update(d, Some(old), &mut desired, &manager, op);
                    }
                    objects::prepare_update(d, old, desired, sub_ref, self.strict())
                        .map(|c| to_storage(d, c))
                })?;
        let obj = new.clone();
        if !self.dry_run() {
            self.after_write(obj.as_ref());
        }
        match new {
            Some(o) => self.respond(StatusCode::OK, &o),
            None => Err(self.not_found()),
        }
    }

    fn patch(&self) -> Result<Response, ApiError> {
        let ctype = content_type(&self.headers);
        let patch = self.body_json()?;
        let d = self.def();
        let sub = self.t.subresource.as_deref();
        if sub == Some("scale") {
            let ctype2 = ctype.clone();
            return self.update_scale(move |scale| apply_patch(d, &ctype2, scale, &patch));
        }
        if ctype == "application/apply-patch+yaml" {
            return self.apply(patch);
        }
        if ctype == "application/strategic-merge-patch+json" && d.custom {
            return Err(ApiError::unsupported_media_type(&ctype));
        }
        self.write(|old| apply_patch(d, &ctype, old, &patch), "Update")
    }

    fn apply(&self, mut config: Value) -> Result<Response, ApiError> {
        let d = self.def();
        let manager = match self.q.get("fieldManager").filter(|m| !m.is_empty()) {
            Some(m) => m.clone(),
            None => {
                return Err(ApiError::invalid_field(
                    &d.group,
                    &d.kind,
                    self.name(),
                    "metadata.managedFields",
                    "Required value: is required for apply patch",
                ));
            }
        };
        let force = truthy(&self.q, "force");
        objects::check_type(d, &mut config)?;
        let cfg_name = meta_str(&config, "name");
        if !cfg_name.is_empty() && cfg_name != self.name() {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({cfg_name}) does not match the name on the URL ({})",
                self.name()
            )));
        }
        meta_mut(&mut config).insert("name".into(), json!(self.name()));
        if d.namespaced {
            meta_mut(&mut config).insert("namespace".into(), json!(self.ns()));
        }
        let exists = self
            .st
            .store
            .get(&self.gr(), self.ns(), self.name())
            .is_some();
        if !exists {
            if self.t.subresource.is_some() {
                return Err(self.not_found());
            }
            self.check_namespace()?;
        }
        let gr = self.gr();
        let status_sub = self.t.subresource.as_deref() == Some("status");
        let (old, new) = self.st.store.transact(
            &gr,
            self.ns(),
            self.name(),
            self.dry_run(),
            |old| match old {
                None => {
                    let applied = objects::server_side_apply(d, None, &config, &manager, force)?;
                    let mf = applied.pointer("/metadata/managedFields").cloned();
                    let mut obj =
                        objects::prepare_create(d, self.ns(), applied, false, self.strict())?;
                    if let Some(mf) = mf {
                        meta_mut(&mut obj).insert("managedFields".into(), mf);
                    }
                    Ok(Change::Put(crate::convert::to_storage(d, obj)))
                }
                Some(old) => {
                    let old = &present(d, old);
                    let applied =
                        objects::server_side_apply(d, Some(old), &config, &manager, force)?;
                    objects::prepare_update(
                        d,
                        old,
                        applied,
                        status_sub.then_some("status"),
                        self.strict(),
                    )
                    .map(|c| to_storage(d, c))
                }
            },
        )?;
        if !self.dry_run() {
            self.after_write(new.as_ref());
            if old.is_none()
                && let Some(n) = &new
            {
                self.created(n);
            }
        }
        match new {
            Some(o) => self.respond(
                if old.is_none() {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                &o,
            ),
            None => Err(self.not_found()),
        }
    }

    fn delete_options(&self) -> Result<Value, ApiError> {
        let mut opts = if self.body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            parse_body(&self.body, "application/json")?
        };
        if !opts.is_object() {
            return Err(ApiError::bad_request("DeleteOptions must be a JSON object"));
        }
        if let Some(p) = self.q.get("propagationPolicy") {
            opts["propagationPolicy"] = json!(p);
        }
        if let Some(d) = self.q.get("dryRun") {
            opts["dryRun"] = json!([d]);
        }
        Ok(opts)
    }

    fn delete(&self) -> Result<Response, ApiError> {
        let opts = self.delete_options()?;
        let dry = self.dry_run()
            || opts
                .get("dryRun")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x == "All"));
        let (code, obj) = delete_object(&self.st, self.def(), self.ns(), self.name(), &opts, dry)?;
        if !dry {
            self.after_write(obj.as_ref().filter(|_| code == StatusCode::ACCEPTED));
            self.st.gc.notify_one();
        }
        match obj {
            Some(o) if code == StatusCode::ACCEPTED || self.def().custom => self.respond(code, &o),
            Some(o) => Ok(ok(&json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": self.name(), "group": self.def().group, "kind": self.def().plural, "uid": meta_str(&o, "uid")}
            }))),
            None => Err(self.not_found()),
        }
    }

    fn delete_collection(&self) -> Result<Response, ApiError> {
        let filter = Filter::from_query(&self.q)?;
        let opts = self.delete_options()?;
        let (items, rv) = self.st.store.list(&self.gr(), self.t.namespace.as_deref());
        let mut out = Vec::new();
        for o in items.iter().filter(|o| filter.matches(o)) {
            if let Ok((_, Some(gone))) = delete_object(
                &self.st,
                self.def(),
                meta_str(o, "namespace"),
                meta_str(o, "name"),
                &opts,
                self.dry_run(),
            ) {
                out.push(present(self.def(), &gone));
            }
        }
        self.st.gc.notify_one();
        Ok(ok(
            &json!({"kind": format!("{}List", self.def().kind), "apiVersion": self.def().api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": out}),
        ))
    }
}

/// A stored-form change from a view-form one.
fn to_storage(def: &ResourceDef, c: Change) -> Change {
    match c {
        Change::Put(v) => Change::Put(crate::convert::to_storage(def, v)),
        Change::Delete => Change::Delete,
    }
}
