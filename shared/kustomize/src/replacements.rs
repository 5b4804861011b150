//! replacements: copy a field of one resource into fields of others.

use std::path::Path;

use crate::Error;
use crate::loader::Loader;
use crate::resource::Resource;
use crate::select::Selector;
use crate::yaml::{Node, parse_documents, resolve_plain};

fn source_value(res: &[Resource], src: &Node) -> Result<Node, Error> {
    let sel = Selector::from_node(src)?;
    let hits: Vec<&Resource> = res.iter().filter(|r| sel.matches(r)).collect();
    if hits.len() != 1 {
        return Err(Error::Transform(format!(
            "replacements: expected exactly one source resource, found {}",
            hits.len()
        )));
    }
    let path = src.get_str("fieldPath").unwrap_or("metadata.name");
    let v = get_field(&hits[0].node, path)
        .ok_or_else(|| Error::Transform(format!("replacements: source field {path} not found")))?;
    if let Some(opts) = src.get("options")
        && let Some(s) = v.scalar_text()
    {
        let delim = opts.get_str("delimiter").unwrap_or("");
        let idx = match opts.get("index") {
            Some(Node::Int(i)) => *i,
            _ => 0,
        };
        if !delim.is_empty() {
            let parts: Vec<&str> = s.split(delim).collect();
            let part = usize::try_from(idx)
                .ok()
                .and_then(|i| parts.get(i))
                .ok_or_else(|| {
                    Error::Transform(format!(
                        "options.index {idx} is out of bounds for value {s}"
                    ))
                })?;
            return Ok(Node::Str(part.to_string()));
        }
    }
    Ok(v.clone())
}

/// Splits `a.b[name=x].c` into segments.
fn segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
                out.push(std::mem::take(&mut cur));
            }
            '.' if depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn get_field<'a>(n: &'a Node, path: &str) -> Option<&'a Node> {
    let mut cur = n;
    for seg in segments(path) {
        cur = step(cur, &seg)?;
    }
    Some(cur)
}

fn step<'a>(cur: &'a Node, seg: &str) -> Option<&'a Node> {
    if let Some(inner) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let items = cur.as_seq()?;
        if let Some((k, v)) = inner.split_once('=') {
            return items
                .iter()
                .find(|i| i.get(k).and_then(Node::scalar_text).as_deref() == Some(v));
        }
        return items.get(inner.parse::<usize>().ok()?);
    }
    if let Ok(i) = seg.parse::<usize>()
        && let Node::Seq(items) = cur
    {
        return items.get(i);
    }
    cur.get(seg)
}

/// The new value of a target field, as kustomize's setTargetValue computes it: the delimiter
/// option edits one part of the old text; a scalar target keeps its type (a string stays a
/// string, a number must stay a number), a created field is typed from the text.
fn leaf_value(
    n: &Node,
    value: &Node,
    opts: Option<&Node>,
    string_map: bool,
) -> Result<Node, String> {
    let Some(mut text) = value.scalar_text() else {
        return Ok(value.clone());
    };
    if let Some(o) = opts
        && let Some(delim) = o.get_str("delimiter").filter(|d| !d.is_empty())
    {
        let idx = match o.get("index") {
            Some(Node::Int(i)) => *i,
            _ => 0,
        };
        let old = n.scalar_text().unwrap_or_default();
        let mut parts: Vec<String> = old.split(delim).map(str::to_string).collect();
        match usize::try_from(idx) {
            Ok(i) if i < parts.len() => parts[i] = text,
            Ok(_) => parts.push(text),
            Err(_) => parts.insert(0, text),
        }
        text = parts.join(delim);
    }
    let tag = |n: &Node| match n {
        Node::Int(_) | Node::Uint(_) => "!!int",
        Node::Float(_) => "!!float",
        Node::Bool(_) => "!!bool",
        Node::Null => "!!null",
        _ => "!!str",
    };
    Ok(match n {
        // Label and annotation values are strings to kustomize whatever was written before.
        _ if string_map => Node::Str(text),
        Node::Str(_) => Node::Str(text),
        Node::Null | Node::Map(_) | Node::Seq(_) => {
            if text.is_empty() {
                Node::Str(text)
            } else {
                resolve_plain(&text)
            }
        }
        typed => {
            let v = resolve_plain(&text);
            let same = matches!(
                (typed, &v),
                (Node::Int(_) | Node::Uint(_), Node::Int(_) | Node::Uint(_))
            ) || matches!((typed, &v), (Node::Float(_), Node::Float(_) | Node::Int(_)))
                || matches!((typed, &v), (Node::Bool(_), Node::Bool(_)));
            if !same {
                return Err(format!(
                    "map[string]interface {{}}(nil): yaml: cannot decode {} `{text}` as a {}",
                    tag(&v),
                    tag(typed)
                ));
            }
            v
        }
    })
}

