//! Safe unpacking of an artifact into a directory.
//!
//! Every entry must stay below the destination: absolute paths, `..` components and links are
//! refused before anything is written for them, and the unpacked size and entry count are
//! bounded so a small hostile archive cannot fill the disk.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;

use crate::Error;

/// Flux's default limit for an unpacked artifact (100 MiB).
pub const DEFAULT_MAX_UNPACK_SIZE: u64 = 100 << 20;

#[derive(Debug, Clone, Copy)]
pub struct UnpackLimits {
    pub max_size: u64,
    pub max_entries: usize,
}

impl Default for UnpackLimits {
    fn default() -> Self {
        UnpackLimits {
            max_size: DEFAULT_MAX_UNPACK_SIZE,
            max_entries: 100_000,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UnpackStats {
    pub files: usize,
    pub bytes: u64,
}

/// Unpacks the tar.gz `archive` into `dest` (created if missing).
pub fn unpack(archive: &[u8], dest: &Path, limits: UnpackLimits) -> Result<UnpackStats, Error> {
    std::fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    let mut tar = tar::Archive::new(GzDecoder::new(archive));
    let mut stats = UnpackStats::default();
    let mut count = 0usize;
    let corrupt = |e: std::io::Error| Error::Corrupt(e.to_string());
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        count += 1;
        if count > limits.max_entries {
            return Err(Error::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = safe_relative(&name)?;
        let kind = entry.header().entry_type();
        let target = dest.join(&rel);
        match kind {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = entry.header().size().map_err(corrupt)?;
                if stats.bytes.saturating_add(size) > limits.max_size {
                    return Err(Error::UnpackTooLarge {
                        limit: limits.max_size,
                    });
                }
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                }
                let mut body = Vec::with_capacity(size.min(1 << 20) as usize);
                // Read one byte past the declared size: a header that lies is corrupt.
                (&mut entry)
                    .take(size + 1)
                    .read_to_end(&mut body)
                    .map_err(corrupt)?;
                if body.len() as u64 != size {
                    return Err(Error::Corrupt(format!("entry {name:?} has a wrong size")));
                }
                std::fs::write(&target, &body).map_err(|e| Error::io(&target, e))?;
                set_mode(&target, entry.header().mode().unwrap_or(0o644))?;
                stats.bytes += size;
                stats.files += 1;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                return Err(Error::UnsupportedEntry {
                    entry: name,
                    kind: "link",
                });
            }
            // PAX and GNU metadata entries are consumed by the tar reader itself; anything
            // else (devices, fifos) has no place in an artifact.
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            _ => {
                return Err(Error::UnsupportedEntry {
                    entry: name,
                    kind: "special file",
                });
            }
        }
    }
    Ok(stats)
}

/// The entry's path as a relative path with only normal components.
fn safe_relative(name: &str) -> Result<PathBuf, Error> {
    let mut out = PathBuf::new();
    for component in Path::new(name).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(Error::PathTraversal {
                    entry: name.to_string(),
                });
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(Error::PathTraversal {
            entry: name.to_string(),
        });
    }
    Ok(out)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    // Only the permission bits, and never setuid/setgid/sticky from an archive.
    let perm = std::fs::Permissions::from_mode((mode & 0o777) | 0o600);
    std::fs::set_permissions(path, perm).map_err(|e| Error::io(path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), Error> {
    Ok(())
}
