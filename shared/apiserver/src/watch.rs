//! Watch streams: initial events, resourceVersion replay, bookmarks, 410 Expired and Table rows.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::api::{Req, present};
use crate::error::ApiError;
use crate::query::Filter;
use crate::registry::{GroupResource, ResourceDef};
use crate::store::{Event, EventType};
use crate::table;

const BOOKMARK_EVERY: Duration = Duration::from_secs(10);

struct Watch {
    def: Arc<ResourceDef>,
    gr: GroupResource,
    ns: Option<String>,
    name: Option<String>,
    filter: Filter,
    table: bool,
    metadata_only: bool,
    include_object: String,
    headers_sent: bool,
    bookmarks: bool,
    last_rv: u64,
}

impl Watch {
    fn line(&mut self, kind: &str, obj: &Value) -> Bytes {
        let object = if self.table && kind != "BOOKMARK" && kind != "ERROR" {
            let meta = json!({"resourceVersion": crate::store::meta_str(obj, "resourceVersion")});
            let t = table::table(
                &self.def,
                &[present(&self.def, obj)],
                meta,
                &self.include_object,
                !self.headers_sent,
            );
            self.headers_sent = true;
            t
        } else if kind == "BOOKMARK" || kind == "ERROR" {
            obj.clone()
        } else if self.metadata_only {
            table::partial(obj)
        } else {
            present(&self.def, obj)
        };
        let mut v =
            serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        v.push(b'\n');
        Bytes::from(v)
    }

    fn event(&mut self, e: &Event) -> Option<Bytes> {
        if e.rv > self.last_rv {
            self.last_rv = e.rv;
        }
        if e.gr != self.gr
            || self.ns.as_deref().is_some_and(|n| n != e.namespace)
            || self
                .name
                .as_deref()
                .is_some_and(|n| n != crate::store::meta_str(&e.object, "name"))
        {
            return None;
        }
        // Field selectors name the served version's fields (events.k8s.io `regarding.name`).
        let renamed = crate::convert::needed(&self.def) && !self.def.custom;
        let matches = |o: &Value| {
            if renamed {
                self.filter.matches(&present(&self.def, o))
            } else {
                self.filter.matches(o)
            }
        };
        let now = matches(&e.object);
        // An object moving into or out of the selector is ADDED or DELETED for this watcher.
        let kind = match e.kind {
            EventType::Modified => {
                let before = e.old.as_deref().is_some_and(matches);
                match (before, now) {
                    (true, true) => "MODIFIED",
                    (false, true) => "ADDED",
                    (true, false) => "DELETED",
                    (false, false) => return None,
                }
            }
            k if now => k.as_str(),
            _ => return None,
        };
        // The cached line is shared by every watcher of the event, so only the stored form,
        // unconverted, may go in it.
        let plain = !self.table
            && !self.metadata_only
            && kind == e.kind.as_str()
            && (!crate::convert::needed(&self.def)
                || (self.def.custom
                    && e.object.get("apiVersion").and_then(Value::as_str)
                        == Some(&self.def.api_version())));
        if plain {
            return Some(e.line.get_or_init(|| self.line(kind, &e.object)).clone());
        }
        Some(self.line(kind, &e.object))
    }

    fn bookmark(&mut self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj =
            json!({"kind": self.def.kind, "apiVersion": self.def.api_version(), "metadata": meta});
        self.line("BOOKMARK", &obj)
    }
}

fn expired(requested: u64, floor: u64) -> Value {
    ApiError::gone(format!("too old resource version: {requested} ({floor})")).status()
}

struct State {
    w: Watch,
    queue: VecDeque<Bytes>,
    rx: broadcast::Receiver<Arc<Event>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    // Both timers live as long as the watch: re-arming them on every event would put a timer
    // entry in and out of the wheel per event and watcher.
    tick: std::pin::Pin<Box<tokio::time::Sleep>>,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    done: bool,
}

