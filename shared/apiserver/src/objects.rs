//! Object lifecycle rules shared by every write: system metadata, defaults per kind, CRD schemas,
//! generation, status separation, managedFields and finalizer-driven removal.

use std::collections::BTreeMap;

use base64::Engine;
use flux_apimachinery::{managed_fields, names, schema};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, Time};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, Cause};
use crate::registry::ResourceDef;
use crate::store::{Change, meta_str};

pub fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let Value::Object(o) = obj else {
        unreachable!("made an object above")
    };
    let m = o
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !m.is_object() {
        *m = Value::Object(Map::new());
    }
    let Value::Object(m) = m else {
        unreachable!("made an object above")
    };
    m
}

pub fn labels(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

pub fn now_time() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

/// Checks that the body's apiVersion and kind are the ones of the URL.
pub fn check_type(def: &ResourceDef, obj: &mut Value) -> Result<(), ApiError> {
    let Some(o) = obj.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    let want = def.api_version();
    match o.get("apiVersion").and_then(Value::as_str) {
        None => {
            o.insert("apiVersion".into(), json!(want));
        }
        Some(v) if v == want => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({want})"
            )));
        }
    }
    match o.get("kind").and_then(Value::as_str) {
        None => {
            o.insert("kind".into(), json!(def.kind));
        }
        Some(k) if k == def.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                def.kind
            )));
        }
    }
    if o.get("metadata")
        .is_some_and(|m| !m.is_object() && !m.is_null())
    {
        return Err(ApiError::bad_request("metadata must be an object"));
    }
    Ok(())
}

fn invalid(def: &ResourceDef, name: &str, causes: Vec<Cause>) -> ApiError {
    ApiError::invalid(&def.group, &def.kind, name, causes)
}

fn cause(field: &str, message: String) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message,
        field: field.into(),
    }
}

/// Validate the object's name as the real server does for the kind.
pub fn validate_name(def: &ResourceDef, name: &str) -> Result<(), ApiError> {
    let errs = if def.kind == "Namespace" || def.kind == "Service" {
        names::validate_dns1123_label(name)
    } else {
        names::validate_dns1123_subdomain(name)
    };
    if errs.is_empty() {
        return Ok(());
    }
    Err(invalid(
        def,
        name,
        vec![cause(
            "metadata.name",
            format!("Invalid value: \"{name}\": {}", errs.join(", ")),
        )],
    ))
}

/// Largest total size of an object's annotations (keys and values), as in Kubernetes.
const ANNOTATIONS_MAX: usize = 256 * 1024;

/// Validate labels, annotations and finalizers as ObjectMeta validation does.
pub fn validate_metadata(def: &ResourceDef, obj: &Value) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    let invalid_value = |field: &str, value: &str, errs: Vec<String>| Cause {
        reason: "FieldValueInvalid".into(),
        message: format!("Invalid value: \"{value}\": {}", errs.join(", ")),
        field: field.into(),
    };
    let map = |key: &str| {
        obj.pointer(&format!("/metadata/{key}"))
            .and_then(Value::as_object)
    };
    for (k, v) in map("labels").into_iter().flatten() {
        let errs = names::validate_qualified_name(k);
        if !errs.is_empty() {
            causes.push(invalid_value("metadata.labels", k, errs));
        }
        match v.as_str() {
            Some(val) => {
                let errs = names::validate_label_value(val);
                if !errs.is_empty() {
                    causes.push(invalid_value("metadata.labels", val, errs));
                }
            }
            None => causes.push(invalid_value(
                "metadata.labels",
                &v.to_string(),
                vec!["must be a string".into()],
            )),
        }
    }
    let mut size = 0;
    for (k, v) in map("annotations").into_iter().flatten() {
        let errs = names::validate_qualified_name(&k.to_ascii_lowercase());
        if !errs.is_empty() {
            causes.push(invalid_value("metadata.annotations", k, errs));
        }
        size += k.len() + v.as_str().map_or(0, str::len);
    }
    if size > ANNOTATIONS_MAX {
        causes.push(Cause {
            reason: "FieldValueTooLong".into(),
            message: format!("Too long: must have at most {ANNOTATIONS_MAX} bytes"),
            field: "metadata.annotations".into(),
        });
    }
    for (i, f) in finalizers(obj).iter().enumerate() {
        let errs = names::validate_qualified_name(f);
        if !errs.is_empty() {
            causes.push(invalid_value(&format!("metadata.finalizers[{i}]"), f, errs));
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(invalid(def, meta_str(obj, "name"), causes))
    }
}

