//! The object store: one table per resource, a global resourceVersion and a watch event log.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;
use tokio::sync::broadcast;

use crate::error::ApiError;
use crate::registry::GroupResource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watchers see it.
#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    pub kind: EventType,
    pub gr: GroupResource,
    pub namespace: String,
    pub object: Arc<Value>,
    /// The object before a modification (selector transitions need it).
    pub old: Option<Arc<Value>>,
    /// The serialised watch line, shared by every plain JSON watcher.
    pub line: std::sync::OnceLock<axum::body::Bytes>,
}

/// What a transaction decided to do with the object.
pub enum Change {
    Put(Value),
    Delete,
}

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
pub type ObjKey = (String, String);
pub type Table = BTreeMap<ObjKey, Arc<Value>>;
/// The object before and after a transaction.
pub type Transacted = (Option<Arc<Value>>, Option<Arc<Value>>);
/// Past events to replay and the receiver of the live ones.
pub type Replay = (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>);

struct Inner {
    rv: u64,
    /// Events with a resourceVersion at or below this are no longer in `history`.
    floor: u64,
    tables: HashMap<GroupResource, Table>,
    history: VecDeque<Arc<Event>>,
}

pub struct Store {
    inner: RwLock<Inner>,
    tx: broadcast::Sender<Arc<Event>>,
    history_cap: usize,
}

/// A watch that cannot start because its resourceVersion is older than the event history.
pub struct TooOld {
    pub requested: u64,
    pub floor: u64,
}

pub fn set_rv(obj: &mut Value, rv: u64) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("resourceVersion".into(), Value::String(rv.to_string()));
    }
}

pub fn rv_of(obj: &Value) -> Option<u64> {
    obj.get("metadata")?
        .get("resourceVersion")?
        .as_str()?
        .parse()
        .ok()
}

