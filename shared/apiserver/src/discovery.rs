//! Discovery documents: /version, /api, /apis, resource lists and the OpenAPI v3 index kubectl reads.

use serde_json::{Value, json};

use crate::registry::{Registry, ResourceDef};

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-flux-rs",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub fn core_versions(addr: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}]
    })
}

fn group_entry(name: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(Value::Null)})
}

pub fn group_list(reg: &Registry) -> Value {
    let groups: Vec<Value> = reg
        .groups()
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| group_entry(&g, &vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(reg: &Registry, name: &str) -> Option<Value> {
    let (g, vs) = reg
        .groups()
        .into_iter()
        .find(|(g, _)| g == name && !g.is_empty())?;
    let mut e = group_entry(&g, &vs);
    e["kind"] = json!("APIGroup");
    e["apiVersion"] = json!("v1");
    Some(e)
}

fn resource_entries(d: &ResourceDef) -> Vec<Value> {
    let mut main = json!({
        "name": d.plural,
        "singularName": d.singular,
        "namespaced": d.namespaced,
        "kind": d.kind,
        "verbs": d.verbs,
    });
    if !d.short_names.is_empty() {
        main["shortNames"] = json!(d.short_names);
    }
    if !d.categories.is_empty() {
        main["categories"] = json!(d.categories);
    }
    let mut out = vec![main];
    let sub = |name: &str, kind: &str, verbs: &[&str]| json!({"name": format!("{}/{name}", d.plural), "singularName": "", "namespaced": d.namespaced, "kind": kind, "verbs": verbs});
    if d.status {
        out.push(sub("status", &d.kind, &["get", "patch", "update"]));
    }
    if d.scale.is_some() {
        let mut s = sub("scale", "Scale", &["get", "patch", "update"]);
        s["group"] = json!("autoscaling");
        s["version"] = json!("v1");
        out.push(s);
    }
    if d.group.is_empty() && d.plural == "serviceaccounts" {
        let mut t = sub("token", "TokenRequest", &["create"]);
        t["group"] = json!("authentication.k8s.io");
        t["version"] = json!("v1");
        out.push(t);
    }
    out
}

pub fn resource_list(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let defs: Vec<_> = reg
        .all()
        .into_iter()
        .filter(|d| d.group == group && d.version == version)
        .collect();
    if defs.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let resources: Vec<Value> = defs.iter().flat_map(|d| resource_entries(d)).collect();
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The OpenAPI v3 index: one entry per served group-version. The hash changes with the set of
/// resources so clients that cache by URL see CRDs appear.
pub fn openapi_v3_index(reg: &Registry) -> Value {
    let mut paths = serde_json::Map::new();
    for (g, vs) in reg.groups() {
        for v in vs {
            let p = gv_path(&g, &v);
            let hash = format!("{:016X}", fingerprint(reg, &g, &v));
            paths.insert(
                p.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}")}),
            );
        }
    }
    json!({"paths": paths})
}

fn fingerprint(reg: &Registry, group: &str, version: &str) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    for d in reg
        .all()
        .iter()
        .filter(|d| d.group == group && d.version == version)
    {
        d.plural.hash(&mut h);
        d.schema.as_ref().map(|s| s.to_string()).hash(&mut h);
    }
    h.finish()
}

/// Schemas of built-in kinds from their k8s-openapi types, collected in one generator so shared
/// definitions (ObjectMeta, PodSpec, ...) are emitted once and referenced.
struct SchemaOf<'a>(&'a mut schemars::SchemaGenerator);

impl crate::typed::KindVisitor for SchemaOf<'_> {
    type Out = Option<String>;
    fn visit<T>(self) -> Option<String>
    where
        T: serde::de::DeserializeOwned + serde::Serialize + schemars::JsonSchema,
    {
        self.0.subschema_for::<T>();
        Some(T::schema_name().into_owned())
    }
}

/// Schema definitions for `defs` under `gen`'s definitions path: the definition name of each
/// kind (None when it has no schema) and every definition, the kinds' marked with their GVK so
/// `kubectl explain` finds them.
type KindSchemas = (Vec<Option<String>>, serde_json::Map<String, Value>);

