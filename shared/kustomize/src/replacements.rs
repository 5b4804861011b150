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
                .copied()
                .unwrap_or("");
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

fn set_field(
    n: &mut Node,
    segs: &[String],
    value: &Node,
    create: bool,
    opts: Option<&Node>,
) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        let new = match (opts, n.scalar_text()) {
            (Some(o), Some(old)) if o.get_str("delimiter").is_some() => {
                let delim = o.get_str("delimiter").unwrap_or("");
                let idx = match o.get("index") {
                    Some(Node::Int(i)) => *i,
                    _ => 0,
                };
                let mut parts: Vec<String> = old.split(delim).map(str::to_string).collect();
                let v = value.scalar_text().unwrap_or_default();
                match usize::try_from(idx) {
                    Ok(i) if i < parts.len() => parts[i] = v,
                    Ok(_) => parts.push(v),
                    Err(_) => parts.insert(0, v),
                }
                Node::Str(parts.join(delim))
            }
            // kustomize copies the scalar text and keeps the target's tag: a string stays a
            // string, anything else (or a created field) is read again from the text.
            _ => match (value.scalar_text(), &*n) {
                (Some(text), Node::Str(_)) => Node::Str(text),
                (Some(text), _) if !text.is_empty() => resolve_plain(&text),
                _ => value.clone(),
            },
        };
        *n = new;
        return true;
    };
    if first == "*" {
        let mut any = false;
        if let Node::Seq(items) = n {
            for it in items {
                any |= set_field(it, rest, value, create, opts);
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
                any |= set_field(it, rest, value, create, opts);
            }
            return any;
        }
        return inner
            .parse::<usize>()
            .ok()
            .and_then(|i| items.get_mut(i))
            .is_some_and(|it| set_field(it, rest, value, create, opts));
    }
    if let Ok(i) = first.parse::<usize>()
        && let Node::Seq(items) = n
    {
        return items
            .get_mut(i)
            .is_some_and(|it| set_field(it, rest, value, create, opts));
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
        .is_some_and(|c| set_field(c, rest, value, create, opts))
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
                    if !set_field(&mut r.node, &segs, &value, create, opts) {
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
