//! kustomization.yaml: locating it, reading it and refusing fields kustomize does not know.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::yaml::{Node, parse_documents_yaml11};

pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

const KNOWN_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "components",
    "crds",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "images",
    "replicas",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "replacements",
    "vars",
    "configurations",
    "sortOptions",
    "generators",
    "transformers",
    "validators",
    "helmCharts",
    "helmGlobals",
    "helmChartInflationGenerator",
    "openapi",
    "buildMetadata",
    "imageTags",
];

/// A parsed kustomization file.
#[derive(Debug, Clone)]
pub struct Kustomization {
    pub node: Node,
}

/// Finds the kustomization file in `dir`, if any.
pub fn find_file(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

impl Kustomization {
    pub fn load(dir: &Path) -> Result<Kustomization, Error> {
        let found = FILE_NAMES.iter().filter(|n| dir.join(n).is_file()).count();
        if found > 1 {
            return Err(Error::InvalidKustomization(format!(
                "Found multiple kustomization files under: {}",
                dir.display()
            )));
        }
        let file = find_file(dir).ok_or_else(|| Error::NoKustomization(dir.to_path_buf()))?;
        let text = std::fs::read_to_string(&file).map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        Kustomization::parse(&text, dir, &file.display().to_string())
    }

    pub fn parse(text: &str, dir: &Path, label: &str) -> Result<Kustomization, Error> {
        let mut docs = parse_documents_yaml11(text).map_err(|source| Error::Yaml {
            file: label.to_string(),
            source,
        })?;
        let node = match docs.len() {
            0 => Node::new_map(),
            1 => docs.remove(0),
            _ => {
                return Err(Error::InvalidKustomization(
                    "kustomization file must contain a single document".into(),
                ));
            }
        };
        let Some(map) = node.as_map() else {
            return Err(Error::InvalidKustomization(format!(
                "{label}: not a mapping"
            )));
        };
        for key in map.keys() {
            if !KNOWN_FIELDS.contains(&key.as_str()) {
                return Err(Error::InvalidKustomization(format!(
                    "json: unknown field \"{key}\""
                )));
            }
        }
        if map.keys().all(|k| k == "apiVersion" || k == "kind") {
            return Err(Error::InvalidKustomization(
                "kustomization.yaml is empty".into(),
            ));
        }
        if let Some(kind) = node.get_str("kind")
            && kind != "Kustomization"
            && kind != "Component"
        {
            return Err(Error::InvalidKustomization(format!(
                "unknown kind '{kind}'"
            )));
        }
        let _ = dir;
        Ok(Kustomization { node })
    }

    pub fn is_component(&self) -> bool {
        self.node.get_str("kind") == Some("Component")
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.node.get(key).filter(|n| !n.is_null())
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.node.get_str(key)
    }

    /// A list of strings field (resources, components, ...).
    pub fn strings(&self, key: &str) -> Result<Vec<String>, Error> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Node::Seq(items)) => items
                .iter()
                .map(|i| {
                    i.scalar_text().ok_or_else(|| {
                        Error::InvalidKustomization(format!("{key}: expected a list of strings"))
                    })
                })
                .collect(),
            Some(_) => Err(Error::InvalidKustomization(format!(
                "{key}: expected a list of strings"
            ))),
        }
    }

    /// A list of mappings field (images, patches, generators, ...).
    pub fn items(&self, key: &str) -> Result<Vec<&Node>, Error> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Node::Seq(items)) => Ok(items.iter().collect()),
            Some(_) => Err(Error::InvalidKustomization(format!(
                "{key}: expected a list"
            ))),
        }
    }

    /// A string-to-string mapping field (commonLabels, commonAnnotations).
    pub fn string_map(&self, key: &str) -> Result<Vec<(String, String)>, Error> {
        string_map(self.get(key), key)
    }
}

pub fn string_map(node: Option<&Node>, key: &str) -> Result<Vec<(String, String)>, Error> {
    match node {
        None | Some(Node::Null) => Ok(Vec::new()),
        Some(Node::Map(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Node::Str(s) => Ok((k.clone(), s.clone())),
                Node::Null => Ok((k.clone(), String::new())),
                other => Err(Error::InvalidKustomization(format!(
                    "json: cannot unmarshal {} into Go struct field Kustomization.{key} of type string",
                    go_type(other)
                ))),
            })
            .collect(),
        Some(_) => Err(Error::InvalidKustomization(format!("{key}: expected a mapping"))),
    }
}

fn go_type(n: &Node) -> &'static str {
    match n {
        Node::Bool(_) => "bool",
        Node::Int(_) | Node::Uint(_) | Node::Float(_) => "number",
        Node::Seq(_) => "array",
        Node::Map(_) => "object",
        _ => "string",
    }
}
