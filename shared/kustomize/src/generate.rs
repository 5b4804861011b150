//! Flux's generated kustomization for a path without one: every Kubernetes YAML file below it
//! and every sub-directory that has its own kustomization, in walk order.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::kustfile::find_file;
use crate::yaml::{Map, Node, emit_document, parse_documents};

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), Error> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        let rel = p
            .strip_prefix(base)
            .unwrap_or(&p)
            .to_string_lossy()
            .to_string();
        // Like Go's filepath.Walk, symlinks are not followed into directories.
        let meta = std::fs::symlink_metadata(&p).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            if find_file(&p).is_some() {
                out.push(rel);
            } else {
                walk(base, &p, out)?;
            }
            continue;
        }
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "yaml" && ext != "yml" {
            continue;
        }
        let text = std::fs::read_to_string(&p).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        let docs = parse_documents(&text).map_err(|source| Error::Yaml {
            file: rel.clone(),
            source,
        })?;
        for d in &docs {
            if d.get_str("kind").is_none_or(str::is_empty) && d.get("items").is_none() {
                return Err(Error::Resource {
                    path: rel,
                    message: "failed to decode Kubernetes YAML: missing kind".into(),
                });
            }
        }
        out.push(rel);
    }
    Ok(())
}

/// The kustomization.yaml Flux would generate for `dir`, or `None` when it already has one.
pub fn generate_kustomization(dir: &Path) -> Result<Option<String>, Error> {
    if find_file(dir).is_some() {
        return Ok(None);
    }
    let mut resources = Vec::new();
    walk(dir, dir, &mut resources)?;
    let mut m = Map::new();
    m.insert(
        "apiVersion".into(),
        Node::Str("kustomize.config.k8s.io/v1beta1".into()),
    );
    m.insert("kind".into(), Node::Str("Kustomization".into()));
    if !resources.is_empty() {
        m.insert(
            "resources".into(),
            Node::Seq(resources.into_iter().map(Node::Str).collect()),
        );
    }
    Ok(Some(emit_document(&Node::Map(m))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_yaml_files_and_kustomization_dirs_but_not_other_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("b.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
        )
        .unwrap();
        std::fs::write(d.path().join("notes.txt"), "x").unwrap();
        std::fs::create_dir_all(d.path().join("app/deep")).unwrap();
        std::fs::write(d.path().join("app/kustomization.yaml"), "resources: []\n").unwrap();
        std::fs::create_dir_all(d.path().join("plain")).unwrap();
        std::fs::write(
            d.path().join("plain/a.yml"),
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n",
        )
        .unwrap();
        let k = generate_kustomization(d.path()).unwrap().unwrap();
        assert_eq!(
            k,
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- app\n- b.yaml\n- plain/a.yml\n"
        );
    }

    #[test]
    fn existing_kustomization_is_left_alone() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("kustomization.yaml"), "resources: []\n").unwrap();
        assert_eq!(generate_kustomization(d.path()).unwrap(), None);
    }
}
