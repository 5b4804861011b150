//! `meta.k8s.io/v1` Table output for `kubectl get`: built-in columns and CRD printer columns.

use serde_json::{Value, json};

use crate::registry::{PrinterColumn, ResourceDef};

fn col(name: &str, type_: &str, json_path: &str, priority: i64) -> PrinterColumn {
    PrinterColumn {
        name: name.into(),
        type_: type_.into(),
        format: String::new(),
        description: String::new(),
        priority,
        json_path: json_path.into(),
    }
}

/// Columns kubectl shows for built-in kinds (beyond Name), computed from simple JSON paths.
pub fn builtin_columns(group: &str, plural: &str) -> Vec<PrinterColumn> {
    let age = col("Age", "date", ".metadata.creationTimestamp", 0);
    match (group, plural) {
        ("", "configmaps") => vec![col("Data", "integer", "#len.data", 0), age],
        ("", "secrets") => vec![
            col("Type", "string", ".type", 0),
            col("Data", "integer", "#len.data", 0),
            age,
        ],
        ("", "namespaces") => vec![col("Status", "string", ".status.phase", 0), age],
        ("", "serviceaccounts") => vec![col("Secrets", "integer", "#len.secrets", 0), age],
        ("", "pods") => vec![
            col("Ready", "string", "#podready", 0),
            col("Status", "string", ".status.phase", 0),
            col("Restarts", "integer", "#zero", 0),
            age,
        ],
        ("", "services") => vec![
            col("Type", "string", ".spec.type", 0),
            col("Cluster-IP", "string", ".spec.clusterIP", 0),
            col("External-IP", "string", "#none", 0),
            col("Port(s)", "string", "#ports", 0),
            age,
        ],
        ("apps", "deployments") => vec![
            col("Ready", "string", "#ready", 0),
            col("Up-to-date", "integer", ".status.updatedReplicas", 0),
            col("Available", "integer", ".status.availableReplicas", 0),
            age,
            col("Containers", "string", "#containers", 1),
            col("Images", "string", "#images", 1),
            col("Selector", "string", "#selector", 1),
        ],
        ("", "events") => vec![
            col("Last Seen", "date", ".lastTimestamp", 0),
            col("Type", "string", ".type", 0),
            col("Reason", "string", ".reason", 0),
            col("Object", "string", "#involved", 0),
            col("Message", "string", ".message", 0),
        ],
        ("events.k8s.io", "events") => vec![
            col("Last Seen", "date", ".deprecatedLastTimestamp", 0),
            col("Type", "string", ".type", 0),
            col("Reason", "string", ".reason", 0),
            col("Object", "string", "#regarding", 0),
            col("Message", "string", ".note", 0),
        ],
        ("apps", "statefulsets") => vec![col("Ready", "string", "#ready", 0), age],
        ("apps", "replicasets") => vec![
            col("Desired", "integer", ".spec.replicas", 0),
            col("Current", "integer", ".status.replicas", 0),
            col("Ready", "integer", ".status.readyReplicas", 0),
            age,
        ],
        ("batch", "jobs") => vec![col("Status", "string", "#jobstatus", 0), age],
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            vec![col(
                "Created At",
                "string",
                ".metadata.creationTimestamp",
                0,
            )]
        }
        _ => vec![age],
    }
}

/// Evaluate the JSONPath subset CRD printer columns use: `.a.b`, `.a[0]`, `.a[*].b`,
/// `.a[?(@.type=="Ready")].status`. Returns all matches.
pub fn json_path<'a>(obj: &'a Value, path: &str) -> Vec<&'a Value> {
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    let mut cur: Vec<&Value> = vec![obj];
    let mut rest = path.trim_start_matches('$');
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            rest = &r[end..];
            if key.is_empty() {
                continue;
            }
            cur = cur.into_iter().filter_map(|v| v.get(key)).collect();
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else {
                return vec![];
            };
            let sel = &r[..end];
            rest = &r[end + 1..];
            if sel == "*" {
                cur = cur
                    .into_iter()
                    .filter_map(Value::as_array)
                    .flatten()
                    .collect();
            } else if let Ok(i) = sel.parse::<usize>() {
                cur = cur.into_iter().filter_map(|v| v.get(i)).collect();
            } else if let Some(f) = sel.strip_prefix("?(@.").and_then(|f| f.strip_suffix(')')) {
                let Some((field, want)) = f.split_once("==") else {
                    return vec![];
                };
                let want = want.trim().trim_matches(|c| c == '"' || c == '\'');
                let field = field.trim();
                cur = cur
                    .into_iter()
                    .filter_map(Value::as_array)
                    .flatten()
                    .filter(|item| match item.get(field) {
                        Some(Value::String(s)) => s == want,
                        Some(other) => *other == want,
                        None => false,
                    })
                    .collect();
            } else {
                return vec![];
            }
        } else {
            return vec![];
        }
    }
    cur
}

/// A duration as kubectl prints ages: 45s, 12m, 3h, 5d, 2y.
pub fn human_age(ts: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) else {
        return "<unknown>".into();
    };
    let secs = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s if s < 365 * 86400 => format!("{}d", s / 86400),
        s => format!("{}y", s / (365 * 86400)),
    }
}