/// Defaults, pruning and validation of a custom resource against its CRD schema.
pub fn apply_schema(def: &ResourceDef, obj: &mut Value, strict: bool) -> Result<(), ApiError> {
    let Some(s) = def.structural.as_deref() else {
        return Ok(());
    };
    schema::apply_defaults(obj, s);
    let before = strict.then(|| obj.clone());
    schema::prune(obj, s);
    if let Some(before) = before {
        let mut unknown = Vec::new();
        crate::typed::removed_fields(&before, obj, "", &mut unknown);
        if let Some(e) = crate::typed::strict_error(def, &unknown) {
            return Err(e);
        }
    }
    let errs = schema::validate(obj, s);
    if errs.is_empty() {
        return Ok(());
    }
    let name = meta_str(obj, "name").to_string();
    let causes = errs
        .iter()
        .map(|e| {
            let full = e.to_string();
            let msg = full
                .strip_prefix(&format!("{}: ", e.field))
                .unwrap_or(&full)
                .to_string();
            Cause {
                reason: match e.kind {
                    schema::FieldErrorKind::Required => "FieldValueRequired",
                    schema::FieldErrorKind::NotSupported => "FieldValueNotSupported",
                    schema::FieldErrorKind::TypeInvalid => "FieldValueTypeInvalid",
                    schema::FieldErrorKind::TooLong => "FieldValueTooLong",
                    schema::FieldErrorKind::TooMany => "FieldValueTooMany",
                    schema::FieldErrorKind::Duplicate => "FieldValueDuplicate",
                    schema::FieldErrorKind::Forbidden => "FieldValueForbidden",
                    schema::FieldErrorKind::Invalid => "FieldValueInvalid",
                }
                .into(),
                message: msg,
                field: e.field.clone(),
            }
        })
        .collect();
    Err(invalid(def, &name, causes))
}

/// Kind-specific defaults the real API server applies on every write.
pub fn kind_defaults(def: &ResourceDef, obj: &mut Value, creating: bool) -> Result<(), ApiError> {
    match (def.group.as_str(), def.plural.as_str()) {
        ("", "secrets") => {
            if let Some(sd) = obj.as_object_mut().and_then(|o| o.remove("stringData")) {
                let Some(sd) = sd.as_object().cloned() else {
                    return Err(ApiError::bad_request("stringData must be a map of strings"));
                };
                match obj.get("data") {
                    None | Some(Value::Null) => obj["data"] = json!({}),
                    Some(Value::Object(_)) => {}
                    Some(_) => return Err(ApiError::bad_request("data must be a map of strings")),
                }
                for (k, v) in sd {
                    let s = v.as_str().unwrap_or("").as_bytes().to_vec();
                    obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(s));
                }
            }
            if obj.get("type").is_none() {
                obj["type"] = json!("Opaque");
            }
        }
        ("", "namespaces") => {
            let name = meta_str(obj, "name").to_string();
            let m = meta_mut(obj);
            let labels = m.entry("labels").or_insert_with(|| json!({}));
            if labels.is_object() {
                labels["kubernetes.io/metadata.name"] = json!(name);
            }
            if creating {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
                obj["status"] = json!({"phase": "Active"});
            }
        }
        ("", "services") => {
            match obj.get("spec") {
                None => obj["spec"] = json!({}),
                Some(Value::Object(_)) => {}
                Some(_) => return Err(ApiError::bad_request("spec must be an object")),
            }
            if obj.pointer("/spec/type").is_none() {
                obj["spec"]["type"] = json!("ClusterIP");
            }
            if creating && obj.pointer("/spec/clusterIP").is_none() {
                let n = crate::http_util::random_u64();
                let ip = format!("10.96.{}.{}", (n >> 8) % 256, n % 254 + 1);
                obj["spec"]["clusterIP"] = json!(ip);
                obj["spec"]["clusterIPs"] = json!([ip]);
            }
        }
        ("", "pods") if creating => {
            obj["status"] = json!({"phase": "Pending"});
        }
        ("apps", "deployments" | "replicasets" | "statefulsets")
            if obj.get("spec").is_some_and(Value::is_object)
                && obj.pointer("/spec/replicas").is_none() =>
        {
            obj["spec"]["replicas"] = json!(1);
        }
        _ => {}
    }
    Ok(())
}

