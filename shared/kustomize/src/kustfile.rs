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
            if !KNOWN_FIELDS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
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
        let mut node = node;
        normalize(&mut node, &KUSTOMIZATION, true)?;
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

pub(crate) fn go_type(n: &Node) -> &'static str {
    match n {
        Node::Bool(_) => "bool",
        Node::Int(_) | Node::Uint(_) | Node::Float(_) => "number",
        Node::Seq(_) => "array",
        Node::Map(_) => "object",
        _ => "string",
    }
}

/// The typed shape of kustomization fields that kustomize decodes strictly: Go's JSON decoding
/// matches field names case-insensitively and rejects unknown ones.
enum Shape {
    Any,
    Obj(&'static [(&'static str, Shape)]),
    List(&'static Shape),
}

const TARGET: Shape = Shape::Obj(&[
    ("group", Shape::Any),
    ("version", Shape::Any),
    ("kind", Shape::Any),
    ("name", Shape::Any),
    ("namespace", Shape::Any),
    ("labelSelector", Shape::Any),
    ("annotationSelector", Shape::Any),
]);
const PATCH: Shape = Shape::Obj(&[
    ("path", Shape::Any),
    ("patch", Shape::Any),
    ("target", TARGET),
    (
        "options",
        Shape::Obj(&[
            ("allowNameChange", Shape::Any),
            ("allowKindChange", Shape::Any),
        ]),
    ),
]);
const GEN_OPTIONS: Shape = Shape::Obj(&[
    ("labels", Shape::Any),
    ("annotations", Shape::Any),
    ("disableNameSuffixHash", Shape::Any),
    ("immutable", Shape::Any),
]);
const GENERATOR: Shape = Shape::Obj(&[
    ("name", Shape::Any),
    ("namespace", Shape::Any),
    ("behavior", Shape::Any),
    ("files", Shape::Any),
    ("literals", Shape::Any),
    ("envs", Shape::Any),
    ("env", Shape::Any),
    ("options", GEN_OPTIONS),
    ("type", Shape::Any),
]);
const KUSTOMIZATION: Shape = Shape::Obj(&[
    (
        "images",
        Shape::List(&Shape::Obj(&[
            ("name", Shape::Any),
            ("newName", Shape::Any),
            ("newTag", Shape::Any),
            ("digest", Shape::Any),
            ("tagSuffix", Shape::Any),
        ])),
    ),
    (
        "replicas",
        Shape::List(&Shape::Obj(&[("name", Shape::Any), ("count", Shape::Any)])),
    ),
    ("patches", Shape::List(&PATCH)),
    ("patchesJson6902", Shape::List(&PATCH)),
    ("configMapGenerator", Shape::List(&GENERATOR)),
    ("secretGenerator", Shape::List(&GENERATOR)),
    ("generatorOptions", GEN_OPTIONS),
    (
        "labels",
        Shape::List(&Shape::Obj(&[
            ("pairs", Shape::Any),
            ("includeSelectors", Shape::Any),
            ("includeTemplates", Shape::Any),
            ("fields", Shape::Any),
        ])),
    ),
    (
        "sortOptions",
        Shape::Obj(&[
            ("order", Shape::Any),
            (
                "legacySortOptions",
                Shape::Obj(&[("orderFirst", Shape::Any), ("orderLast", Shape::Any)]),
            ),
        ]),
    ),
    ("openapi", Shape::Any),
]);

/// Renames fields to their canonical spelling and rejects unknown ones, like kustomize's
/// strict decoding of kustomization.yaml.
fn normalize(node: &mut Node, shape: &Shape, is_root: bool) -> Result<(), Error> {
    match (shape, node) {
        (Shape::Any, _) => Ok(()),
        (Shape::List(item), Node::Seq(items)) => {
            items.iter_mut().try_for_each(|i| normalize(i, item, false))
        }
        (Shape::Obj(fields), Node::Map(m)) => {
            let entries: Vec<(String, Node)> = std::mem::take(m).into_iter().collect();
            for (k, mut v) in entries {
                let known = fields
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(&k));
                let key = match known {
                    Some((name, child)) => {
                        normalize(&mut v, child, false)?;
                        name.to_string()
                    }
                    None if is_root => KNOWN_FIELDS
                        .iter()
                        .find(|f| f.eq_ignore_ascii_case(&k))
                        .map(|f| f.to_string())
                        .unwrap_or(k),
                    None => {
                        return Err(Error::InvalidKustomization(format!(
                            "json: unknown field \"{k}\""
                        )));
                    }
                };
                m.insert(key, v);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
