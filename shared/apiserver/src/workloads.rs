//! The children a workload controller would create: ReplicaSets for Deployments and Pods for
//! ReplicaSets, StatefulSets, DaemonSets and Jobs, owned through ownerReferences (part of the
//! workload simulator).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::objects::is_deleting;
use crate::registry::GroupResource;
use crate::server::ServerState;
use crate::simulate::SIMULATE_ANNOTATION;
use crate::store::{Change, meta_str};

const HASH_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A stable short hash of a pod template, like the pod-template-hash label.
fn template_hash(template: &Value) -> String {
    let mut h = DefaultHasher::new();
    template.to_string().hash(&mut h);
    let mut n = h.finish();
    (0..10)
        .map(|_| {
            let c = HASH_CHARS[(n % HASH_CHARS.len() as u64) as usize] as char;
            n /= HASH_CHARS.len() as u64;
            c
        })
        .collect()
}

fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner.get("apiVersion"), "kind": owner.get("kind"),
        "name": meta_str(owner, "name"), "uid": meta_str(owner, "uid"),
        "controller": true, "blockOwnerDeletion": true,
    })
}

fn controller_uid(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller") == Some(&json!(true)))?
        .get("uid")?
        .as_str()
}

fn fails(obj: &Value) -> bool {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(SIMULATE_ANNOTATION))
        .and_then(Value::as_str)
        == Some("fail")
}

/// Labels and annotations for a child: the template's, plus `extra`, plus the failure marker.
fn child_meta(owner: &Value, template: &Value, name: &str, extra: &[(&str, &str)]) -> Value {
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    for (k, v) in extra {
        if let Some(m) = labels.as_object_mut() {
            m.insert((*k).into(), json!(v));
        }
    }
    let mut annotations = template
        .pointer("/metadata/annotations")
        .cloned()
        .unwrap_or(json!({}));
    if fails(owner)
        && let Some(m) = annotations.as_object_mut()
    {
        m.insert(SIMULATE_ANNOTATION.into(), json!("fail"));
    }
    json!({"name": name, "namespace": meta_str(owner, "namespace"), "labels": labels,
           "annotations": annotations, "ownerReferences": [owner_ref(owner)]})
}

fn create(st: &ServerState, version: (&str, &str, &str), body: Value) {
    let Some(def) = st.registry.lookup(version.0, version.1, version.2) else {
        return;
    };
    let ns = meta_str(&body, "namespace").to_string();
    let Ok(obj) = crate::objects::prepare_create(&def, &ns, body, true, false) else {
        return;
    };
    let name = meta_str(&obj, "name").to_string();
    let _ = st
        .store
        .transact(&def.gr(), &ns, &name, false, |old| match old {
            Some(_) => Err(crate::error::ApiError::internal("exists")),
            None => Ok(Change::Put(obj)),
        });
}

fn delete(st: &ServerState, gr: &GroupResource, obj: &Value) {
    let _ = st.store.transact(
        gr,
        meta_str(obj, "namespace"),
        meta_str(obj, "name"),
        false,
        |_| Ok(Change::Delete),
    );
}

fn set_replicas(st: &ServerState, gr: &GroupResource, obj: &Value, replicas: i64) {
    let _ = st.store.transact(
        gr,
        meta_str(obj, "namespace"),
        meta_str(obj, "name"),
        false,
        |cur| {
            let Some(cur) = cur else {
                return Err(crate::error::ApiError::internal("gone"));
            };
            let mut new = cur.as_ref().clone();
            crate::patch::set_path(&mut new, ".spec.replicas", json!(replicas))?;
            Ok(Change::Put(new))
        },
    );
}

fn replicas(obj: &Value) -> i64 {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0)
}

fn by_owner(items: &[Arc<Value>]) -> HashMap<String, Vec<Arc<Value>>> {
    let mut out: HashMap<String, Vec<Arc<Value>>> = HashMap::new();
    for i in items {
        if let Some(uid) = controller_uid(i) {
            out.entry(uid.to_string()).or_default().push(i.clone());
        }
    }
    out
}