/// [`kind_schemas_uncached`], remembered: generating the built-in schemas takes long enough
/// (the core group's are some 350 kB) to slow every `kubectl apply`, which reads them.
fn kind_schemas(defs: &[std::sync::Arc<ResourceDef>], swagger2: bool) -> KindSchemas {
    use std::collections::HashMap;
    use std::hash::{DefaultHasher, Hash, Hasher};
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<u64, Arc<KindSchemas>>>> = OnceLock::new();
    let mut h = DefaultHasher::new();
    swagger2.hash(&mut h);
    for d in defs {
        (&d.group, &d.version, &d.kind, d.custom).hash(&mut h);
        d.schema.as_ref().map(|s| s.to_string()).hash(&mut h);
    }
    let key = h.finish();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return (**hit).clone();
    }
    let settings = if swagger2 {
        // Swagger 2.0 allows siblings of `$ref` (kube-apiserver's v2 document has them), so
        // none of the JSON Schema draft rewrites apply.
        schemars::generate::SchemaSettings::draft07().with(|s| s.transforms.clear())
    } else {
        schemars::generate::SchemaSettings::openapi3()
    };
    let made = Arc::new(kind_schemas_uncached(defs, settings.into_generator()));
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    // CRDs coming and going make new keys: keep the cache bounded.
    if c.len() >= 64 {
        c.clear();
    }
    c.insert(key, made.clone());
    (*made).clone()
}

fn kind_schemas_uncached(
    defs: &[std::sync::Arc<ResourceDef>],
    mut generator: schemars::SchemaGenerator,
) -> KindSchemas {
    let mut names = Vec::new();
    let mut custom = Vec::new();
    for d in defs {
        let name = if d.custom {
            d.schema.as_deref().map(|s| {
                let n = schema_name(&d.group, &d.version, &d.kind);
                custom.push((n.clone(), s.clone()));
                n
            })
        } else {
            crate::typed::visit_kind(&d.group, &d.kind, SchemaOf(&mut generator)).flatten()
        };
        names.push(name);
    }
    let mut schemas = generator.take_definitions(true);
    for (n, s) in custom {
        schemas.insert(n, s);
    }
    for (d, name) in defs.iter().zip(&names) {
        let gvk = json!({"group": d.group, "version": d.version, "kind": d.kind});
        if let Some(o) = name
            .as_ref()
            .and_then(|n| schemas.get_mut(n))
            .and_then(Value::as_object_mut)
        {
            o.insert("x-kubernetes-group-version-kind".into(), json!([gvk]));
        }
    }
    (names, schemas)
}

/// A minimal OpenAPI v3 document for one group-version: its paths carry the PATCH operations with
/// the GVK extension and the `fieldValidation` parameter (so kubectl validates on the server),
/// and components hold the kinds' schemas (so `kubectl explain` and client-side apply can use them).
pub fn openapi_v3_gv(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let defs: Vec<_> = reg
        .all()
        .into_iter()
        .filter(|d| d.group == group && d.version == version && !d.virtual_only)
        .collect();
    if !reg
        .groups()
        .iter()
        .any(|(g, vs)| g == group && vs.iter().any(|v| v == version))
    {
        return None;
    }
    let mut paths = serde_json::Map::new();
    let params = json!([
        {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}}
    ]);
    let (names, schemas) = kind_schemas(&defs, false);
    for (d, name) in defs.iter().zip(names) {
        let gvk = json!({"group": d.group, "version": d.version, "kind": d.kind});
        let prefix = format!("/{}", gv_path(group, version));
        let item = if d.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", d.plural)
        } else {
            format!("{prefix}/{}/{{name}}", d.plural)
        };
        let name = name.unwrap_or_else(|| schema_name(&d.group, &d.version, &d.kind));
        let body_ref = json!({"schema": {"$ref": format!("#/components/schemas/{name}")}});
        let mut content = serde_json::Map::new();
        for ct in [
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/apply-patch+yaml",
        ] {
            content.insert(ct.into(), json!({"schema": {"type": "object"}}));
        }
        // Strategic merge patch is not advertised although built-in kinds take it: kubectl's
        // client-side apply would then compute its patches from these schemas, which lack the
        // patchStrategy/patchMergeKey extensions, instead of from its compiled-in patch metadata.
        paths.insert(item, json!({
            "get": {"operationId": format!("read{}", d.kind), "x-kubernetes-action": "get",
                    "x-kubernetes-group-version-kind": gvk,
                    "responses": {"200": {"description": "OK", "content": {"application/json": body_ref}}}},
            "put": {"operationId": format!("replace{}", d.kind), "x-kubernetes-action": "put",
                    "x-kubernetes-group-version-kind": gvk, "parameters": params,
                    "requestBody": {"content": {"application/json": body_ref}},
                    "responses": {"200": {"description": "OK", "content": {"application/json": body_ref}}}},
            "patch": {"operationId": format!("patch{}", d.kind), "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": gvk, "parameters": params,
                    "requestBody": {"content": content},
                    "responses": {"200": {"description": "OK", "content": {"application/json": body_ref}}}}
        }));
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": schemas}
    }))
}