fn parse_managed(obj: &Value) -> Vec<ManagedFieldsEntry> {
    obj.pointer("/metadata/managedFields")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default()
}

fn set_managed(obj: &mut Value, entries: Vec<ManagedFieldsEntry>) {
    let m = meta_mut(obj);
    if entries.is_empty() {
        m.remove("managedFields");
    } else if let Ok(v) = serde_json::to_value(entries) {
        m.insert("managedFields".into(), v);
    }
}

/// Record field ownership of a non-apply write.
pub fn track_update(
    def: &ResourceDef,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    op: &str,
) {
    let managed = old.map(parse_managed).unwrap_or_else(|| parse_managed(new));
    let entries = managed_fields::update(
        old,
        new,
        manager,
        op,
        &managed,
        now_time(),
        def.merge.as_deref(),
    );
    set_managed(new, entries);
}

/// Server-side apply of `config` onto `old`.
pub fn server_side_apply(
    def: &ResourceDef,
    old: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
) -> Result<Value, ApiError> {
    let managed = old.map(parse_managed).unwrap_or_default();
    let name = meta_str(config, "name").to_string();
    match managed_fields::apply(
        old,
        config,
        manager,
        force,
        &managed,
        now_time(),
        def.merge.as_deref(),
    ) {
        Ok(applied) => {
            let mut obj = applied.object;
            set_managed(&mut obj, applied.managed_fields);
            Ok(obj)
        }
        Err(managed_fields::ApplyError::Conflicts(c)) => {
            let causes: Vec<Value> = c
                .conflicts
                .iter()
                .map(|x| json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{}\"", x.manager), "field": x.path}))
                .collect();
            let mut e = ApiError::new(409, "Conflict", c.to_string());
            let mut d = json!({"name": name, "kind": def.plural, "causes": causes});
            if !def.group.is_empty() {
                d["group"] = json!(def.group);
            }
            e.details = Some(d);
            Err(e)
        }
        Err(managed_fields::ApplyError::Invalid(m)) => Err(ApiError::bad_request(m)),
    }
}

fn without(obj: &Value, keys: &[&str]) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        for k in keys {
            m.remove(*k);
        }
    }
    o
}