/// Deployments own one ReplicaSet per pod template; older ones are scaled to zero.
fn deployments(st: &ServerState) {
    let rs_gr = GroupResource::new("apps", "replicasets");
    let (sets, _) = st.store.list(&rs_gr, None);
    let owned = by_owner(&sets);
    let (deploys, _) = st
        .store
        .list(&GroupResource::new("apps", "deployments"), None);
    for d in deploys.iter().filter(|d| !is_deleting(d)) {
        let Some(template) = d.pointer("/spec/template") else {
            continue;
        };
        let hash = template_hash(template);
        let name = format!("{}-{hash}", meta_str(d, "name"));
        let mine = owned.get(meta_str(d, "uid")).cloned().unwrap_or_default();
        for rs in &mine {
            let current = meta_str(rs, "name") == name;
            let want = if current { replicas(d) } else { 0 };
            if rs.pointer("/spec/replicas").and_then(Value::as_i64) != Some(want) {
                set_replicas(st, &rs_gr, rs, want);
            }
        }
        if mine.iter().any(|rs| meta_str(rs, "name") == name) {
            continue;
        }
        let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
        if let Some(m) = selector.as_object_mut() {
            let labels = m.entry("matchLabels").or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert("pod-template-hash".into(), json!(hash));
            }
        }
        let meta = child_meta(d, template, &name, &[("pod-template-hash", &hash)]);
        let mut tpl = template.clone();
        if let Some(m) = tpl.as_object_mut() {
            m.insert("metadata".into(), json!({"labels": meta["labels"].clone(), "annotations": meta["annotations"].clone()}));
        }
        create(
            st,
            ("apps", "v1", "replicasets"),
            json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
                "spec": {"replicas": replicas(d), "selector": selector, "template": tpl}
            }),
        );
    }
}

/// Pods for every ReplicaSet, StatefulSet, DaemonSet and Job, as many as each wants.
fn pods(st: &ServerState) {
    let pod_gr = GroupResource::new("", "pods");
    let (all, _) = st.store.list(&pod_gr, None);
    let owned = by_owner(&all);
    for (group, resource) in [
        ("apps", "replicasets"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("batch", "jobs"),
    ] {
        let (owners, _) = st.store.list(&GroupResource::new(group, resource), None);
        for o in owners.iter().filter(|o| !is_deleting(o)) {
            let Some(template) = o.pointer("/spec/template") else {
                continue;
            };
            let want = match resource {
                "replicasets" | "statefulsets" => replicas(o),
                _ => 1,
            } as usize;
            let mut mine = owned.get(meta_str(o, "uid")).cloned().unwrap_or_default();
            mine.sort_by(|a, b| meta_str(a, "name").cmp(meta_str(b, "name")));
            for extra in mine.iter().skip(want) {
                delete(st, &pod_gr, extra);
            }
            for i in mine.len()..want {
                let owner_name = meta_str(o, "name");
                let (name, generate) = if resource == "statefulsets" {
                    (format!("{owner_name}-{i}"), String::new())
                } else {
                    (String::new(), format!("{owner_name}-"))
                };
                let mut meta = child_meta(o, template, &name, &[]);
                if !generate.is_empty() {
                    meta["generateName"] = json!(generate);
                }
                create(
                    st,
                    ("", "v1", "pods"),
                    json!({
                        "apiVersion": "v1", "kind": "Pod", "metadata": meta,
                        "spec": template.get("spec").cloned().unwrap_or(json!({}))
                    }),
                );
            }
        }
    }
}

/// Create and remove the children workload controllers would.
pub fn reconcile(st: &ServerState) {
    deployments(st);
    pods(st);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hash_is_stable_and_changes_with_the_template() {
        let a = json!({"spec": {"containers": [{"name": "c", "image": "x:1"}]}});
        let b = json!({"spec": {"containers": [{"name": "c", "image": "x:2"}]}});
        assert_eq!(template_hash(&a), template_hash(&a));
        assert_ne!(template_hash(&a), template_hash(&b));
        assert_eq!(template_hash(&a).len(), 10);
    }
}