/// The Swagger 2.0 document (`/openapi/v2`): every served kind's definition with its GVK, and a
/// GET and PATCH operation per kind. kubectl asks for it in protobuf (see `openapi_pb`), for
/// `explain --output plaintext-openapiv2` and as client-side apply's second choice after v3.
/// PATCH does not list strategic merge patch, so apply takes its compiled-in patch metadata.
pub fn openapi_v2(reg: &Registry) -> Value {
    let defs: Vec<_> = reg.all().into_iter().filter(|d| !d.virtual_only).collect();
    let (names, definitions) = kind_schemas(&defs, true);
    let mut paths = serde_json::Map::new();
    for (d, name) in defs.iter().zip(names) {
        let gvk = json!({"group": d.group, "version": d.version, "kind": d.kind});
        let prefix = format!("/{}", gv_path(&d.group, &d.version));
        let item = if d.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", d.plural)
        } else {
            format!("{prefix}/{}/{{name}}", d.plural)
        };
        let ok = match name {
            Some(n) => {
                json!({"description": "OK", "schema": {"$ref": format!("#/definitions/{n}")}})
            }
            None => json!({"description": "OK"}),
        };
        paths.insert(item, json!({
            "get": {"operationId": format!("read{}", d.kind), "produces": ["application/json"],
                    "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk,
                    "responses": {"200": ok}},
            "patch": {"operationId": format!("patch{}", d.kind),
                    "consumes": ["application/json-patch+json", "application/merge-patch+json",
                                 "application/apply-patch+yaml"],
                    "produces": ["application/json"],
                    "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk,
                    "parameters": [
                        {"name": "body", "in": "body", "required": true, "schema": {"type": "object"}},
                        {"name": "fieldManager", "in": "query", "type": "string", "uniqueItems": true},
                        {"name": "fieldValidation", "in": "query", "type": "string", "uniqueItems": true}
                    ],
                    "responses": {"200": ok}}
        }));
    }
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "definitions": definitions,
    })
}

fn schema_name(group: &str, version: &str, kind: &str) -> String {
    if group.is_empty() {
        format!("io.k8s.api.core.{version}.{kind}")
    } else {
        let rev: Vec<&str> = group.split('.').rev().collect();
        format!("{}.{version}.{kind}", rev.join("."))
    }
}

/// The media type of aggregated discovery (apidiscovery.k8s.io/v2), which kubectl asks for first
/// on /api and /apis: one response instead of one request per group-version.
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether an Accept header asks for aggregated discovery v2 (v2beta1 alone gets the plain form).
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|m| {
        let params: Vec<&str> = m.split(';').skip(1).map(str::trim).collect();
        params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

fn aggregated_resource(d: &ResourceDef) -> Value {
    let kind = |group: &str, version: &str, kind: &str| json!({"group": group, "version": version, "kind": kind});
    let mut subresources = Vec::new();
    if d.status {
        subresources.push(json!({"subresource": "status",
            "responseKind": kind(&d.group, &d.version, &d.kind), "verbs": ["get", "patch", "update"]}));
    }
    if d.scale.is_some() {
        subresources.push(json!({"subresource": "scale",
            "responseKind": kind("autoscaling", "v1", "Scale"), "verbs": ["get", "patch", "update"]}));
    }
    if d.group.is_empty() && d.plural == "serviceaccounts" {
        subresources.push(json!({"subresource": "token",
            "responseKind": kind("authentication.k8s.io", "v1", "TokenRequest"), "verbs": ["create"]}));
    }
    let mut r = json!({
        "resource": d.plural,
        "responseKind": kind(&d.group, &d.version, &d.kind),
        "scope": if d.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": d.singular,
        "verbs": d.verbs,
    });
    if !d.short_names.is_empty() {
        r["shortNames"] = json!(d.short_names);
    }
    if !d.categories.is_empty() {
        r["categories"] = json!(d.categories);
    }
    if !subresources.is_empty() {
        r["subresources"] = json!(subresources);
    }
    r
}

/// Aggregated discovery of the core group (`core`) or of every named group: the same resources
/// as the per-group-version lists, preferred version first.
pub fn aggregated(reg: &Registry, core: bool) -> Value {
    let defs = reg.all();
    let items: Vec<Value> = reg
        .groups()
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, vs)| {
            let versions: Vec<Value> = vs
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = defs
                        .iter()
                        .filter(|d| d.group == g && d.version == *v)
                        .map(|d| aggregated_resource(d))
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}