/// Prepare a new object for storage (create, or apply/update creating it).
pub fn prepare_create(
    def: &ResourceDef,
    ns: &str,
    mut obj: Value,
    generate: bool,
    strict: bool,
) -> Result<Value, ApiError> {
    check_type(def, &mut obj)?;
    let m = meta_mut(&mut obj);
    let mut name = m
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty()
        && generate
        && let Some(base) = m
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|b| !b.is_empty())
    {
        name = names::generate_name(base, crate::http_util::random_u64);
    }
    if name.is_empty() {
        return Err(invalid(
            def,
            "",
            vec![Cause {
                reason: "FieldValueRequired".into(),
                message: "Required value: name or generateName is required".into(),
                field: "metadata.name".into(),
            }],
        ));
    }
    validate_name(def, &name)?;
    let body_ns = m
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if def.namespaced {
        if !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        m.insert("namespace".into(), json!(ns));
    } else {
        m.remove("namespace");
    }
    m.insert("name".into(), json!(name));
    m.insert("uid".into(), json!(crate::http_util::new_uid()));
    m.insert(
        "creationTimestamp".into(),
        json!(crate::http_util::now_rfc3339()),
    );
    if def.generation {
        m.insert("generation".into(), json!(1));
    } else {
        m.remove("generation");
    }
    m.remove("deletionTimestamp");
    m.remove("deletionGracePeriodSeconds");
    m.remove("resourceVersion");
    m.remove("selfLink");
    if def.status
        && def.custom
        && let Some(o) = obj.as_object_mut()
    {
        o.remove("status");
    }
    kind_defaults(def, &mut obj, true)?;
    let mut obj = crate::typed::normalize(def, obj, strict)?;
    validate_metadata(def, &obj)?;
    apply_schema(def, &mut obj, strict)?;
    if def.group == "apiextensions.k8s.io" {
        crate::crd::prepare(&mut obj)?;
    }
    Ok(obj)
}

/// Turn a requested replacement of `old` into what is stored (main resource or `status`).
pub fn prepare_update(
    def: &ResourceDef,
    old: &Value,
    mut new: Value,
    subresource: Option<&str>,
    strict: bool,
) -> Result<Change, ApiError> {
    check_type(def, &mut new)?;
    let old_name = meta_str(old, "name").to_string();
    let new_name = meta_str(&new, "name").to_string();
    if !new_name.is_empty() && new_name != old_name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({new_name}) does not match the name on the URL ({old_name})"
        )));
    }
    if let Some(rv) = new
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        && !rv.is_empty()
        && Some(rv)
            != old
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
    {
        return Err(ApiError::stale(&def.group, &def.plural, &old_name));
    }
    if let Some(uid) = new.pointer("/metadata/uid").and_then(Value::as_str)
        && !uid.is_empty()
        && Some(uid) != old.pointer("/metadata/uid").and_then(Value::as_str)
    {
        return Err(ApiError::conflict(
            &def.group,
            &def.plural,
            &old_name,
            &format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                meta_str(old, "uid")
            ),
        ));
    }
    if subresource == Some("status") {
        let mut out = old.clone();
        match new.get("status") {
            Some(s) => out["status"] = s.clone(),
            None => {
                if let Some(o) = out.as_object_mut() {
                    o.remove("status");
                }
            }
        }
        // Managed fields of a status write are tracked on the stored object.
        if let Some(mf) = new.pointer("/metadata/managedFields") {
            meta_mut(&mut out).insert("managedFields".into(), mf.clone());
        }
        let mut out = crate::typed::normalize(def, out, strict)?;
        apply_schema(def, &mut out, strict)?;
        return Ok(Change::Put(out));
    }
    if def.status {
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                if let Some(o) = new.as_object_mut() {
                    o.remove("status");
                }
            }
        }
    }
    {
        let om = old.get("metadata").cloned().unwrap_or(json!({}));
        let m = meta_mut(&mut new);
        for k in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            match om.get(k) {
                Some(v) => m.insert(k.into(), v.clone()),
                None => m.remove(k),
            };
        }
    }
    crate::immutable::keep_allocated(def, old, &mut new);
    kind_defaults(def, &mut new, false)?;
    let mut new = crate::typed::normalize(def, new, strict)?;
    crate::immutable::check(def, old, &new)?;
    validate_metadata(def, &new)?;
    apply_schema(def, &mut new, strict)?;
    if def.group == "apiextensions.k8s.io" {
        crate::crd::prepare(&mut new)?;
        if let Some(s) = old.get("status") {
            new["status"] = s.clone();
        }
        crate::crd::prepare_status(&mut new);
    }
    bump_generation(def, old, &mut new);
    Ok(finish(new))
}