fn set_field(
    n: &mut Node,
    segs: &[String],
    value: &Node,
    create: bool,
    opts: Option<&Node>,
    err: &mut (Option<String>, bool),
) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        match leaf_value(n, value, opts, err.1) {
            Ok(new) => *n = new,
            Err(e) => err.0 = Some(e),
        }
        return true;
    };
    if first == "*" {
        let mut any = false;
        if let Node::Seq(items) = n {
            for it in items {
                any |= set_field(it, rest, value, create, opts, err);
            }
        }
        return any;
    }
    if let Some(inner) = first.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let Node::Seq(items) = n else { return false };
        if let Some((k, v)) = inner.split_once('=') {
            let mut any = false;
            for it in items
                .iter_mut()
                .filter(|i| i.get(k).and_then(Node::scalar_text).as_deref() == Some(v))
            {
                any |= set_field(it, rest, value, create, opts, err);
            }
            return any;
        }
        return inner
            .parse::<usize>()
            .ok()
            .and_then(|i| items.get_mut(i))
            .is_some_and(|it| set_field(it, rest, value, create, opts, err));
    }
    if let Ok(i) = first.parse::<usize>()
        && let Node::Seq(items) = n
    {
        return items
            .get_mut(i)
            .is_some_and(|it| set_field(it, rest, value, create, opts, err));
    }
    if n.is_null() && create {
        *n = Node::new_map();
    }
    let Some(m) = n.as_map_mut() else {
        return false;
    };
    if !m.contains_key(first.as_str()) {
        if !create {
            return false;
        }
        m.insert(
            first.clone(),
            if rest.is_empty() {
                Node::Null
            } else {
                Node::new_map()
            },
        );
    }
    m.get_mut(first.as_str())
        .is_some_and(|c| set_field(c, rest, value, create, opts, err))
}

pub fn apply(
    res: &mut [Resource],
    entries: &[&Node],
    loader: &Loader,
    dir: &Path,
) -> Result<(), Error> {
    for e in entries {
        let loaded;
        let entry: &Node = if let Some(p) = e.get_str("path") {
            loaded =
                parse_documents(&loader.read_string(dir, p)?).map_err(|source| Error::Yaml {
                    file: p.to_string(),
                    source,
                })?;
            loaded
                .first()
                .ok_or_else(|| Error::Transform(format!("replacement file {p} is empty")))?
        } else {
            e
        };
        let src = entry
            .get("source")
            .ok_or_else(|| Error::Transform("replacement without source".into()))?;
        let value = source_value(res, src)?;
        for t in entry
            .get("targets")
            .and_then(Node::as_seq)
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let sel = Selector::from_node(t.get("select").unwrap_or(&Node::Null))?;
            let rejects: Vec<Selector> = t
                .get("reject")
                .and_then(Node::as_seq)
                .map(|v| v.iter().map(Selector::from_node).collect::<Result<_, _>>())
                .transpose()?
                .unwrap_or_default();
            let opts = t.get("options");
            let create = opts.is_some_and(|o| matches!(o.get("create"), Some(Node::Bool(true))));
            for r in res.iter_mut() {
                if !sel.matches(r) || rejects.iter().any(|rj| rj.matches(r)) {
                    continue;
                }
                for fp in t
                    .get("fieldPaths")
                    .and_then(Node::as_seq)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    let Some(fp) = fp.as_str() else { continue };
                    let segs = segments(fp);
                    let string_map = fp.starts_with("metadata.annotations.")
                        || fp.starts_with("metadata.labels.");
                    let mut err = (None, string_map);
                    let found = set_field(&mut r.node, &segs, &value, create, opts, &mut err);
                    if let Some(e) = err.0 {
                        return Err(Error::Transform(e));
                    }
                    if !found {
                        return Err(Error::Transform(format!(
                            "unable to find field \"{fp}\" in replacement target"
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}
