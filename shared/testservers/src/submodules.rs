//! Repositories with submodules: bare repositories next to `fleet.git` and gitlink entries
//! recorded with a `.gitmodules` entry, written with the git CLI only (no clone of the
//! submodule is needed to record it).

use std::path::Path;

use crate::{SourceRepo, git};

/// Creates the bare repository `root/<name>` whose `main` holds `files` and the `submodules`
/// (`path`, `url`, `commit`); returns the commit. Its work tree stays at `root/<name>.work`.
pub fn bare_repo(
    root: &Path,
    name: &str,
    files: &[(&str, &str)],
    submodules: &[(&str, &str, &str)],
) -> String {
    let work = root.join(format!("{name}.work"));
    std::fs::create_dir_all(&work).expect("mkdir");
    git(&work, &["init", "-q", "-b", "main"]);
    for (rel, body) in files {
        let path = work.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, body).expect("write");
    }
    // Staged after the files: `add -A` would drop gitlinks that have no directory.
    git(&work, &["add", "-A"]);
    record_submodules(&work, submodules);
    git(&work, &["add", ".gitmodules"]);
    git(&work, &["commit", "-q", "-m", &format!("{name} initial")]);
    git(
        root,
        &["clone", "-q", "--bare", &work.display().to_string(), name],
    );
    git(&work, &["rev-parse", "HEAD"])
}

/// Adds `.gitmodules` entries and gitlinks to the index of the work tree `work`.
fn record_submodules(work: &Path, submodules: &[(&str, &str, &str)]) {
    let mut modules = std::fs::read_to_string(work.join(".gitmodules")).unwrap_or_default();
    for (path, url, commit) in submodules {
        modules.push_str(&format!(
            "[submodule \"{path}\"]\n\tpath = {path}\n\turl = {url}\n"
        ));
        git(
            work,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{commit},{path}"),
            ],
        );
    }
    std::fs::write(work.join(".gitmodules"), modules).expect("write .gitmodules");
}

impl SourceRepo {
    /// Commits submodule entries (`path`, `url`, `commit`) on `main` and pushes to `fleet.git`.
    pub fn commit_submodules(&self, submodules: &[(&str, &str, &str)]) {
        let work = self.root().join("work");
        record_submodules(&work, submodules);
        git(&work, &["add", ".gitmodules"]);
        git(&work, &["commit", "-q", "-m", "add submodules"]);
        git(&work, &["push", "-q", "../fleet.git", "main"]);
    }
}
