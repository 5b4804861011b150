//! Patch and replacement target selectors: group/version/kind/name/namespace (regex) and
//! label/annotation selectors.

use regex::Regex;

use crate::Error;
use crate::resource::Resource;
use crate::yaml::Node;

#[derive(Debug, Default)]
pub struct Selector {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    label: Option<String>,
    annotation: Option<String>,
}

fn anchored(field: Option<&str>) -> Result<Option<Regex>, Error> {
    field
        .map(|p| {
            Regex::new(&format!("^(?:{p})$"))
                .map_err(|e| Error::Patch(format!("invalid selector regex {p:?}: {e}")))
        })
        .transpose()
}

impl Selector {
    pub fn from_node(n: &Node) -> Result<Selector, Error> {
        Ok(Selector {
            group: anchored(n.get_str("group"))?,
            version: anchored(n.get_str("version"))?,
            kind: anchored(n.get_str("kind"))?,
            name: anchored(n.get_str("name"))?,
            namespace: anchored(n.get_str("namespace"))?,
            label: n.get_str("labelSelector").map(str::to_string),
            annotation: n.get_str("annotationSelector").map(str::to_string),
        })
    }

    pub fn matches(&self, r: &Resource) -> bool {
        let g = r.gvk();
        let m = |re: &Option<Regex>, v: &str| re.as_ref().is_none_or(|re| re.is_match(v));
        m(&self.group, &g.group)
            && m(&self.version, &g.version)
            && m(&self.kind, &g.kind)
            && (self.name.is_none()
                || m(&self.name, r.name())
                || r.history.iter().any(|(n, _)| m(&self.name, n)))
            && m(&self.namespace, r.namespace())
            && self
                .label
                .as_deref()
                .is_none_or(|s| label_match(s, r.node.get_path(&["metadata", "labels"])))
            && self
                .annotation
                .as_deref()
                .is_none_or(|s| label_match(s, r.node.get_path(&["metadata", "annotations"])))
    }
}

/// Kubernetes label selector syntax: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`.
pub fn label_match(selector: &str, labels: Option<&Node>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::scalar_text);
    let mut reqs = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                reqs.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    reqs.push(&selector[start..]);
    reqs.into_iter()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .all(|req| {
            if let Some((k, v)) = req.split_once("!=") {
                return get(k.trim()).as_deref() != Some(v.trim());
            }
            if let Some((k, v)) = req.split_once("==").or_else(|| req.split_once('=')) {
                return get(k.trim()).as_deref() == Some(v.trim());
            }
            if let Some(k) = req.strip_prefix('!') {
                return get(k.trim()).is_none();
            }
            for (op, neg) in [(" notin ", true), (" in ", false)] {
                if let Some((k, set)) = req.split_once(op) {
                    let set: Vec<&str> = set
                        .trim()
                        .trim_start_matches('(')
                        .trim_end_matches(')')
                        .split(',')
                        .map(str::trim)
                        .collect();
                    let v = get(k.trim());
                    let inside = v.as_deref().is_some_and(|v| set.contains(&v));
                    return inside != neg;
                }
            }
            get(req).is_some()
        })
}
