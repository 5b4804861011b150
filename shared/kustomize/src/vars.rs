//! Legacy `vars`: `$(NAME)` in container commands, args and env values (and the other default
//! var reference fields) replaced by a field of another resource, after all renames.

use crate::Error;
use crate::fieldspec::{split_path, visit};
use crate::resource::Resource;
use crate::yaml::Node;

const POD_SPECS: &[(&str, &str)] = &[
    ("Pod", "spec"),
    ("Deployment", "spec/template/spec"),
    ("ReplicaSet", "spec/template/spec"),
    ("DaemonSet", "spec/template/spec"),
    ("StatefulSet", "spec/template/spec"),
    ("Job", "spec/template/spec"),
    ("ReplicationController", "spec/template/spec"),
    ("CronJob", "spec/jobTemplate/spec/template/spec"),
];

fn reference_paths(kind: &str) -> Vec<String> {
    let mut v = Vec::new();
    for (k, base) in POD_SPECS {
        if *k == kind {
            for c in ["containers", "initContainers"] {
                for f in ["command", "args", "env/value", "workingDir"] {
                    v.push(format!("{base}/{c}/{f}"));
                }
            }
            v.push(format!("{base}/volumes/nfs/server"));
        }
    }
    if kind == "Ingress" {
        v.extend(["spec/rules/host", "spec/tls/hosts", "spec/tls/secretName"].map(String::from));
    }
    v
}

fn field(node: &Node, path: &str) -> Option<Node> {
    let mut cur = node;
    for seg in path.split('.') {
        cur = match cur {
            Node::Seq(items) => items.get(seg.trim_matches(['[', ']']).parse::<usize>().ok()?)?,
            _ => cur.get(seg)?,
        };
    }
    Some(cur.clone())
}

/// Resolves the declared vars against the resources and substitutes them.
pub fn apply(res: &mut [Resource], vars: &[Node]) -> Result<(), Error> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values: Vec<(String, Node)> = Vec::new();
    for v in vars {
        let name = v
            .get_str("name")
            .ok_or_else(|| Error::Transform("var without a name".into()))?;
        let objref = v
            .get("objref")
            .ok_or_else(|| Error::Transform(format!("var {name} has no objref")))?;
        let kind = objref.get_str("kind").unwrap_or("");
        let oname = objref.get_str("name").unwrap_or("");
        let api = objref.get_str("apiVersion");
        let hits: Vec<&Resource> = res
            .iter()
            .filter(|r| {
                r.kind() == kind
                    && r.had_name(oname)
                    && api.is_none_or(|a| r.node.get_str("apiVersion") == Some(a))
            })
            .collect();
        if hits.len() != 1 {
            return Err(Error::Transform(format!(
                "var '{name}' cannot be mapped to a field in the set of known resources (found {} matches)",
                hits.len()
            )));
        }
        let path = v
            .get_path(&["fieldref", "fieldpath"])
            .and_then(Node::as_str)
            .unwrap_or("metadata.name");
        let value = field(&hits[0].node, path).ok_or_else(|| {
            Error::Transform(format!(
                "field specified in var '{name}' ({path}) not found"
            ))
        })?;
        values.push((name.to_string(), value));
    }
    for r in res.iter_mut() {
        for p in reference_paths(r.kind()) {
            let segs = split_path(&p);
            visit(&mut r.node, &segs, false, &mut |n| substitute(n, &values));
        }
    }
    Ok(())
}

fn substitute(n: &mut Node, values: &[(String, Node)]) {
    match n {
        Node::Seq(items) => items.iter_mut().for_each(|i| substitute(i, values)),
        Node::Str(s) if s.contains("$(") => {
            for (name, v) in values {
                let pat = format!("$({name})");
                if *s == pat {
                    *n = v.clone();
                    return;
                }
                if s.contains(&pat) {
                    *s = s.replace(&pat, &v.scalar_text().unwrap_or_default());
                }
            }
        }
        _ => {}
    }
}
