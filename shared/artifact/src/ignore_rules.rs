//! Which paths of a source tree stay out of its artifact: Flux's `.sourceignore` rules.
//!
//! Precedence follows Flux: the default exclusions first, then `.sourceignore` files from the
//! root down, then `spec.ignore`; as in `.gitignore`, the last matching pattern wins, so a
//! later `!pattern` brings a path back.

use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::Error;

/// Name of the per-directory ignore file Flux reads.
pub const SOURCEIGNORE_FILE: &str = ".sourceignore";

/// Version-control files, always excluded.
pub const VCS_EXCLUDES: &[&str] = &[".git/", ".gitignore", ".gitmodules", ".gitattributes"];

/// Flux's default exclusions besides VCS files: media, archives, CI configuration and tool files.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
];

/// A compiled set of ignore rules for one source tree.
pub struct IgnoreRules {
    matcher: Gitignore,
}

impl IgnoreRules {
    /// Rules for the tree at `root`: defaults, every `.sourceignore` below `root`, then `spec_ignore`.
    pub fn load(root: &Path, spec_ignore: Option<&str>) -> Result<Self, Error> {
        let mut builder = GitignoreBuilder::new(root);
        for pattern in VCS_EXCLUDES.iter().chain(DEFAULT_EXCLUDES) {
            add(&mut builder, "the default exclusions", "", pattern)?;
        }
        let mut files = Vec::new();
        find_sourceignore_files(root, root, &mut files)?;
        for rel_dir in files {
            let path = root.join(&rel_dir).join(SOURCEIGNORE_FILE);
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let origin = path.display().to_string();
            for line in text.lines() {
                add(&mut builder, &origin, &rel_dir, line)?;
            }
        }
        if let Some(spec) = spec_ignore {
            for line in spec.lines() {
                add(&mut builder, "spec.ignore", "", line)?;
            }
        }
        let matcher = builder.build().map_err(|e| Error::IgnorePattern {
            origin: "ignore rules".into(),
            message: e.to_string(),
        })?;
        Ok(IgnoreRules { matcher })
    }

    /// Whether `rel` (relative to the root, `/`-separated) is excluded.
    pub fn is_ignored(&self, rel: &str, is_dir: bool) -> bool {
        self.matcher.matched(rel, is_dir).is_ignore()
    }
}

/// Adds one line of an ignore file that lives in `rel_dir` (relative to the root, "" for the
/// root), rewriting its pattern so that it only applies below that directory.
fn add(
    builder: &mut GitignoreBuilder,
    origin: &str,
    rel_dir: &str,
    line: &str,
) -> Result<(), Error> {
    let trimmed = line.trim_end();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(());
    }
    let (negate, pattern) = match trimmed.strip_prefix('!') {
        Some(rest) => ("!", rest),
        None => ("", trimmed),
    };
    let scoped = if rel_dir.is_empty() {
        pattern.to_string()
    } else {
        // A pattern with a slash before its end is anchored to its file's directory; one
        // without matches at any depth below it (gitignore rules).
        let anchored = pattern.trim_end_matches('/').contains('/');
        let body = pattern.trim_start_matches('/');
        if anchored {
            format!("/{rel_dir}/{body}")
        } else {
            format!("/{rel_dir}/**/{body}")
        }
    };
    builder
        .add_line(None, &format!("{negate}{scoped}"))
        .map(|_| ())
        .map_err(|e| Error::IgnorePattern {
            origin: origin.to_string(),
            message: e.to_string(),
        })
}

fn find_sourceignore_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), Error> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    if entries.iter().any(|e| e.file_name() == SOURCEIGNORE_FILE) {
        out.push(relative(root, dir));
    }
    for entry in entries {
        let file_type = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        if file_type.is_dir() && entry.file_name() != ".git" {
            find_sourceignore_files(root, &entry.path(), out)?;
        }
    }
    Ok(())
}

/// `/`-separated path of `path` below `root` ("" for the root itself).
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, body) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, body).expect("write");
        }
        dir
    }

    #[test]
    fn default_exclusions_drop_vcs_ci_and_media_files() {
        let dir = tree(&[("a.yaml", "")]);
        let rules = IgnoreRules::load(dir.path(), None).expect("rules");
        assert!(rules.is_ignored(".git", true));
        assert!(rules.is_ignored(".github", true));
        assert!(rules.is_ignored("deploy/.sops.yaml", false));
        assert!(rules.is_ignored("docs/logo.png", false));
        assert!(rules.is_ignored(".gitlab-ci.yml", false));
        assert!(!rules.is_ignored("a.yaml", false));
        assert!(!rules.is_ignored("apps/deploy.yaml", false));
    }

    #[test]
    fn nested_sourceignore_applies_only_below_its_directory() {
        let dir = tree(&[
            ("apps/.sourceignore", "*.md\n/local/\n"),
            ("apps/README.md", ""),
            ("README.md", ""),
        ]);
        let rules = IgnoreRules::load(dir.path(), None).expect("rules");
        assert!(rules.is_ignored("apps/README.md", false));
        assert!(rules.is_ignored("apps/x/y/notes.md", false));
        assert!(rules.is_ignored("apps/local", true));
        assert!(!rules.is_ignored("README.md", false));
        assert!(!rules.is_ignored("local", true));
    }

    #[test]
    fn spec_ignore_comes_last_and_can_bring_a_default_back() {
        let dir = tree(&[(".sourceignore", "*.txt\n")]);
        let rules = IgnoreRules::load(dir.path(), Some("# CI\n/.github/\n!logo.png\n!keep.txt\n"))
            .expect("rules");
        assert!(rules.is_ignored("notes.txt", false));
        assert!(!rules.is_ignored("keep.txt", false));
        assert!(!rules.is_ignored("logo.png", false));
        assert!(rules.is_ignored(".github", true));
    }
}
