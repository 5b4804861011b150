//! File access under kustomize's root-only load restriction: no file outside the kustomization's
//! directory, symlinks resolved before the check, remote URLs refused.

use std::path::{Path, PathBuf};

use crate::Error;

#[derive(Debug, Default)]
pub struct Loader;

/// Whether a resource entry names a remote target kustomize would fetch.
pub fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
}

impl Loader {
    /// Resolves `rel` against `dir`, refusing anything that leaves `dir`.
    pub fn resolve_file(&self, dir: &Path, rel: &str) -> Result<PathBuf, Error> {
        if is_remote(rel) {
            return Err(Error::Unsupported {
                feature: "remote resources",
                detail: rel.to_string(),
            });
        }
        let joined = dir.join(rel);
        let real = joined.canonicalize().map_err(|source| Error::Io {
            path: joined.clone(),
            source,
        })?;
        let root = dir.canonicalize().map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        if !real.starts_with(&root) {
            return Err(Error::OutsideRoot { path: real, root });
        }
        Ok(real)
    }

    pub fn read_bytes(&self, dir: &Path, rel: &str) -> Result<Vec<u8>, Error> {
        let p = self.resolve_file(dir, rel)?;
        std::fs::read(&p).map_err(|source| Error::Io { path: p, source })
    }

    pub fn read_string(&self, dir: &Path, rel: &str) -> Result<String, Error> {
        let p = self.resolve_file(dir, rel)?;
        let bytes = std::fs::read(&p).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        String::from_utf8(bytes).map_err(|_| Error::Resource {
            path: rel.to_string(),
            message: "file is not valid UTF-8".into(),
        })
    }
}
