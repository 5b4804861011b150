//! Decryption of the files a kustomization feeds to generators and patches, in place under a
//! root directory, as kustomize-controller's `DecryptSources` does before `kustomize build`:
//! secretGenerator `files` and `envs` and `patches[].path`, following `resources` and
//! `components` into sub-directories. Paths are resolved like securejoin: `..` and symbolic
//! links never leave the root.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use crate::{DecryptOptions, Error, Format, Keyring, decrypt_with, is_encrypted};

/// kustomize-controller's limit for a file it decrypts (`maxEncryptedFileSize`).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 5 << 20;

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
const MAX_SYMLINKS: usize = 255;

/// Settings for [`decrypt_kustomization_sources`].
#[derive(Debug, Clone, Copy)]
pub struct SourceOptions {
    pub max_file_size: u64,
    /// kustomize-controller does not verify the MAC by default.
    pub verify_mac: bool,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            verify_mac: false,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Kustomization {
    resources: Vec<String>,
    components: Vec<String>,
    #[serde(rename = "secretGenerator")]
    secret_generator: Vec<SecretArgs>,
    patches: Vec<Patch>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SecretArgs {
    files: Vec<String>,
    envs: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Patch {
    path: String,
}

fn io_error(root: &Path, path: &Path, err: &io::Error) -> Error {
    Error::Source {
        path: display_rel(root, path),
        reason: err.kind().to_string(),
    }
}

fn source_error(root: &Path, path: &Path, reason: impl Into<String>) -> Error {
    Error::Source {
        path: display_rel(root, path),
        reason: reason.into(),
    }
}

fn display_rel(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

/// Joins `unsafe_path` onto `root` so that the result stays inside `root`: `..` stops at the
/// root and symbolic links are resolved as if `root` were `/` (filepath-securejoin).
pub fn secure_join(root: &Path, unsafe_path: &Path) -> io::Result<PathBuf> {
    let mut pending: Vec<OsString> = components(unsafe_path);
    pending.reverse();
    let mut current = PathBuf::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            current.pop();
            continue;
        }
        let candidate = current.join(&part);
        match fs::symlink_metadata(root.join(&candidate)) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(io::Error::other("too many symbolic links"));
                }
                let target = fs::read_link(root.join(&candidate))?;
                if target.is_absolute() {
                    current = PathBuf::new();
                }
                let mut parts = components(&target);
                parts.reverse();
                pending.extend(parts);
            }
            _ => current = candidate,
        }
    }
    Ok(root.join(current))
}

/// The normal components of a path; `.` and roots are dropped, `..` kept.
fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

struct Walker<'a> {
    root: PathBuf,
    keys: &'a Keyring,
    opts: SourceOptions,
    visited_dirs: HashSet<PathBuf>,
    decrypted: Vec<PathBuf>,
    seen_files: HashSet<PathBuf>,
}

/// Decrypts, in place, every sops-encrypted generator or patch source reachable from the
/// kustomization in `path` (relative to `root`). Returns the files it decrypted, relative to
/// `root`. Files without sops markers are left alone; resources themselves are not decrypted
/// here (they are decrypted after the build).
pub fn decrypt_kustomization_sources(
    root: &Path,
    path: &Path,
    keys: &Keyring,
    opts: SourceOptions,
) -> Result<Vec<PathBuf>, Error> {
    let root = root.canonicalize().map_err(|e| io_error(root, root, &e))?;
    let mut walker = Walker {
        root,
        keys,
        opts,
        visited_dirs: HashSet::new(),
        decrypted: Vec::new(),
        seen_files: HashSet::new(),
    };
    let start = walker.root.join(components_path(path));
    walker.visit_dir(&start, true)?;
    Ok(walker.decrypted)
}

fn components_path(path: &Path) -> PathBuf {
    components(path).into_iter().collect()
}

