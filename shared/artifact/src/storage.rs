//! source-controller's artifact storage: where artifacts live on disk, how they are written,
//! found again after a restart, garbage-collected and addressed by URL.
//!
//! Layout (as Flux): `<root>/<kind>/<namespace>/<name>/<file>`, e.g.
//! `gitrepository/flux-system/podinfo/5f3c….tar.gz`. The advertised URL is
//! `http://<adv-addr>/<same relative path>`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::Error;

/// Identity of the source object that owns artifacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner<'a> {
    /// Lower-case kind, e.g. `gitrepository`.
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

/// One artifact file as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Path relative to the storage root, `/`-separated.
    pub path: String,
    pub url: String,
    pub digest: String,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
    advertised: String,
    retention_records: usize,
    retention_ttl: Option<Duration>,
}

impl Storage {
    /// Storage below `root`, advertised at `advertised_addr` (`host:port`, as `--storage-adv-addr`),
    /// keeping `retention_records` artifacts per object (Flux's `--artifact-retention-records`).
    pub fn new(
        root: impl Into<PathBuf>,
        advertised_addr: &str,
        retention_records: usize,
    ) -> Result<Self, Error> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| Error::io(&root, e))?;
        Ok(Storage {
            root,
            advertised: advertised_addr.trim_end_matches('/').to_string(),
            retention_records: retention_records.max(1),
            retention_ttl: None,
        })
    }

    /// Also collects artifacts whose files are older than `ttl` (Flux's `--artifact-retention-ttl`),
    /// so the records limit becomes an upper bound.
    pub fn with_retention_ttl(mut self, ttl: Duration) -> Self {
        self.retention_ttl = Some(ttl);
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The relative path an artifact named `file` of `owner` gets.
    pub fn relative_path(&self, owner: &Owner<'_>, file: &str) -> Result<String, Error> {
        for part in [owner.kind, owner.namespace, owner.name, file] {
            if part.is_empty() || part.contains('/') || part == "." || part == ".." {
                return Err(Error::PathTraversal {
                    entry: part.to_string(),
                });
            }
        }
        Ok(format!(
            "{}/{}/{}/{}",
            owner.kind, owner.namespace, owner.name, file
        ))
    }

    /// The URL other controllers download `relative_path` from.
    pub fn url(&self, relative_path: &str) -> String {
        if self.advertised.contains("://") {
            format!("{}/{relative_path}", self.advertised)
        } else {
            format!("http://{}/{relative_path}", self.advertised)
        }
    }

    /// Writes `bytes` as `file` of `owner` atomically (temporary file, then rename), so the
    /// artifact server never serves a half-written file.
    pub fn store(&self, owner: &Owner<'_>, file: &str, bytes: &[u8]) -> Result<Stored, Error> {
        let rel = self.relative_path(owner, file)?;
        let target = self.root.join(&rel);
        let dir = target
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.clone());
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let tmp = dir.join(format!(".{file}.tmp-{}", std::process::id()));
        std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
        Ok(Stored {
            url: self.url(&rel),
            path: rel,
            digest: crate::digest(bytes),
            size: bytes.len() as u64,
        })
    }

    /// Whether the file behind `relative_path` exists and still has `digest`: how a restarted
    /// controller finds its artifacts again instead of rebuilding them.
    pub fn verify(&self, relative_path: &str, digest: &str) -> bool {
        let Some(path) = self.resolve(relative_path) else {
            return false;
        };
        std::fs::read(path)
            .map(|bytes| crate::verify_digest(&bytes, digest).is_ok())
            .unwrap_or(false)
    }

    /// Absolute path of a stored artifact, refusing anything outside the root.
    pub fn resolve(&self, relative_path: &str) -> Option<PathBuf> {
        let mut out = self.root.clone();
        for part in relative_path.split('/') {
            if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
                return None;
            }
            out.push(part);
        }
        out.is_file().then_some(out)
    }

    /// Deletes the artifacts of `owner` older than the retention TTL, then all but the newest
    /// `retention_records`, as Flux's storage does; never `keep`. Returns the relative paths removed.
    pub fn garbage_collect(&self, owner: &Owner<'_>, keep: &str) -> Result<Vec<String>, Error> {
        self.garbage_collect_at(owner, keep, SystemTime::now())
    }

    fn garbage_collect_at(
        &self,
        owner: &Owner<'_>,
        keep: &str,
        now: SystemTime,
    ) -> Result<Vec<String>, Error> {
        let dir = self.owner_dir(owner)?;
        let mut files: Vec<(SystemTime, String)> = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let meta = entry.metadata().map_err(|e| Error::io(entry.path(), e))?;
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            files.push((modified, self.relative_path(owner, &name)?));
        }
        // Newest first; the kept artifact counts as one of the records.
        files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
        let mut kept = usize::from(files.iter().any(|(_, p)| p == keep));
        let mut removed = Vec::new();
        let expired = |modified: SystemTime| {
            self.retention_ttl
                .is_some_and(|ttl| now.duration_since(modified).is_ok_and(|age| age > ttl))
        };
        for (modified, rel) in files {
            if rel == keep {
                continue;
            }
            if !expired(modified) && kept < self.retention_records {
                kept += 1;
                continue;
            }
            let path = self.root.join(&rel);
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            removed.push(rel);
        }
        Ok(removed)
    }

    /// Removes every artifact of `owner` (the object was deleted).
    pub fn remove_all(&self, owner: &Owner<'_>) -> Result<(), Error> {
        let dir = self.owner_dir(owner)?;
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(&dir, e)),
        }
    }

    fn owner_dir(&self, owner: &Owner<'_>) -> Result<PathBuf, Error> {
        let rel = self.relative_path(owner, "x")?;
        let dir = rel.trim_end_matches("/x");
        Ok(self.root.join(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner<'static> {
        Owner {
            kind: "gitrepository",
            namespace: "flux-system",
            name: "podinfo",
        }
    }

    #[test]
    fn store_writes_under_the_flux_layout_and_advertises_a_url() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage =
            Storage::new(dir.path(), "source-controller.flux-system.svc", 2).expect("new");
        let stored = storage
            .store(&owner(), "abc.tar.gz", b"data")
            .expect("store");
        assert_eq!(stored.path, "gitrepository/flux-system/podinfo/abc.tar.gz");
        assert_eq!(
            stored.url,
            "http://source-controller.flux-system.svc/gitrepository/flux-system/podinfo/abc.tar.gz"
        );
        assert_eq!(stored.size, 4);
        assert!(storage.verify(&stored.path, &stored.digest));
        assert!(!storage.verify(&stored.path, &crate::digest(b"other")));
        assert!(!storage.verify(
            "gitrepository/flux-system/podinfo/missing.tar.gz",
            &stored.digest
        ));
    }

    #[test]
    fn names_with_slashes_or_dots_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::new(dir.path(), "localhost:9090", 2).expect("new");
        let evil = Owner {
            kind: "gitrepository",
            namespace: "..",
            name: "x",
        };
        assert!(storage.store(&evil, "a.tar.gz", b"x").is_err());
        assert!(storage.store(&owner(), "../a.tar.gz", b"x").is_err());
        assert!(storage.resolve("../etc/passwd").is_none());
    }

    #[test]
    fn garbage_collect_keeps_the_newest_records_and_the_current_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::new(dir.path(), "localhost:9090", 2).expect("new");
        let mut paths = Vec::new();
        for i in 0..4 {
            let stored = storage
                .store(&owner(), &format!("{i}.tar.gz"), format!("{i}").as_bytes())
                .expect("store");
            let file = std::fs::File::options()
                .write(true)
                .open(storage.root().join(&stored.path))
                .expect("open");
            let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000 + i);
            file.set_modified(when).expect("mtime");
            paths.push(stored.path);
        }
        let removed = storage.garbage_collect(&owner(), &paths[3]).expect("gc");
        assert_eq!(removed, vec![paths[1].clone(), paths[0].clone()]);
        assert!(storage.resolve(&paths[2]).is_some());
        assert!(storage.resolve(&paths[3]).is_some());

        storage.remove_all(&owner()).expect("remove");
        assert!(storage.resolve(&paths[3]).is_none());
        storage.remove_all(&owner()).expect("remove twice is fine");
    }

    #[test]
    fn garbage_collect_removes_artifacts_older_than_the_ttl_but_never_the_current_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::new(dir.path(), "localhost:9090", 3)
            .expect("new")
            .with_retention_ttl(Duration::from_secs(60));
        let mut paths = Vec::new();
        // Written at 1000 s, 1100 s and 1150 s.
        for (i, at) in [1_000, 1_100, 1_150].into_iter().enumerate() {
            let stored = storage
                .store(&owner(), &format!("{i}.tar.gz"), b"x")
                .expect("store");
            let file = std::fs::File::options()
                .write(true)
                .open(storage.root().join(&stored.path))
                .expect("open");
            file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(at))
                .expect("mtime");
            paths.push(stored.path);
        }
        // At 1200 s only the 1150 s artifact is younger than a minute; the current one (the
        // oldest here) stays whatever its age.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_200);
        let removed = storage
            .garbage_collect_at(&owner(), &paths[0], now)
            .expect("gc");
        assert_eq!(removed, vec![paths[1].clone()]);
        assert!(storage.resolve(&paths[0]).is_some());
        assert!(storage.resolve(&paths[2]).is_some());
    }
}
