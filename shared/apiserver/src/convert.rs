//! Conversion between the stored form of an object and the version a request names:
//! custom resources are stored in their storage version (conversion None rewrites apiVersion),
//! and `events.k8s.io/v1` Events share the core `v1` Event storage, as in the real server.

use serde_json::{Map, Value, json};

use crate::registry::ResourceDef;

/// Core Event field and its `events.k8s.io/v1` name.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

fn is_events_v1(def: &ResourceDef) -> bool {
    def.group == "events.k8s.io"
}

/// Whether stored objects differ from what this def serves.
pub fn needed(def: &ResourceDef) -> bool {
    def.custom || is_events_v1(def)
}

fn rename(obj: &Value, api_version: &str, to_new: bool) -> Value {
    let Some(src) = obj.as_object() else {
        return obj.clone();
    };
    let mut out = Map::new();
    for (k, v) in src {
        let renamed = EVENT_FIELDS.iter().find_map(|(core, new)| {
            if to_new && k == core {
                Some(*new)
            } else if !to_new && k == new {
                Some(*core)
            } else {
                None
            }
        });
        out.insert(renamed.unwrap_or(k).to_string(), v.clone());
    }
    out.insert("apiVersion".into(), json!(api_version));
    Value::Object(out)
}

/// The object as the request's version shows it.
pub fn to_view(def: &ResourceDef, stored: &Value) -> Value {
    if is_events_v1(def) {
        return rename(stored, "events.k8s.io/v1", true);
    }
    let mut o = stored.clone();
    if def.custom {
        o["apiVersion"] = json!(def.api_version());
    }
    o
}

/// The object as it is stored.
pub fn to_storage(def: &ResourceDef, view: Value) -> Value {
    if is_events_v1(def) {
        return rename(&view, "v1", false);
    }
    let mut o = view;
    if def.custom && !def.storage_version.is_empty() && o.is_object() {
        o["apiVersion"] = json!(format!("{}/{}", def.group, def.storage_version));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn events_v1_view_renames_core_fields_and_round_trips() {
        let reg = Registry::new();
        let def = reg.lookup("events.k8s.io", "v1", "events");
        let Some(def) = def else {
            panic!("events.k8s.io/v1 events not served")
        };
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "p"}, "message": "hi", "reason": "Started", "count": 2});
        let view = to_view(&def, &core);
        assert_eq!(view["apiVersion"], "events.k8s.io/v1");
        assert_eq!(view["regarding"]["name"], "p");
        assert_eq!(view["note"], "hi");
        assert_eq!(view["deprecatedCount"], 2);
        assert_eq!(to_storage(&def, view), core);
    }
}