pub fn serve(req: &Req) -> Result<Response, ApiError> {
    let q = &req.q;
    let filter = Filter::from_query(q)?;
    let name = req
        .t
        .name
        .clone()
        .or_else(|| crate::query::selected_name(&filter.fields).map(str::to_string));
    let mut w = Watch {
        def: req.t.def.clone(),
        gr: req.t.def.gr(),
        ns: req.t.namespace.clone(),
        name,
        filter,
        table: table::wants_table(&crate::http_util::accept(&req.headers)),
        metadata_only: table::wants_metadata(&crate::http_util::accept(&req.headers)),
        include_object: q
            .get("includeObject")
            .cloned()
            .unwrap_or_else(|| "PartialObjectMetadata".into()),
        headers_sent: false,
        bookmarks: q
            .get("allowWatchBookmarks")
            .is_some_and(|v| v == "true" || v == "1"),
        last_rv: 0,
    };
    let rv = q.get("resourceVersion").cloned().unwrap_or_default();
    let send_initial = q.get("sendInitialEvents").is_some_and(|v| v == "true");
    let mut queue = VecDeque::new();
    let store = &req.st.store;
    let rx = if send_initial || rv.is_empty() || rv == "0" {
        let (items, cur, rx) = store.snapshot_and_watch(&w.gr, w.ns.as_deref());
        let renamed = crate::convert::needed(&w.def) && !w.def.custom;
        for o in items {
            let selected = if renamed {
                w.filter.matches(&present(&w.def, &o))
            } else {
                w.filter.matches(&o)
            };
            let named = w
                .name
                .as_deref()
                .is_none_or(|n| n == crate::store::meta_str(&o, "name"));
            if selected && named {
                let line = w.line("ADDED", &o);
                queue.push_back(line);
            }
        }
        w.last_rv = cur;
        if send_initial {
            queue.push_back(w.bookmark(cur, true));
        }
        rx
    } else {
        let Ok(n) = rv.parse::<u64>() else {
            return Err(ApiError::bad_request(format!(
                "invalid resource version: {rv}"
            )));
        };
        match store.watch_from(n) {
            Ok((past, rx)) => {
                w.last_rv = n;
                for e in past {
                    if let Some(l) = w.event(&e) {
                        queue.push_back(l);
                    }
                }
                rx
            }
            Err(too_old) => {
                let line = w.line("ERROR", &expired(too_old.requested, too_old.floor));
                return Ok(stream_response(
                    futures::stream::iter([Ok::<_, std::io::Error>(line)]).boxed(),
                ));
            }
        }
    };
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|t| *t > 0)
        .unwrap_or(1800);
    let state = State {
        w,
        queue,
        rx,
        shutdown: req.st.shutdown.clone(),
        tick: Box::pin(tokio::time::sleep(BOOKMARK_EVERY)),
        deadline: Box::pin(tokio::time::sleep(Duration::from_secs(timeout))),
        done: false,
    };
    let s = futures::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(b) = s.queue.pop_front() {
                return Some((Ok::<_, std::io::Error>(b), s));
            }
            if s.done || *s.shutdown.borrow() {
                return None;
            }
            tokio::select! {
                r = s.rx.recv() => match r {
                    Ok(e) => {
                        if let Some(l) = s.w.event(&e) {
                            s.queue.push_back(l);
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        let line = s.w.line("ERROR", &expired(s.w.last_rv, s.w.last_rv));
                        s.queue.push_back(line);
                        s.done = true;
                    }
                    Err(RecvError::Closed) => s.done = true,
                },
                _ = s.tick.as_mut() => {
                    s.tick.as_mut().reset(tokio::time::Instant::now() + BOOKMARK_EVERY);
                    if s.w.bookmarks && s.rx.is_empty() {
                        let rv = s.w.last_rv;
                        let b = s.w.bookmark(rv, false);
                        s.queue.push_back(b);
                    }
                }
                _ = s.deadline.as_mut() => s.done = true,
                _ = s.shutdown.changed() => s.done = true,
            }
        }
    });
    Ok(stream_response(s.boxed()))
}

fn stream_response(
    s: futures::stream::BoxStream<'static, Result<Bytes, std::io::Error>>,
) -> Response {
    Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(s))
        .unwrap_or_default()
}
