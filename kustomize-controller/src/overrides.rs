//! The Kustomization's own overrides (targetNamespace, namePrefix/nameSuffix, patches, images,
//! components) written into the kustomization file of the build directory, as Flux's generator
//! does, so that kustomize applies them with its own rules.

use std::path::{Path, PathBuf};

use flux_api::kustomize::v1::KustomizationSpec;
use flux_kustomize::yaml::{Map, Node, emit_document, parse_documents};

use crate::build::BuildError;
use crate::convert::json_to_node;

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn find_kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

fn io(path: &Path, e: std::io::Error) -> BuildError {
    BuildError::Io {
        path: path.display().to_string(),
        message: e.kind().to_string(),
    }
}

/// Makes sure `dir` holds a kustomization file (generating Flux's one when missing) and writes
/// the spec's overrides into it.
pub fn write_kustomization(dir: &Path, spec: &KustomizationSpec) -> Result<(), BuildError> {
    let existing = find_kustomization_file(dir);
    if existing.is_some() && !has_overrides(spec) {
        return Ok(());
    }
    let (file, text) = match existing {
        Some(file) => {
            let text = std::fs::read_to_string(&file).map_err(|e| io(&file, e))?;
            (file, text)
        }
        None => {
            let text = flux_kustomize::generate_kustomization(dir)
                .map_err(BuildError::Kustomize)?
                .unwrap_or_default();
            (dir.join("kustomization.yaml"), text)
        }
    };
    let mut docs = parse_documents(&text).map_err(|e| {
        BuildError::Kustomize(flux_kustomize::Error::Yaml {
            file: file.display().to_string(),
            source: e,
        })
    })?;
    let mut root = match docs.len() {
        0 => Node::new_map(),
        _ => docs.swap_remove(0),
    };
    if root.is_null() {
        root = Node::new_map();
    }
    let Node::Map(map) = &mut root else {
        return Err(BuildError::Kustomize(
            flux_kustomize::Error::InvalidKustomization(format!(
                "{} is not a mapping",
                file.display()
            )),
        ));
    };
    apply_overrides(map, dir, spec)?;
    let out = emit_document(&root);
    std::fs::write(&file, out).map_err(|e| io(&file, e))
}

fn has_overrides(spec: &KustomizationSpec) -> bool {
    spec.target_namespace
        .as_deref()
        .is_some_and(|s| !s.is_empty())
        || spec.name_prefix.as_deref().is_some_and(|s| !s.is_empty())
        || spec.name_suffix.as_deref().is_some_and(|s| !s.is_empty())
        || !spec.patches.is_empty()
        || !spec.images.is_empty()
        || !spec.components.is_empty()
}

fn seq_mut<'a>(map: &'a mut Map, key: &str) -> &'a mut Vec<Node> {
    let entry = map.entry(key.to_string()).or_insert(Node::Seq(Vec::new()));
    if !matches!(entry, Node::Seq(_)) {
        *entry = Node::Seq(Vec::new());
    }
    match entry {
        Node::Seq(s) => s,
        _ => unreachable!("just made a sequence"),
    }
}

fn apply_overrides(map: &mut Map, dir: &Path, spec: &KustomizationSpec) -> Result<(), BuildError> {
    if let Some(ns) = spec.target_namespace.as_deref().filter(|s| !s.is_empty()) {
        map.insert("namespace".into(), Node::Str(ns.to_string()));
    }
    if let Some(p) = spec.name_prefix.as_deref().filter(|s| !s.is_empty()) {
        map.insert("namePrefix".into(), Node::Str(p.to_string()));
    }
    if let Some(s) = spec.name_suffix.as_deref().filter(|s| !s.is_empty()) {
        map.insert("nameSuffix".into(), Node::Str(s.to_string()));
    }
    if !spec.patches.is_empty() {
        let patches = seq_mut(map, "patches");
        for p in &spec.patches {
            let value = serde_json::to_value(p).map_err(|e| BuildError::Invalid(e.to_string()))?;
            patches.push(json_to_node(&value));
        }
    }
    if !spec.components.is_empty() {
        let mut wanted = Vec::new();
        for c in &spec.components {
            // Missing local components are an error unless told to skip them, as in Flux.
            if !dir.join(c).exists() {
                if spec.ignore_missing_components {
                    continue;
                }
                return Err(BuildError::Kustomize(
                    flux_kustomize::Error::InvalidKustomization(format!(
                        "component path '{c}' not found"
                    )),
                ));
            }
            wanted.push(Node::Str(c.clone()));
        }
        seq_mut(map, "components").extend(wanted);
    }
    if !spec.images.is_empty() {
        let images = seq_mut(map, "images");
        for image in &spec.images {
            let value =
                serde_json::to_value(image).map_err(|e| BuildError::Invalid(e.to_string()))?;
            let node = json_to_node(&value);
            // An image named in the spec replaces the file's entry for the same name.
            match images
                .iter_mut()
                .find(|n| n.get_str("name") == Some(image.name.as_str()))
            {
                Some(existing) => *existing = node,
                None => images.push(node),
            }
        }
    }
    Ok(())
}
