//! Strategic merge patch as kustomize applies it: Kubernetes merge keys, `$patch: delete` and
//! `$patch: replace`, nulls deleting fields, merged lists in patch order.

use crate::yaml::{Map, Node};

/// The merge key of a list field, for the built-in Kubernetes types kustomize knows.
fn merge_key(field: &str, parent: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ports" if parent == "spec" => "port",
        "ports" => "containerPort",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        "readinessGates" => "conditionType",
        "conditions" => "type",
        _ => return None,
    })
}

/// Result of patching a value: the patched value, or a request to delete it.
pub enum Outcome {
    Keep(Node),
    Delete,
}

/// Applies a strategic merge patch to a whole resource.
pub fn apply(target: &Node, patch: &Node) -> Outcome {
    apply_with_keys(target, patch, &Keys::new())
}

/// Extra list merge keys by field name (from an `openapi` schema), checked before the
/// built-in Kubernetes ones.
pub type Keys = std::collections::HashMap<String, String>;

/// Applies a strategic merge patch with extra merge keys.
pub fn apply_with_keys(target: &Node, patch: &Node, keys: &Keys) -> Outcome {
    merge_value(target, patch, "", "", keys)
}

/// kustomize's merge (kyaml) acts on `$patch` only; `$retainKeys` and `$setElementOrder/...`
/// are copied through like ordinary fields, as `kubectl kustomize` does.
fn is_directive_key(k: &str) -> bool {
    k == "$patch"
}

/// A patch value with directives and nulls stripped, for insertion where nothing existed.
fn clean(patch: &Node) -> Option<Node> {
    match patch {
        Node::Map(m) => {
            if m.get("$patch").and_then(Node::as_str) == Some("delete") {
                return None;
            }
            let mut out = Map::new();
            for (k, v) in m {
                if is_directive_key(k) || v.is_null() {
                    continue;
                }
                if let Some(c) = clean(v) {
                    out.insert(k.clone(), c);
                }
            }
            Some(Node::Map(out))
        }
        Node::Seq(items) => Some(Node::Seq(items.iter().filter_map(clean).collect())),
        other => Some(other.clone()),
    }
}

fn merge_value(target: &Node, patch: &Node, field: &str, parent: &str, keys: &Keys) -> Outcome {
    match (target, patch) {
        (Node::Map(t), Node::Map(p)) => match p.get("$patch").and_then(Node::as_str) {
            Some("delete") => Outcome::Delete,
            Some("replace") => clean(patch).map(Outcome::Keep).unwrap_or(Outcome::Delete),
            _ => Outcome::Keep(Node::Map(merge_map(t, p, field, keys))),
        },
        (Node::Seq(t), Node::Seq(p)) => {
            Outcome::Keep(Node::Seq(merge_list(t, p, field, parent, keys)))
        }
        (_, p) => clean(p).map(Outcome::Keep).unwrap_or(Outcome::Delete),
    }
}

fn merge_map(t: &Map, p: &Map, this_field: &str, keys: &Keys) -> Map {
    let mut out = t.clone();
    for (k, pv) in p {
        if is_directive_key(k) {
            continue;
        }
        if pv.is_null() {
            out.shift_remove(k);
            continue;
        }
        match out.get(k) {
            Some(tv) => match merge_value(tv, pv, k, this_field, keys) {
                Outcome::Keep(v) => {
                    out.insert(k.clone(), v);
                }
                Outcome::Delete => {
                    out.shift_remove(k);
                }
            },
            None => {
                if let Some(v) = clean(pv) {
                    out.insert(k.clone(), v);
                }
            }
        }
    }
    out
}

fn merge_list(t: &[Node], p: &[Node], field: &str, parent: &str, keys: &Keys) -> Vec<Node> {
    let key = keys
        .get(field)
        .map(String::as_str)
        .or_else(|| merge_key(field, parent));
    let all_maps = p.iter().all(|n| matches!(n, Node::Map(_)));
    // A `$patch: replace` element replaces the whole list with the other elements.
    if p.iter().any(|n| n.get_str("$patch") == Some("replace")) {
        return p
            .iter()
            .filter(|n| n.get_str("$patch") != Some("replace"))
            .filter_map(clean)
            .collect();
    }
    if field == "finalizers" {
        // A set of strings (patch strategy merge): the patch's first, then the others.
        let mut out: Vec<Node> = p.iter().filter_map(clean).collect();
        out.extend(t.iter().filter(|n| !p.contains(n)).cloned());
        return out;
    }
    let Some(key) = key.filter(|_| all_maps) else {
        return p.iter().filter_map(clean).collect();
    };
    // Like apimachinery's strategic merge: the patch's elements come first, in patch order,
    // then the target's untouched elements in their order.
    let mut used = vec![false; t.len()];
    let mut out: Vec<Node> = Vec::new();
    // Service ports are keyed by number and protocol (an absent protocol only equals an
    // absent one); kustomize puts new ports first and keeps the others where they were.
    let service_ports = field == "ports" && parent == "spec";
    let proto = |n: &Node| n.get("protocol").and_then(Node::scalar_text);
    let mut merged_in_place: Vec<Option<Node>> = vec![None; t.len()];
    for pi in p {
        let pk = pi.get(key).and_then(Node::scalar_text);
        let same_key = |ti: &Node| pk.is_some() && ti.get(key).and_then(Node::scalar_text) == pk;
        let pos = t.iter().enumerate().position(|(i, ti)| {
            !used[i] && same_key(ti) && (!service_ports || proto(ti) == proto(pi))
        });
        match pos {
            Some(i) => {
                used[i] = true;
                if let Outcome::Keep(v) = merge_value(&t[i], pi, "", field, keys) {
                    if service_ports {
                        merged_in_place[i] = Some(v);
                    } else {
                        out.push(v);
                    }
                }
            }
            // kustomize drops a service port whose number exists with another protocol.
            None if service_ports && t.iter().any(same_key) => {}
            None => {
                if pi.get_str("$patch") == Some("delete") {
                    continue;
                }
                if let Some(v) = clean(pi) {
                    out.push(v);
                }
            }
        }
    }
    if service_ports {
        for (i, ti) in t.iter().enumerate() {
            match merged_in_place[i].take() {
                Some(v) => out.push(v),
                None if !used[i] => out.push(ti.clone()),
                None => {}
            }
        }
        return out;
    }
    out.extend(
        t.iter()
            .zip(used)
            .filter(|(_, u)| !u)
            .map(|(n, _)| n.clone()),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    fn doc(s: &str) -> Node {
        parse_documents(s).unwrap().remove(0)
    }

    #[test]
    fn strategic_merge_merges_containers_by_name_and_deletes_with_directive() {
        let t = doc("spec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: y\n");
        let p = doc(
            "spec:\n  containers:\n  - name: a\n    image: z\n  - name: b\n    $patch: delete\n",
        );
        let Outcome::Keep(out) = apply(&t, &p) else {
            panic!("deleted")
        };
        assert_eq!(
            out,
            doc("spec:\n  containers:\n  - name: a\n    image: z\n")
        );
    }

    #[test]
    fn strategic_merge_null_removes_a_field() {
        let t = doc("a: 1\nb: 2\n");
        let Outcome::Keep(out) = apply(&t, &doc("b: null\n")) else {
            panic!("deleted")
        };
        assert_eq!(out, doc("a: 1\n"));
    }
}
