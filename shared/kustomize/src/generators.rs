//! configMapGenerator and secretGenerator, with kustomize's content hash name suffix.

use std::path::Path;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::Error;
use crate::kustfile::string_map;
use crate::loader::Loader;
use crate::resource::Resource;
use crate::yaml::{Map, Node};

/// Options shared by all generators of a kustomization (`generatorOptions`).
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub disable_hash: Option<bool>,
    pub immutable: Option<bool>,
}

impl Options {
    pub fn from_node(n: Option<&Node>) -> Result<Options, Error> {
        let Some(n) = n.filter(|n| !n.is_null()) else {
            return Ok(Options::default());
        };
        Ok(Options {
            labels: string_map(n.get("labels"), "labels")?,
            annotations: string_map(n.get("annotations"), "annotations")?,
            disable_hash: match n.get("disableNameSuffixHash") {
                Some(Node::Bool(b)) => Some(*b),
                _ => None,
            },
            immutable: match n.get("immutable") {
                Some(Node::Bool(b)) => Some(*b),
                _ => None,
            },
        })
    }
}

fn strip_quotes(v: &str) -> &str {
    let b = v.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

fn strings(n: &Node, key: &str) -> Vec<String> {
    match n.get(key) {
        Some(Node::Seq(s)) => s.iter().filter_map(Node::scalar_text).collect(),
        Some(Node::Str(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Key/value pairs in kustomize's order: env files, literals, then files.
fn pairs(entry: &Node, loader: &Loader, dir: &Path) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut envs = strings(entry, "envs");
    envs.extend(strings(entry, "env"));
    for env in envs {
        let text = loader.read_string(dir, &env)?;
        for line in text.lines() {
            let line = line.trim_start_matches('\u{feff}');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let (k, v) = line.split_once('=').unwrap_or((line, ""));
            let k = k.trim_start();
            if k.is_empty() || k.contains(' ') {
                return Err(Error::Generator(format!(
                    "invalid key value pair: {line:?} in {env}"
                )));
            }
            out.push((k.to_string(), v.as_bytes().to_vec()));
        }
    }
    for lit in strings(entry, "literals") {
        let Some((k, v)) = lit.split_once('=') else {
            return Err(Error::Generator(format!(
                "invalid literal source {lit}, expected key=value"
            )));
        };
        out.push((k.to_string(), strip_quotes(v).as_bytes().to_vec()));
    }
    for f in strings(entry, "files") {
        let (key, path) = match f.split_once('=') {
            Some((k, p)) => (k.to_string(), p.to_string()),
            None => {
                let base = Path::new(&f)
                    .file_name()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default();
                (base, f.clone())
            }
        };
        let data = loader.read_bytes(dir, &path)?;
        out.push((key, data));
    }
    let mut seen = std::collections::HashSet::new();
    for (k, _) in &out {
        if !seen.insert(k.clone()) {
            return Err(Error::Generator(format!(
                "cannot add key {k}, another key by that name already exists"
            )));
        }
    }
    Ok(out)
}

/// Builds one generated ConfigMap or Secret.
pub fn generate(
    entry: &Node,
    is_secret: bool,
    global: &Options,
    loader: &Loader,
    dir: &Path,
    namespace: Option<&str>,
) -> Result<Resource, Error> {
    let name = entry
        .get_str("name")
        .ok_or_else(|| Error::Generator("a generator needs a name".into()))?;
    let local = Options::from_node(entry.get("options"))?;
    let kv = pairs(entry, loader, dir)?;
    let mut data = Map::new();
    let mut binary = Map::new();
    for (k, v) in kv {
        if is_secret {
            data.insert(k, Node::Str(encode_base64(&v)));
        } else {
            match String::from_utf8(v) {
                Ok(s) => {
                    data.insert(k, Node::Str(s));
                }
                Err(e) => {
                    binary.insert(k, Node::Str(encode_base64(&e.into_bytes())));
                }
            }
        }
    }
    let mut meta = Map::new();
    meta.insert("name".into(), Node::Str(name.to_string()));
    if let Some(ns) = entry.get_str("namespace").or(namespace) {
        meta.insert("namespace".into(), Node::Str(ns.to_string()));
    }
    let mut labels = Map::new();
    for (k, v) in global.labels.iter().chain(&local.labels) {
        labels.insert(k.clone(), Node::Str(v.clone()));
    }
    if !labels.is_empty() {
        meta.insert("labels".into(), Node::Map(labels));
    }
    let mut ann = Map::new();
    for (k, v) in global.annotations.iter().chain(&local.annotations) {
        ann.insert(k.clone(), Node::Str(v.clone()));
    }
    if !ann.is_empty() {
        meta.insert("annotations".into(), Node::Map(ann));
    }
    let mut m = Map::new();
    m.insert("apiVersion".into(), Node::Str("v1".into()));
    m.insert(
        "kind".into(),
        Node::Str(if is_secret { "Secret" } else { "ConfigMap" }.into()),
    );
    m.insert("metadata".into(), Node::Map(meta));
    // kustomize leaves `data` out of a ConfigMap without entries but keeps `data: {}` on Secrets.
    if is_secret || !data.is_empty() {
        m.insert("data".into(), Node::Map(data));
    }
    if !binary.is_empty() {
        m.insert("binaryData".into(), Node::Map(binary));
    }
    if is_secret {
        m.insert(
            "type".into(),
            Node::Str(entry.get_str("type").unwrap_or("Opaque").to_string()),
        );
    }
    if local.immutable.unwrap_or(false) || global.immutable.unwrap_or(false) {
        m.insert("immutable".into(), Node::Bool(true));
    }
    let mut r = Resource::new(Node::Map(m));
    r.needs_hash = !(local.disable_hash.unwrap_or(false) || global.disable_hash.unwrap_or(false));
    r.behavior = Some(entry.get_str("behavior").unwrap_or("create").to_string());
    Ok(r)
}

/// kyaml's generator encoding: base64 cut into 70-character lines, each ending in a newline
/// once the text is 70 characters or longer.
fn encode_base64(data: &[u8]) -> String {
    const LINE: usize = 70;
    let enc = base64::engine::general_purpose::STANDARD.encode(data);
    if enc.len() < LINE {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / LINE + 1);
    for chunk in enc.as_bytes().chunks(LINE) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Go's encoding/json string escaping (HTML-safe).
fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_string_map(m: Option<&Node>, out: &mut String) {
    let mut pairs: Vec<(String, String)> = match m {
        Some(Node::Map(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.scalar_text().unwrap_or_default()))
            .collect(),
        _ => Vec::new(),
    };
    pairs.sort();
    out.push('{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(k, out);
        out.push(':');
        json_string(v, out);
    }
    out.push('}');
}

/// kustomize's name hash of a ConfigMap or Secret: sha256 of a small JSON encoding (with an
/// empty name), first 10 hex digits with 0,1,3,a,e swapped for letters.
pub fn content_hash(node: &Node) -> String {
    let mut j = String::new();
    let kind = node.get_str("kind").unwrap_or("");
    let binary = node
        .get("binaryData")
        .and_then(Node::as_map)
        .filter(|m| !m.is_empty());
    j.push('{');
    if kind == "ConfigMap" {
        if binary.is_some() {
            j.push_str("\"binaryData\":");
            json_string_map(node.get("binaryData"), &mut j);
            j.push(',');
        }
        // A ConfigMap without `data` hashes it as an empty string.
        j.push_str("\"data\":");
        match node.get("data") {
            Some(Node::Map(_)) => json_string_map(node.get("data"), &mut j),
            _ => j.push_str("\"\""),
        }
        j.push_str(",\"kind\":\"ConfigMap\",\"name\":\"\"}");
    } else {
        j.push_str("\"data\":");
        match node.get("data") {
            Some(Node::Map(_)) => json_string_map(node.get("data"), &mut j),
            _ => j.push_str("\"\""),
        }
        j.push_str(",\"kind\":\"Secret\",\"name\":\"\",\"type\":");
        json_string(node.get_str("type").unwrap_or(""), &mut j);
        j.push('}');
    }
    let digest = Sha256::digest(j.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    #[test]
    fn configmap_hash_matches_kustomize() {
        let n = parse_documents(
            "kind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"1\"\n  b: <x>\n",
        )
        .unwrap()
        .remove(0);
        assert_eq!(content_hash(&n), "fdtb6gftgd");
    }

    #[test]
    fn secret_hash_matches_kustomize() {
        let n = parse_documents("kind: Secret\ntype: Opaque\ndata:\n  k: dg==\n")
            .unwrap()
            .remove(0);
        assert_eq!(content_hash(&n), "ftgtgc4t9f");
    }
}
