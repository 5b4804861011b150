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

/// A minimal OpenAPI v3 document for one group-version: its paths carry the PATCH operations with
/// the GVK extension and the `fieldValidation` parameter (so kubectl validates on the server),
/// and components hold CRD schemas (so `kubectl explain` and client-side apply can use them).
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
    let mut schemas = serde_json::Map::new();
    let params = json!([
        {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}}
    ]);
    for d in defs {
        let gvk = json!({"group": d.group, "version": d.version, "kind": d.kind});
        let prefix = format!("/{}", gv_path(group, version));
        let item = if d.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", d.plural)
        } else {
            format!("{prefix}/{}/{{name}}", d.plural)
        };
        let schema_name = schema_name(&d.group, &d.version, &d.kind);
        let body_ref = json!({"schema": {"$ref": format!("#/components/schemas/{schema_name}")}});
        let mut content = serde_json::Map::new();
        for ct in [
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/apply-patch+yaml",
        ] {
            content.insert(ct.into(), json!({"schema": {"type": "object"}}));
        }
        if !d.custom {
            content.insert(
                "application/strategic-merge-patch+json".into(),
                json!({"schema": {"type": "object"}}),
            );
        }
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
        // Built-in kinds get no schema: kubectl then falls back to its compiled-in patch metadata.
        let Some(mut schema) = d.schema.as_deref().cloned() else {
            continue;
        };
        if let Some(o) = schema.as_object_mut() {
            o.insert("x-kubernetes-group-version-kind".into(), json!([gvk]));
        }
        schemas.insert(schema_name, schema);
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": schemas}
    }))
}

fn schema_name(group: &str, version: &str, kind: &str) -> String {
    if group.is_empty() {
        format!("io.k8s.api.core.{version}.{kind}")
    } else {
        let rev: Vec<&str> = group.split('.').rev().collect();
        format!("{}.{version}.{kind}", rev.join("."))
    }
}
