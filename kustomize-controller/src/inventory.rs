//! Flux's inventory of applied objects: entries `<namespace>_<name>_<group>_<kind>` with the
//! API version, and the set difference that decides what to prune.

use flux_api::kustomize::v1::{ResourceInventory, ResourceRef};
use serde_json::Value;

/// One applied object, as the inventory records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjMeta {
    pub namespace: String,
    pub name: String,
    pub group: String,
    pub kind: String,
    pub version: String,
}

impl ObjMeta {
    /// The object's identity, or `None` when it lacks a kind, apiVersion or name.
    pub fn of(obj: &Value) -> Option<ObjMeta> {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
        let (group, version) = match s("/apiVersion").rsplit_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), s("/apiVersion").to_string()),
        };
        let meta = ObjMeta {
            namespace: s("/metadata/namespace").to_string(),
            name: s("/metadata/name").to_string(),
            group,
            kind: s("/kind").to_string(),
            version,
        };
        (!meta.name.is_empty() && !meta.kind.is_empty() && !meta.version.is_empty()).then_some(meta)
    }

    /// Flux's inventory id.
    pub fn id(&self) -> String {
        format!(
            "{}_{}_{}_{}",
            self.namespace, self.name, self.group, self.kind
        )
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `Kind/namespace/name` (or `Kind/name` when cluster-scoped), as Flux names objects in
    /// events and messages.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }

    /// Parses an inventory entry; `None` for ids that are not Flux's format.
    pub fn from_entry(entry: &ResourceRef) -> Option<ObjMeta> {
        // Names and namespaces cannot contain '_', groups cannot either, kinds cannot.
        let mut parts = entry.id.splitn(4, '_');
        let namespace = parts.next()?.to_string();
        let name = parts.next()?.to_string();
        let group = parts.next()?.to_string();
        let kind = parts.next()?.to_string();
        if name.is_empty() || kind.is_empty() || entry.version.is_empty() {
            return None;
        }
        Some(ObjMeta {
            namespace,
            name,
            group,
            kind,
            version: entry.version.clone(),
        })
    }
}

/// The inventory for a list of objects, sorted by id as Flux stores it.
pub fn inventory_of(objects: &[ObjMeta]) -> ResourceInventory {
    let mut entries: Vec<ResourceRef> = objects
        .iter()
        .map(|o| ResourceRef {
            id: o.id(),
            version: o.version.clone(),
        })
        .collect();
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    entries.dedup_by(|a, b| a.id == b.id);
    ResourceInventory { entries }
}

/// Objects of `old` whose id is no longer in `new`: the prune candidates.
pub fn stale(old: Option<&ResourceInventory>, new: &ResourceInventory) -> Vec<ObjMeta> {
    let Some(old) = old else {
        return Vec::new();
    };
    let keep: std::collections::HashSet<&str> = new.entries.iter().map(|e| e.id.as_str()).collect();
    old.entries
        .iter()
        .filter(|e| !keep.contains(e.id.as_str()))
        .filter_map(ObjMeta::from_entry)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_flux_format_for_core_grouped_and_cluster_objects() {
        let svc = ObjMeta::of(&serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"}})).expect("svc");
        assert_eq!(svc.id(), "default_web__Service");
        let dep = ObjMeta::of(&serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"}})).expect("dep");
        assert_eq!(dep.id(), "default_web_apps_Deployment");
        let ns = ObjMeta::of(&serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}})).expect("ns");
        assert_eq!(ns.id(), "_apps__Namespace");
        assert_eq!(ns.display(), "Namespace/apps");
        let inv = inventory_of(&[svc.clone(), dep.clone(), ns.clone()]);
        assert_eq!(
            inv.entries
                .iter()
                .map(|e| e.id.as_str())
                .collect::<Vec<_>>(),
            [
                "_apps__Namespace",
                "default_web__Service",
                "default_web_apps_Deployment"
            ]
        );
        for e in &inv.entries {
            let back = ObjMeta::from_entry(e).expect("parse");
            assert_eq!(back.id(), e.id);
        }
    }

    #[test]
    fn stale_lists_objects_that_left_the_inventory() {
        let a = ObjMeta::of(&serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}})).expect("a");
        let b = ObjMeta::of(&serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "x"}})).expect("b");
        let old = inventory_of(&[a.clone(), b.clone()]);
        let new = inventory_of(std::slice::from_ref(&a));
        assert_eq!(stale(Some(&old), &new), vec![b]);
        assert!(stale(None, &new).is_empty());
    }
}
