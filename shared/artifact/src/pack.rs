//! Deterministic tar.gz of a source tree.
//!
//! Entries are regular files only, in byte order of their paths, with zeroed times and owners
//! and modes normalised to 0644/0755, inside a gzip stream with no name and no time. The same
//! tree therefore always gives the same bytes and the same digest. Symlinks, devices and sockets
//! are left out, so nothing in an artifact can point outside it.

use std::io::Write;
use std::path::Path;

use flate2::{Compression, GzBuilder};

use crate::ignore_rules::relative;
use crate::{Error, IgnoreRules};

/// What went into an archive.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PackStats {
    pub files: usize,
    /// Symlinks and special files that were left out.
    pub skipped: Vec<String>,
}

/// Packs the files below `root` that `rules` keep into a tar.gz written to `out`.
pub fn pack_dir<W: Write>(root: &Path, rules: &IgnoreRules, out: W) -> Result<PackStats, Error> {
    let mut files = Vec::new();
    let mut stats = PackStats::default();
    collect(root, root, rules, &mut files, &mut stats)?;
    files.sort();

    let gz = GzBuilder::new().mtime(0).write(out, Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for rel in &files {
        let path = root.join(rel);
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(meta.len());
        header.set_mode(if is_executable(&meta) { 0o755 } else { 0o644 });
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        tar.append_data(&mut header, rel, file)
            .map_err(|e| Error::io(&path, e))?;
    }
    stats.files = files.len();
    let gz = tar.into_inner().map_err(|e| Error::io(root, e))?;
    gz.finish().map_err(|e| Error::io(root, e))?;
    Ok(stats)
}

fn collect(
    root: &Path,
    dir: &Path,
    rules: &IgnoreRules,
    files: &mut Vec<String>,
    stats: &mut PackStats,
) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let rel = relative(root, &path);
        // symlink_metadata: a link is judged as a link, never followed.
        let file_type = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if file_type.is_dir() {
            if !rules.is_ignored(&rel, true) {
                collect(root, &path, rules, files, stats)?;
            }
        } else if file_type.is_file() {
            if !rules.is_ignored(&rel, false) {
                files.push(rel);
            }
        } else if !rules.is_ignored(&rel, false) {
            stats.skipped.push(rel);
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}
