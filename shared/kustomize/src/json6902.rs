//! JSON patch (RFC 6902) over the resource tree: add, remove, replace, move, copy, test.

use crate::yaml::Node;

fn unescape(tok: &str) -> String {
    tok.replace("~1", "/").replace("~0", "~")
}

fn pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("JSON pointer must start with '/': {path:?}"));
    };
    Ok(rest.split('/').map(unescape).collect())
}

fn get<'a>(root: &'a Node, toks: &[String]) -> Option<&'a Node> {
    let mut cur = root;
    for t in toks {
        cur = match cur {
            Node::Map(m) => m.get(t)?,
            Node::Seq(s) => s.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn get_mut<'a>(root: &'a mut Node, toks: &[String]) -> Option<&'a mut Node> {
    let mut cur = root;
    for t in toks {
        cur = match cur {
            Node::Map(m) => m.get_mut(t)?,
            Node::Seq(s) => {
                let i = t.parse::<usize>().ok()?;
                s.get_mut(i)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

fn add(root: &mut Node, toks: &[String], value: Node, path: &str) -> Result<(), String> {
    let Some((last, parent)) = toks.split_last() else {
        *root = value;
        return Ok(());
    };
    let parent = get_mut(root, parent).ok_or_else(|| {
        format!("add operation does not apply: doc is missing path: \"{path}\": missing value")
    })?;
    match parent {
        Node::Map(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Node::Seq(s) => {
            if last == "-" {
                s.push(value);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid array index {last:?} in {path}"))?;
            if i > s.len() {
                return Err(format!(
                    "add operation does not apply: index out of bounds: {path}"
                ));
            }
            s.insert(i, value);
            Ok(())
        }
        _ => Err(format!(
            "add operation does not apply: doc is missing path: \"{path}\""
        )),
    }
}

fn remove(root: &mut Node, toks: &[String], path: &str) -> Result<Node, String> {
    let Some((last, parent)) = toks.split_last() else {
        return Err("cannot remove the document root".into());
    };
    let missing = || format!("remove operation does not apply: doc is missing path: \"{path}\"");
    match get_mut(root, parent).ok_or_else(missing)? {
        Node::Map(m) => m.shift_remove(last).ok_or_else(missing),
        Node::Seq(s) => {
            let i: usize = last.parse().map_err(|_| missing())?;
            if i >= s.len() {
                return Err(missing());
            }
            Ok(s.remove(i))
        }
        _ => Err(missing()),
    }
}

/// Applies a list of operations (already parsed from YAML or JSON) to `doc`.
pub fn apply(doc: &mut Node, ops: &Node) -> Result<(), String> {
    let Node::Seq(ops) = ops else {
        return Err("a JSON 6902 patch must be a list of operations".into());
    };
    for op in ops {
        let kind = op.get_str("op").ok_or("patch operation without \"op\"")?;
        let path = op
            .get_str("path")
            .ok_or("patch operation without \"path\"")?;
        let toks = pointer(path)?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("{kind} operation without \"value\""))
        };
        match kind {
            "add" => add(doc, &toks, value()?, path)?,
            "remove" => {
                remove(doc, &toks, path)?;
            }
            "replace" => {
                let v = value()?;
                let target = get_mut(doc, &toks).ok_or_else(|| {
                    format!("replace operation does not apply: doc is missing key: {path}")
                })?;
                *target = v;
            }
            "move" | "copy" => {
                let from = op
                    .get_str("from")
                    .ok_or("move/copy operation without \"from\"")?;
                let ftoks = pointer(from)?;
                let v = if kind == "move" {
                    remove(doc, &ftoks, from)?
                } else {
                    get(doc, &ftoks)
                        .cloned()
                        .ok_or_else(|| format!("copy from missing path {from}"))?
                };
                add(doc, &toks, v, path)?;
            }
            "test" => {
                let v = value()?;
                if get(doc, &toks) != Some(&v) {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    #[test]
    fn json_patch_adds_replaces_and_removes() {
        let mut d = parse_documents("a:\n  b: [1, 2]\nc: x\n")
            .unwrap()
            .remove(0);
        let ops = parse_documents(
            "- {op: add, path: /a/b/-, value: 3}\n- {op: replace, path: /c, value: y}\n- {op: remove, path: /a/b/0}\n",
        )
        .unwrap()
        .remove(0);
        apply(&mut d, &ops).unwrap();
        assert_eq!(
            d,
            parse_documents("a:\n  b: [2, 3]\nc: y\n")
                .unwrap()
                .remove(0)
        );
    }

    #[test]
    fn json_patch_on_missing_path_is_an_error() {
        let mut d = parse_documents("a: 1\n").unwrap().remove(0);
        let ops = parse_documents("- {op: replace, path: /x/y, value: 1}\n")
            .unwrap()
            .remove(0);
        assert!(apply(&mut d, &ops).is_err());
    }
}