/// Bump metadata.generation when the object's desired state changed.
pub fn bump_generation(def: &ResourceDef, old: &Value, new: &mut Value) {
    if !def.generation {
        return;
    }
    let ignore: &[&str] = if def.status {
        &["metadata", "status"]
    } else {
        &["metadata"]
    };
    let became_deleting = !is_deleting(old) && is_deleting(new);
    if without(old, ignore) != without(new, ignore) || became_deleting {
        let g = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        meta_mut(new).insert("generation".into(), json!(g + 1));
    }
}

/// An object being deleted is removed once its last finalizer is gone.
pub fn finish(new: Value) -> Change {
    let namespace_finalizers = new.get("kind").and_then(Value::as_str) == Some("Namespace")
        && new
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
    if is_deleting(&new) && finalizers(&new).is_empty() && !namespace_finalizers {
        Change::Delete
    } else {
        Change::Put(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn def(group: &str, version: &str, plural: &str) -> std::sync::Arc<ResourceDef> {
        Registry::new()
            .lookup(group, version, plural)
            .unwrap_or_else(|| {
                std::sync::Arc::new(ResourceDef {
                    group: group.into(),
                    version: version.into(),
                    kind: "X".into(),
                    plural: plural.into(),
                    singular: "x".into(),
                    namespaced: true,
                    short_names: vec![],
                    categories: vec![],
                    status: false,
                    generation: false,
                    scale: None,
                    verbs: vec![],
                    schema: None,
                    structural: None,
                    merge: None,
                    columns: vec![],
                    custom: false,
                    virtual_only: false,
                    storage_version: String::new(),
                })
            })
    }

    #[test]
    fn generation_ignores_status_changes_when_status_subresource_exists() {
        let d = def("apps", "v1", "deployments");
        let old =
            json!({"metadata": {"generation": 3}, "spec": {"replicas": 1}, "status": {"a": 1}});
        let mut new =
            json!({"metadata": {"generation": 3}, "spec": {"replicas": 1}, "status": {"a": 2}});
        bump_generation(&d, &old, &mut new);
        assert_eq!(new["metadata"]["generation"], 3);
        let mut new = json!({"metadata": {"generation": 3}, "spec": {"replicas": 2}});
        bump_generation(&d, &old, &mut new);
        assert_eq!(new["metadata"]["generation"], 4);
    }

    #[test]
    fn secret_string_data_is_encoded_into_data() {
        let d = def("", "v1", "secrets");
        let mut s = json!({"metadata": {"name": "s"}, "stringData": {"k": "v"}});
        assert!(kind_defaults(&d, &mut s, true).is_ok());
        assert_eq!(s["data"]["k"], "dg==");
        assert_eq!(s["type"], "Opaque");
        assert!(s.get("stringData").is_none());
    }

    #[test]
    fn mismatched_kind_is_a_bad_request() {
        let d = def("", "v1", "configmaps");
        let mut o = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}});
        let e = check_type(&d, &mut o).err().map(|e| e.code);
        assert_eq!(e, Some(400));
    }

    #[test]
    fn invalid_label_key_and_value_are_field_errors() {
        let d = def("", "v1", "configmaps");
        let o = json!({"metadata": {"name": "x", "labels": {"Bad Key": "ok", "ok": "bad value!"},
                                    "finalizers": ["example.com/ok"]}});
        let e = validate_metadata(&d, &o).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(422));
        let causes = e
            .and_then(|e| e.details)
            .map(|d| d["causes"].clone())
            .unwrap_or_default();
        assert_eq!(causes.as_array().map(Vec::len), Some(2));
        assert_eq!(causes[0]["field"], "metadata.labels");
        let ok = json!({"metadata": {"name": "x", "labels": {"app.kubernetes.io/name": "web"}}});
        assert!(validate_metadata(&d, &ok).is_ok());
    }

    #[test]
    fn removing_last_finalizer_of_deleting_object_deletes_it() {
        let o =
            json!({"metadata": {"deletionTimestamp": "2020-01-01T00:00:00Z", "finalizers": []}});
        assert!(matches!(finish(o), Change::Delete));
    }
}