impl Store {
    pub fn new(history_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(history_cap.clamp(1024, 65536));
        Self {
            inner: RwLock::new(Inner {
                rv: 1,
                floor: 1,
                tables: HashMap::new(),
                history: VecDeque::new(),
            }),
            tx,
            history_cap: history_cap.max(16),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn current_rv(&self) -> u64 {
        self.read().rv
    }

    pub fn get(&self, gr: &GroupResource, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.read()
            .tables
            .get(gr)?
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    /// Objects of a resource (one namespace or all), in key order, with the store's resourceVersion.
    pub fn list(&self, gr: &GroupResource, ns: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let g = self.read();
        let items = match g.tables.get(gr) {
            None => vec![],
            Some(t) => match ns {
                None => t.values().cloned().collect(),
                Some(ns) => t
                    .range((ns.to_string(), String::new())..)
                    .take_while(|((n, _), _)| n == ns)
                    .map(|(_, v)| v.clone())
                    .collect(),
            },
        };
        (items, g.rv)
    }

    /// Every object of every resource (GC, namespace cleanup, persistence).
    pub fn dump(&self) -> (Vec<(GroupResource, Arc<Value>)>, u64) {
        let g = self.read();
        let mut out = Vec::new();
        for (gr, t) in &g.tables {
            for v in t.values() {
                out.push((gr.clone(), v.clone()));
            }
        }
        (out, g.rv)
    }

    /// Load objects as they were saved, keeping their resourceVersions.
    pub fn restore(&self, objects: Vec<(GroupResource, Value)>, rv: u64) {
        let mut g = self.write();
        for (gr, obj) in objects {
            let ns = meta_str(&obj, "namespace").to_string();
            let name = meta_str(&obj, "name").to_string();
            g.tables
                .entry(gr)
                .or_default()
                .insert((ns, name), Arc::new(obj));
        }
        g.rv = g.rv.max(rv);
        g.floor = g.rv;
    }

    /// Read-modify-write one object atomically. `f` sees the current object and returns the
    /// change; the store stamps the new resourceVersion. A put equal to the stored object is a
    /// no-op (no new version, no event), like the real server. With `dry_run` nothing is stored.
    pub fn transact<F>(
        &self,
        gr: &GroupResource,
        ns: &str,
        name: &str,
        dry_run: bool,
        f: F,
    ) -> Result<Transacted, ApiError>
    where
        F: FnOnce(Option<&Arc<Value>>) -> Result<Change, ApiError>,
    {
        let mut g = self.write();
        let key = (ns.to_string(), name.to_string());
        let old = g.tables.get(gr).and_then(|t| t.get(&key)).cloned();
        let change = f(old.as_ref())?;
        let next = g.rv + 1;
        match change {
            Change::Put(mut obj) => {
                if let Some(o) = &old {
                    set_rv(&mut obj, rv_of(o).unwrap_or(0));
                    if **o == obj {
                        return Ok((old.clone(), old));
                    }
                }
                if dry_run {
                    return Ok((old, Some(Arc::new(obj))));
                }
                set_rv(&mut obj, next);
                let obj = Arc::new(obj);
                g.rv = next;
                g.tables
                    .entry(gr.clone())
                    .or_default()
                    .insert(key, obj.clone());
                let kind = if old.is_some() {
                    EventType::Modified
                } else {
                    EventType::Added
                };
                self.emit(&mut g, kind, gr, ns, obj.clone(), old.clone());
                Ok((old, Some(obj)))
            }
            Change::Delete => {
                let Some(o) = old else {
                    return Ok((None, None));
                };
                let mut gone = (*o).clone();
                if dry_run {
                    return Ok((Some(o), Some(Arc::new(gone))));
                }
                set_rv(&mut gone, next);
                g.rv = next;
                if let Some(t) = g.tables.get_mut(gr) {
                    t.remove(&key);
                }
                let gone = Arc::new(gone);
                self.emit(&mut g, EventType::Deleted, gr, ns, gone.clone(), None);
                Ok((Some(o), Some(gone)))
            }
        }
    }

    fn emit(
        &self,
        g: &mut Inner,
        kind: EventType,
        gr: &GroupResource,
        ns: &str,
        object: Arc<Value>,
        old: Option<Arc<Value>>,
    ) {
        let ev = Arc::new(Event {
            rv: g.rv,
            kind,
            old,
            line: std::sync::OnceLock::new(),
            gr: gr.clone(),
            namespace: ns.to_string(),
            object,
        });
        g.history.push_back(ev.clone());
        while g.history.len() > self.history_cap {
            if let Some(old) = g.history.pop_front() {
                g.floor = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(ev);
    }

    /// Events after `rv` still in the history, plus a receiver for everything later.
    pub fn watch_from(&self, rv: u64) -> Result<Replay, TooOld> {
        let g = self.read();
        if rv < g.floor {
            return Err(TooOld {
                requested: rv,
                floor: g.floor,
            });
        }
        let rx = self.tx.subscribe();
        let past = g.history.iter().filter(|e| e.rv > rv).cloned().collect();
        Ok((past, rx))
    }

    /// The current objects of a resource and a receiver for every later change, atomically.
    pub fn snapshot_and_watch(
        &self,
        gr: &GroupResource,
        ns: Option<&str>,
    ) -> (Vec<Arc<Value>>, u64, broadcast::Receiver<Arc<Event>>) {
        let g = self.read();
        let rx = self.tx.subscribe();
        let items = match g.tables.get(gr) {
            None => vec![],
            Some(t) => t
                .iter()
                .filter(|((n, _), _)| ns.is_none_or(|ns| ns == n))
                .map(|(_, v)| v.clone())
                .collect(),
        };
        (items, g.rv, rx)
    }

    #[cfg(test)]
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

pub fn meta_str<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "a"}})
    }

    #[test]
    fn identical_put_does_not_bump_resource_version() {
        let s = Store::new(100);
        let gr = GroupResource::new("", "configmaps");
        let (_, first) = s
            .transact(&gr, "a", "x", false, |_| Ok(Change::Put(cm("x"))))
            .ok()
            .unwrap_or_default();
        let rv1 = first.as_deref().and_then(rv_of);
        let (_, again) = s
            .transact(&gr, "a", "x", false, |_| Ok(Change::Put(cm("x"))))
            .ok()
            .unwrap_or_default();
        assert_eq!(rv1, again.as_deref().and_then(rv_of));
        assert_eq!(s.current_rv(), rv1.unwrap_or(0));
    }

    #[test]
    fn watch_from_version_older_than_history_is_too_old() {
        let s = Store::new(16);
        let gr = GroupResource::new("", "configmaps");
        for i in 0..40 {
            let name = format!("c{i}");
            let _ = s.transact(&gr, "a", &name, false, |_| Ok(Change::Put(cm(&name))));
        }
        assert!(s.watch_from(2).is_err());
        let (past, _) = s
            .watch_from(s.current_rv() - 3)
            .ok()
            .unwrap_or_else(|| (vec![], s.subscribe()));
        assert_eq!(past.len(), 3);
    }
}
