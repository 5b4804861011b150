//! Decoding of the few Kubernetes protobuf bodies kubectl sends for typed requests
//! (`kubectl create namespace|configmap|secret|serviceaccount`, `kubectl auth can-i`).
//! Other protobuf bodies get 415 Unsupported Media Type.

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// One decoded field: number and raw payload (varints as numbers, length-delimited as bytes).
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn bad() -> ApiError {
    ApiError::bad_request("error decoding protobuf body: truncated or malformed message")
}

fn varint(b: &[u8], i: &mut usize) -> Result<u64, ApiError> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i).ok_or_else(bad)?;
        *i += 1;
        out |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(out);
        }
    }
    Err(bad())
}

fn fields(b: &[u8]) -> Result<Vec<(u64, Field<'_>)>, ApiError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i)?;
        let (num, wire) = (key >> 3, key & 7);
        match wire {
            0 => out.push((num, Field::Varint(varint(b, &mut i)?))),
            1 => i = i.checked_add(8).filter(|e| *e <= b.len()).ok_or_else(bad)?,
            5 => i = i.checked_add(4).filter(|e| *e <= b.len()).ok_or_else(bad)?,
            2 => {
                let len = usize::try_from(varint(b, &mut i)?).map_err(|_| bad())?;
                let end = i
                    .checked_add(len)
                    .filter(|e| *e <= b.len())
                    .ok_or_else(bad)?;
                out.push((num, Field::Bytes(&b[i..end])));
                i = end;
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

fn text(b: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(b.to_vec()).map_err(|_| bad())
}

fn map_entry(b: &[u8], value_bytes: bool) -> Result<(String, Value), ApiError> {
    let mut k = String::new();
    let mut v = Value::String(String::new());
    for (n, f) in fields(b)? {
        if let Field::Bytes(x) = f {
            match n {
                1 => k = text(x)?,
                2 if value_bytes => v = json!(base64::engine::general_purpose::STANDARD.encode(x)),
                2 => v = json!(text(x)?),
                _ => {}
            }
        }
    }
    Ok((k, v))
}

fn object_meta(b: &[u8]) -> Result<Value, ApiError> {
    let mut m = Map::new();
    let mut labels = Map::new();
    let mut annotations = Map::new();
    let mut finalizers = Vec::new();
    for (n, f) in fields(b)? {
        let Field::Bytes(x) = f else { continue };
        match n {
            1..=3 if x.is_empty() => {}
            1 => drop(m.insert("name".into(), json!(text(x)?))),
            2 => drop(m.insert("generateName".into(), json!(text(x)?))),
            3 => drop(m.insert("namespace".into(), json!(text(x)?))),
            11 => {
                let (k, v) = map_entry(x, false)?;
                labels.insert(k, v);
            }
            12 => {
                let (k, v) = map_entry(x, false)?;
                annotations.insert(k, v);
            }
            14 => finalizers.push(json!(text(x)?)),
            _ => {}
        }
    }
    if !labels.is_empty() {
        m.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        m.insert("annotations".into(), Value::Object(annotations));
    }
    if !finalizers.is_empty() {
        m.insert("finalizers".into(), Value::Array(finalizers));
    }
    Ok(Value::Object(m))
}

fn strings(b: &[u8], names: &[(u64, &str)]) -> Result<Value, ApiError> {
    let mut m = Map::new();
    for (n, f) in fields(b)? {
        if let (Field::Bytes(x), Some((_, name))) = (f, names.iter().find(|(k, _)| *k == n)) {
            m.insert((*name).into(), json!(text(x)?));
        }
    }
    Ok(Value::Object(m))
}

fn push(obj: &mut Value, key: &str, item: Value) {
    match obj.get_mut(key).and_then(Value::as_array_mut) {
        Some(a) => a.push(item),
        None => obj[key] = json!([item]),
    }
}

fn policy_rule(b: &[u8]) -> Result<Value, ApiError> {
    let names = [
        "verbs",
        "apiGroups",
        "resources",
        "resourceNames",
        "nonResourceURLs",
    ];
    let mut m = Map::new();
    for (n, f) in fields(b)? {
        let (Field::Bytes(x), Some(name)) =
            (f, n.checked_sub(1).and_then(|i| names.get(i as usize)))
        else {
            continue;
        };
        let entry = m.entry(name.to_string()).or_insert_with(|| json!([]));
        if let Some(a) = entry.as_array_mut() {
            a.push(json!(text(x)?));
        }
    }
    Ok(Value::Object(m))
}

fn body(api_version: &str, kind: &str, raw: &[u8]) -> Result<Value, ApiError> {
    let mut obj = json!({"apiVersion": api_version, "kind": kind});
    let mut data = Map::new();
    let mut binary = Map::new();
    let mut string_data = Map::new();
    for (n, f) in fields(raw)? {
        match (kind, n, f) {
            (_, 1, Field::Bytes(x)) => obj["metadata"] = object_meta(x)?,
            ("ConfigMap", 2, Field::Bytes(x)) => {
                let (k, v) = map_entry(x, false)?;
                data.insert(k, v);
            }
            ("ConfigMap", 3, Field::Bytes(x)) | ("Secret", 2, Field::Bytes(x)) => {
                let (k, v) = map_entry(x, true)?;
                if kind == "Secret" {
                    data.insert(k, v)
                } else {
                    binary.insert(k, v)
                };
            }
            ("ConfigMap", 4, Field::Varint(v)) | ("Secret", 5, Field::Varint(v)) => {
                obj["immutable"] = json!(v != 0)
            }
            ("Secret", 3, Field::Bytes(x)) if !x.is_empty() => obj["type"] = json!(text(x)?),
            ("Secret", 4, Field::Bytes(x)) => {
                let (k, v) = map_entry(x, false)?;
                string_data.insert(k, v);
            }
            ("Namespace", 2, Field::Bytes(x)) => {
                let fins: Result<Vec<Value>, ApiError> = fields(x)?
                    .into_iter()
                    .filter_map(|(n, f)| match (n, f) {
                        (1, Field::Bytes(s)) => Some(text(s).map(Value::String)),
                        _ => None,
                    })
                    .collect();
                obj["spec"] = json!({"finalizers": fins?});
            }
            ("Role" | "ClusterRole", 2, Field::Bytes(x)) => {
                push(&mut obj, "rules", policy_rule(x)?)
            }
            ("RoleBinding" | "ClusterRoleBinding", 2, Field::Bytes(x)) => push(
                &mut obj,
                "subjects",
                strings(
                    x,
                    &[(1, "kind"), (2, "apiGroup"), (3, "name"), (4, "namespace")],
                )?,
            ),
            ("RoleBinding" | "ClusterRoleBinding", 3, Field::Bytes(x)) => {
                obj["roleRef"] = strings(x, &[(1, "apiGroup"), (2, "kind"), (3, "name")])?
            }
            ("TokenRequest", 2, Field::Bytes(x)) => {
                let mut spec = json!({});
                for (sn, sf) in fields(x)? {
                    match (sn, sf) {
                        (1, Field::Bytes(a)) => push(&mut spec, "audiences", json!(text(a)?)),
                        (4, Field::Varint(secs)) => spec["expirationSeconds"] = json!(secs),
                        _ => {}
                    }
                }
                obj["spec"] = spec;
            }
            ("SelfSubjectAccessReview", 2, Field::Bytes(x)) => {
                let mut spec = Map::new();
                for (sn, sf) in fields(x)? {
                    let Field::Bytes(y) = sf else { continue };
                    match sn {
                        1 => drop(spec.insert(
                            "resourceAttributes".into(),
                            strings(
                                y,
                                &[
                                    (1, "namespace"),
                                    (2, "verb"),
                                    (3, "group"),
                                    (4, "version"),
                                    (5, "resource"),
                                    (6, "subresource"),
                                    (7, "name"),
                                ],
                            )?,
                        )),
                        2 => drop(spec.insert(
                            "nonResourceAttributes".into(),
                            strings(y, &[(1, "path"), (2, "verb")])?,
                        )),
                        _ => {}
                    }
                }
                obj["spec"] = Value::Object(spec);
            }
            _ => {}
        }
    }
    for (k, m) in [
        ("data", data),
        ("binaryData", binary),
        ("stringData", string_data),
    ] {
        if !m.is_empty() {
            obj[k] = Value::Object(m);
        }
    }
    Ok(obj)
}

/// Decode a `application/vnd.kubernetes.protobuf` body into the JSON object it encodes.
pub fn decode(bytes: &[u8]) -> Result<Value, ApiError> {
    let unsupported = || ApiError::unsupported_media_type("application/vnd.kubernetes.protobuf");
    let Some(rest) = bytes.strip_prefix(b"k8s\0") else {
        return Err(bad());
    };
    let mut type_meta = (String::new(), String::new());
    let mut raw: &[u8] = &[];
    for (n, f) in fields(rest)? {
        match (n, f) {
            (1, Field::Bytes(x)) => {
                for (tn, tf) in fields(x)? {
                    if let Field::Bytes(y) = tf {
                        match tn {
                            1 => type_meta.0 = text(y)?,
                            2 => type_meta.1 = text(y)?,
                            _ => {}
                        }
                    }
                }
            }
            (2, Field::Bytes(x)) => raw = x,
            _ => {}
        }
    }
    let (api_version, kind) = type_meta;
    let supported = matches!(
        (api_version.as_str(), kind.as_str()),
        (
            "v1",
            "ConfigMap" | "Secret" | "Namespace" | "ServiceAccount"
        ) | ("authorization.k8s.io/v1", "SelfSubjectAccessReview")
            | (
                "authentication.k8s.io/v1",
                "TokenRequest" | "SelfSubjectReview"
            )
            | (
                "rbac.authorization.k8s.io/v1",
                "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
            )
    );
    if !supported {
        return Err(unsupported());
    }
    body(&api_version, &kind, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(field: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![(field << 3) | 2, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_configmap_envelope_from_kubectl_create() {
        let tm = [ld(1, b"v1"), ld(2, b"ConfigMap")].concat();
        let meta = [ld(1, b"foo"), ld(3, b"default")].concat();
        let entry = [ld(1, b"a"), ld(2, b"b")].concat();
        let raw = [ld(1, &meta), ld(2, &entry)].concat();
        let msg = [b"k8s\0".to_vec(), ld(1, &tm), ld(2, &raw)].concat();
        let v = decode(&msg).ok();
        assert_eq!(
            v,
            Some(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "foo", "namespace": "default"}, "data": {"a": "b"}})
            )
        );
    }

    #[test]
    fn decodes_role_rules_from_kubectl_create_role() {
        let tm = [ld(1, b"rbac.authorization.k8s.io/v1"), ld(2, b"Role")].concat();
        let rule = [
            ld(1, b"get"),
            ld(1, b"list"),
            ld(2, b""),
            ld(3, b"configmaps"),
        ]
        .concat();
        let raw = [ld(1, &ld(1, b"r")), ld(2, &rule)].concat();
        let msg = [b"k8s\0".to_vec(), ld(1, &tm), ld(2, &raw)].concat();
        let v = decode(&msg).ok().unwrap_or_default();
        assert_eq!(
            v["rules"],
            json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps"]}])
        );
    }

    #[test]
    fn unknown_kind_is_unsupported_and_garbage_is_bad_request() {
        let tm = [ld(1, b"apps/v1"), ld(2, b"Deployment")].concat();
        let msg = [b"k8s\0".to_vec(), ld(1, &tm)].concat();
        assert_eq!(decode(&msg).err().map(|e| e.code), Some(415));
        assert_eq!(decode(b"k8s\0\x0a\xff").err().map(|e| e.code), Some(400));
        assert_eq!(decode(b"nope").err().map(|e| e.code), Some(400));
    }
}
