//! Saving the store to a JSON file on shutdown and loading it at start.

use std::path::Path;

use serde_json::{Value, json};

use crate::error::Error;
use crate::registry::GroupResource;
use crate::server::ServerState;

pub fn save(st: &ServerState, path: &Path) -> Result<(), Error> {
    let (objs, rv) = st.store.dump();
    let items: Vec<Value> = objs
        .iter()
        .map(|(gr, v)| json!({"group": gr.group, "resource": gr.resource, "object": **v}))
        .collect();
    let doc = json!({"resourceVersion": rv, "objects": items});
    let bytes = serde_json::to_vec(&doc).map_err(|e| Error::SaveState {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| Error::SaveState {
            path: path.display().to_string(),
            message: e.to_string(),
        })
}

pub fn load(st: &ServerState, path: &Path) -> Result<(), Error> {
    let err = |m: String| Error::LoadState {
        path: path.display().to_string(),
        message: m,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(err(e.to_string())),
    };
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| err(e.to_string()))?;
    let rv = doc
        .get("resourceVersion")
        .and_then(Value::as_u64)
        .ok_or_else(|| err("missing resourceVersion".into()))?;
    let mut objects = Vec::new();
    for item in doc
        .get("objects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(g), Some(r), Some(o)) = (
            item.get("group").and_then(Value::as_str),
            item.get("resource").and_then(Value::as_str),
            item.get("object"),
        ) else {
            return Err(err("object entry without group, resource or object".into()));
        };
        objects.push((GroupResource::new(g, r), o.clone()));
    }
    st.store.restore(objects, rv);
    Ok(())
}
