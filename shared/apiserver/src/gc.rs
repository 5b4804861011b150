//! Background garbage collection: ownerReferences (background, foreground, orphan), namespace
//! termination, and custom resources whose CRD is gone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::delete::delete_object;
use crate::objects::{self, finalizers, is_deleting, meta_mut};
use crate::registry::GroupResource;
use crate::server::ServerState;
use crate::store::{Change, meta_str};

pub async fn run(st: Arc<ServerState>) {
    let mut shutdown = st.shutdown.clone();
    loop {
        tokio::select! {
            _ = st.gc.notified() => {},
            // Writes that can need collection notify; the timer only backs that up.
            _ = tokio::time::sleep(Duration::from_secs(30)) => {},
            _ = shutdown.changed() => return,
        }
        for _ in 0..50 {
            if !sweep(&st) {
                break;
            }
        }
    }
}

struct Obj {
    gr: GroupResource,
    v: Arc<Value>,
}

fn owner_uids(v: &Value) -> Vec<String> {
    v.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn delete(st: &ServerState, o: &Obj, policy: &str) -> bool {
    let Some(def) = st.registry.by_gr(&o.gr) else {
        let r = st.store.transact(
            &o.gr,
            meta_str(&o.v, "namespace"),
            meta_str(&o.v, "name"),
            false,
            |_| Ok(Change::Delete),
        );
        return r.is_ok();
    };
    delete_object(
        st,
        &def,
        meta_str(&o.v, "namespace"),
        meta_str(&o.v, "name"),
        &json!({"propagationPolicy": policy}),
        false,
    )
    .is_ok()
}

fn edit<F: FnOnce(&mut Value)>(st: &ServerState, o: &Obj, f: F) -> bool {
    let r = st.store.transact(
        &o.gr,
        meta_str(&o.v, "namespace"),
        meta_str(&o.v, "name"),
        false,
        |old| {
            let Some(old) = old else {
                return Err(crate::error::ApiError::internal("gone"));
            };
            let mut new = old.as_ref().clone();
            f(&mut new);
            Ok(objects::finish(new))
        },
    );
    r.is_ok()
}

fn remove_finalizer(st: &ServerState, o: &Obj, fin: &str) -> bool {
    edit(st, o, |v| {
        let rest: Vec<String> = finalizers(v).into_iter().filter(|f| f != fin).collect();
        meta_mut(v).insert("finalizers".into(), json!(rest));
    })
}

/// One pass; returns whether anything changed.
pub fn sweep(st: &ServerState) -> bool {
    let (all, _) = st.store.dump();
    let objs: Vec<Obj> = all.into_iter().map(|(gr, v)| Obj { gr, v }).collect();
    let uids: HashSet<&str> = objs.iter().map(|o| meta_str(&o.v, "uid")).collect();
    let mut dependents: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, o) in objs.iter().enumerate() {
        for u in owner_uids(&o.v) {
            dependents.entry(u).or_default().push(i);
        }
    }
    let mut changed = false;
    for o in &objs {
        let owners = owner_uids(&o.v);
        // Custom resources of a deleted CRD go with it.
        if st.registry.by_gr(&o.gr).is_none() {
            changed |= st
                .store
                .transact(
                    &o.gr,
                    meta_str(&o.v, "namespace"),
                    meta_str(&o.v, "name"),
                    false,
                    |_| Ok(Change::Delete),
                )
                .is_ok();
            continue;
        }
        if !owners.is_empty()
            && owners.iter().all(|u| !uids.contains(u.as_str()))
            && !is_deleting(&o.v)
        {
            changed |= delete(st, o, "Background");
            continue;
        }
        if !is_deleting(&o.v) {
            continue;
        }
        let fins = finalizers(&o.v);
        let deps = dependents
            .get(meta_str(&o.v, "uid"))
            .cloned()
            .unwrap_or_default();
        if fins.iter().any(|f| f == "orphan") {
            let uid = meta_str(&o.v, "uid").to_string();
            for &d in &deps {
                changed |= edit(st, &objs[d], |v| {
                    if let Some(refs) = v
                        .pointer_mut("/metadata/ownerReferences")
                        .and_then(Value::as_array_mut)
                    {
                        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
                    }
                });
            }
            changed |= remove_finalizer(st, o, "orphan");
        } else if fins.iter().any(|f| f == "foregroundDeletion") {
            let mut blocking = false;
            for &d in &deps {
                blocking = true;
                if !is_deleting(&objs[d].v) {
                    changed |= delete(st, &objs[d], "Foreground");
                }
            }
            if !blocking {
                changed |= remove_finalizer(st, o, "foregroundDeletion");
            }
        }
        if o.gr.group.is_empty() && o.gr.resource == "namespaces" {
            let ns = meta_str(&o.v, "name");
            let mut remaining = false;
            for c in objs
                .iter()
                .filter(|c| meta_str(&c.v, "namespace") == ns && !c.gr.resource.is_empty())
            {
                if c.gr.group.is_empty() && c.gr.resource == "namespaces" {
                    continue;
                }
                remaining = true;
                if !is_deleting(&c.v) {
                    changed |= delete(st, c, "Background");
                }
            }
            if !remaining {
                changed |= edit(st, o, |v| {
                    if crate::patch::set_path(v, ".spec.finalizers", json!([])).is_err() {
                        // A malformed spec cannot hold finalizers: drop it so the namespace can go.
                        if let Some(m) = v.as_object_mut() {
                            m.remove("spec");
                        }
                    }
                });
            }
        }
    }
    changed
}