impl Walker<'_> {
    /// Loads the kustomization in `dir` and decrypts its sources, then recurses. Missing
    /// directories and non-directories are dead ends (remote URLs, plain resource files),
    /// except for the starting directory.
    fn visit_dir(&mut self, dir: &Path, top: bool) -> Result<(), Error> {
        let rel = dir.strip_prefix(&self.root).unwrap_or(dir).to_path_buf();
        let abs = secure_join(&self.root, &rel).map_err(|e| io_error(&self.root, dir, &e))?;
        if !self.visited_dirs.insert(abs.clone()) {
            return Ok(());
        }
        match fs::symlink_metadata(&abs) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) if !top => return Ok(()),
            Err(e) if !top && e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Ok(_) => return Err(source_error(&self.root, &abs, "not a directory")),
            Err(e) => return Err(io_error(&self.root, &abs, &e)),
        }
        let kus = self.load_kustomization(&abs)?;
        for generator in &kus.secret_generator {
            for src in &generator.files {
                // `key=path` or just `path`; the key names the format.
                let (key, file) = src.split_once('=').unwrap_or((src.as_str(), src.as_str()));
                self.decrypt_file(&abs, file, Format::for_kustomize_key(key))?;
            }
            for env in &generator.envs {
                let format = match Format::for_kustomize_key(env) {
                    Format::Binary => Format::Dotenv,
                    f => f,
                };
                self.decrypt_file(&abs, env, format)?;
            }
        }
        for patch in &kus.patches {
            if !patch.path.is_empty() {
                self.decrypt_file(&abs, &patch.path, Format::from_path(Path::new(&patch.path)))?;
            }
        }
        for res in kus.resources.iter().chain(&kus.components) {
            let next = self.resolve(&abs, res);
            self.visit_dir(&next, false)?;
        }
        Ok(())
    }

    /// A reference relative to the kustomization directory, or absolute from the root.
    fn resolve(&self, dir: &Path, reference: &str) -> PathBuf {
        let reference = Path::new(reference);
        if reference.is_absolute() {
            let stripped = reference.strip_prefix(&self.root).unwrap_or(reference);
            self.root.join(components_path(stripped))
        } else {
            dir.join(reference)
        }
    }

    fn load_kustomization(&self, dir: &Path) -> Result<Kustomization, Error> {
        let mut found = None;
        for name in KUSTOMIZATION_FILES {
            let candidate = dir.join(name);
            match fs::symlink_metadata(&candidate) {
                Ok(meta) if meta.is_file() => {
                    if found.is_some() {
                        return Err(source_error(
                            &self.root,
                            dir,
                            "found multiple kustomization files",
                        ));
                    }
                    found = Some(candidate);
                }
                Ok(_) => {
                    return Err(source_error(
                        &self.root,
                        &candidate,
                        "expected a regular file",
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&self.root, &candidate, &e)),
            }
        }
        let file =
            found.ok_or_else(|| source_error(&self.root, dir, "no kustomization file found"))?;
        let bytes = fs::read(&file).map_err(|e| io_error(&self.root, &file, &e))?;
        serde_yaml::from_slice(&bytes)
            .map_err(|e| source_error(&self.root, &file, format!("invalid kustomization: {e}")))
    }

    fn decrypt_file(&mut self, dir: &Path, reference: &str, format: Format) -> Result<(), Error> {
        let joined = self.resolve(dir, reference);
        let rel = joined
            .strip_prefix(&self.root)
            .unwrap_or(&joined)
            .to_path_buf();
        let abs = secure_join(&self.root, &rel).map_err(|e| io_error(&self.root, &joined, &e))?;
        if self.seen_files.contains(&abs) {
            return Ok(());
        }
        let meta = fs::symlink_metadata(&abs).map_err(|e| io_error(&self.root, &abs, &e))?;
        if !meta.is_file() {
            return Err(source_error(
                &self.root,
                &abs,
                "cannot decrypt irregular file as it has file mode type bits set",
            ));
        }
        if meta.len() > self.opts.max_file_size {
            return Err(source_error(
                &self.root,
                &abs,
                format!(
                    "cannot decrypt file with size ({} bytes) exceeding limit ({})",
                    meta.len(),
                    self.opts.max_file_size
                ),
            ));
        }
        let data = fs::read(&abs).map_err(|e| io_error(&self.root, &abs, &e))?;
        if !is_encrypted(&data, format) {
            return Ok(());
        }
        let opts = DecryptOptions {
            input: format,
            output: format,
            verify_mac: self.opts.verify_mac,
        };
        let plain = decrypt_with(&data, &opts, self.keys).map_err(|e| Error::SourceDecryption {
            path: display_rel(&self.root, &abs),
            source: Box::new(e),
        })?;
        write_private(&abs, &plain).map_err(|e| io_error(&self.root, &abs, &e))?;
        self.seen_files.insert(abs.clone());
        self.decrypted
            .push(abs.strip_prefix(&self.root).unwrap_or(&abs).to_path_buf());
        Ok(())
    }
}

/// Writes the plaintext readable by the owner only (0600), as kustomize-controller does.
fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    fs::write(path, data)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