fn special(obj: &Value, key: &str) -> Value {
    let n = |p: &str| {
        json_path(obj, p)
            .first()
            .and_then(|v| v.as_i64())
            .unwrap_or(0)
    };
    match key {
        "#zero" => json!(0),
        "#involved" | "#regarding" => {
            let r = obj.get(if key == "#involved" {
                "involvedObject"
            } else {
                "regarding"
            });
            let part = |k: &str| {
                r.and_then(|r| r.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("")
            };
            json!(format!(
                "{}/{}",
                part("kind").to_ascii_lowercase(),
                part("name")
            ))
        }
        "#containers" | "#images" => {
            let field = if key == "#containers" {
                "name"
            } else {
                "image"
            };
            let list: Vec<&str> = obj
                .pointer("/spec/template/spec/containers")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| c.get(field).and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            json!(list.join(","))
        }
        "#selector" => {
            let sel: Vec<String> = obj
                .pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                        .collect()
                })
                .unwrap_or_default();
            json!(sel.join(","))
        }
        "#none" => json!("<none>"),
        "#podready" => {
            let total = obj
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let ready = obj
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .map_or(0, |a| {
                    a.iter()
                        .filter(|c| c.get("ready") == Some(&json!(true)))
                        .count()
                });
            json!(format!("{ready}/{total}"))
        }
        "#ready" => json!(format!(
            "{}/{}",
            n(".status.readyReplicas"),
            obj.pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1)
        )),
        "#ports" => {
            let ports: Vec<String> = obj
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            format!(
                                "{}/{}",
                                p.get("port").and_then(Value::as_i64).unwrap_or(0),
                                p.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!(if ports.is_empty() {
                "<none>".to_string()
            } else {
                ports.join(",")
            })
        }
        "#jobstatus" => {
            let conds = json_path(obj, ".status.conditions[*]");
            let done = |t: &str| {
                conds.iter().any(|c| {
                    c.get("type") == Some(&json!(t)) && c.get("status") == Some(&json!("True"))
                })
            };
            json!(if done("Complete") {
                "Complete"
            } else if done("Failed") {
                "Failed"
            } else {
                "Running"
            })
        }
        k => match k.strip_prefix("#len") {
            Some(p) => json!(
                json_path(obj, p).first().map_or(0, |v| match v {
                    Value::Object(m) => m.len(),
                    Value::Array(a) => a.len(),
                    _ => 0,
                }) + if p == ".data" {
                    obj.get("binaryData")
                        .and_then(Value::as_object)
                        .map_or(0, |m| m.len())
                } else {
                    0
                }
            ),
            None => Value::Null,
        },
    }
}

fn cell(obj: &Value, c: &PrinterColumn) -> Value {
    if c.json_path.starts_with('#') {
        return special(obj, &c.json_path);
    }
    let found = json_path(obj, &c.json_path);
    let Some(first) = found.first() else {
        return Value::Null;
    };
    if c.type_ == "date" {
        return match first.as_str() {
            Some(ts) => json!(human_age(ts)),
            None => Value::Null,
        };
    }
    match first {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => (*first).clone(),
        other => json!(other.to_string()),
    }
}

pub fn column_definitions(def: &ResourceDef) -> Value {
    // kubectl hides the name of Events unless -o wide, as the real Event printer does.
    let name_priority = if def.plural == "events" { 1 } else { 0 };
    let mut cols = vec![json!({"name": "Name", "type": "string", "format": "name",
        "description": "Name must be unique within a namespace.", "priority": name_priority})];
    for c in &def.columns {
        cols.push(json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority}));
    }
    Value::Array(cols)
}

pub fn row(def: &ResourceDef, obj: &Value, include_object: &str) -> Value {
    let mut cells = vec![
        obj.pointer("/metadata/name")
            .cloned()
            .unwrap_or(Value::Null),
    ];
    cells.extend(def.columns.iter().map(|c| cell(obj, c)));
    let object = match include_object {
        "None" => Value::Null,
        "Object" => obj.clone(),
        _ => json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj.get("metadata").cloned().unwrap_or(json!({}))}),
    };
    json!({"cells": cells, "object": object})
}

pub fn table(
    def: &ResourceDef,
    items: &[Value],
    meta: Value,
    include_object: &str,
    headers: bool,
) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": if headers { column_definitions(def) } else { json!([]) },
        "rows": items.iter().map(|o| row(def, o, include_object)).collect::<Vec<_>>(),
    })
}

/// Whether the client asked for `PartialObjectMetadata` (kube's metadata watches).
pub fn wants_metadata(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=PartialObjectMetadata"))
}

/// The `meta.k8s.io/v1` PartialObjectMetadata of an object.
pub fn partial(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
           "metadata": obj.get("metadata").cloned().unwrap_or(json!({}))})
}

pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_path_filters_conditions_by_type() {
        let o = json!({"status": {"conditions": [
            {"type": "Reconciling", "status": "False"},
            {"type": "Ready", "status": "True", "message": "ok"}]}});
        let got = json_path(&o, r#".status.conditions[?(@.type=="Ready")].message"#);
        assert_eq!(got, vec![&json!("ok")]);
        assert!(json_path(&o, ".status.missing").is_empty());
        assert!(json_path(&o, ".status.conditions[").is_empty());
    }

    #[test]
    fn event_rows_name_the_involved_object_and_hide_the_event_name() {
        let reg = crate::registry::Registry::new();
        let Some(def) = reg.lookup("", "v1", "events") else {
            panic!("events not served")
        };
        let cols = column_definitions(&def);
        assert_eq!(cols[0]["priority"], 1);
        let ev = json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Deployment", "name": "app"},
                        "reason": "Scaled", "type": "Normal", "message": "m"});
        let r = row(&def, &ev, "None");
        assert_eq!(r["cells"][4], "deployment/app");
    }

    #[test]
    fn date_columns_render_as_age() {
        let c = col("Age", "date", ".metadata.creationTimestamp", 0);
        let o = json!({"metadata": {"creationTimestamp": "2000-01-01T00:00:00Z"}});
        assert!(cell(&o, &c).as_str().is_some_and(|s| s.ends_with('y')));
    }
}
