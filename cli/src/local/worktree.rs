//! The repository `flux local` works on: the work tree as it is, or the files of one git ref
//! checked out into a temporary directory (`git archive`, so the work tree is not touched).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::build::FleetOptions;
use crate::commands::local::FleetArgs;

/// The files of the repository at the requested ref, kept while this value lives.
pub struct Tree {
    pub root: PathBuf,
    /// `main@sha1:<hex>` style revision when a git ref was checked out.
    pub revision: Option<String>,
    _checkout: Option<tempfile::TempDir>,
}

impl Tree {
    /// Options for building this tree with the command line's mappings and keys.
    pub fn options(&self, args: &FleetArgs) -> FleetOptions {
        let absolute = |p: &PathBuf| p.canonicalize().unwrap_or_else(|_| p.clone());
        FleetOptions {
            root: self.root.clone(),
            path: args.path.clone(),
            sources: args
                .sources
                .iter()
                .map(|(name, dir)| (name.clone(), absolute(dir)))
                .collect(),
            decryption_keys: args.decryption_keys.clone(),
            revision: self.revision.clone(),
        }
    }
}

fn git(repo: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| format!("running git: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Opens `repo`, checking out `git_ref` when given.
pub fn checkout(repo: &Path, git_ref: Option<&str>) -> Result<Tree, String> {
    let root = repo
        .canonicalize()
        .map_err(|e| format!("repository {}: {e}", repo.display()))?;
    if !root.is_dir() {
        return Err(format!("repository {} is not a directory", repo.display()));
    }
    let Some(git_ref) = git_ref else {
        return Ok(Tree {
            root,
            revision: None,
            _checkout: None,
        });
    };
    if git(&root, &["rev-parse", "--git-dir"]).is_err() {
        return Err(format!(
            "--ref {git_ref}: {} is not a git repository",
            repo.display()
        ));
    }
    let commit = git(
        &root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{git_ref}^{{commit}}"),
        ],
    )
    .map_err(|_| {
        format!(
            "--ref {git_ref}: no such branch, tag or commit in {}",
            repo.display()
        )
    })?;
    // Paths are relative to the repository's top level, wherever inside it `repo` points.
    let prefix = git(&root, &["rev-parse", "--show-prefix"])?;
    let dir = tempfile::tempdir().map_err(|e| format!("checkout dir: {e}"))?;
    let tar = dir.path().join("checkout.tar");
    git(
        &root,
        &[
            "archive",
            "--format=tar",
            "-o",
            &tar.to_string_lossy(),
            &commit,
        ],
    )?;
    let files = dir.path().join("tree");
    std::fs::create_dir_all(&files).map_err(|e| format!("checkout dir: {e}"))?;
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&files)
        .status()
        .map_err(|e| format!("running tar: {e}"))?;
    if !status.success() {
        return Err(format!("unpacking {git_ref} failed"));
    }
    let _ = std::fs::remove_file(&tar);
    let kind = if git(
        &root,
        &[
            "show-ref",
            "--verify",
            "--quiet",
            &format!("refs/heads/{git_ref}"),
        ],
    )
    .is_ok()
        || git(
            &root,
            &[
                "show-ref",
                "--verify",
                "--quiet",
                &format!("refs/tags/{git_ref}"),
            ],
        )
        .is_ok()
    {
        format!("{git_ref}@")
    } else {
        String::new()
    };
    Ok(Tree {
        root: files.join(prefix),
        revision: Some(format!("{kind}sha1:{commit}")),
        _checkout: Some(dir),
    })
}
