//! Submodules and sparse checkouts against real servers: `git http-backend` behind the test
//! HTTP server, and `sshd` (where the parent's identity must also open the submodules).

use flux_git::{Auth, CheckoutOptions, Error, GitRef, checkout};
use flux_testservers::{HttpAuth, HttpGitServer, SourceRepo, SshServer, bare_repo, git};

fn main_branch() -> GitRef {
    GitRef {
        branch: Some("main".into()),
        ..Default::default()
    }
}

/// `fleet.git` records `vendor/lib` (relative URL `../lib.git`), and `lib.git` records
/// `deep` (`../deep.git`): two levels of relative submodules on one server.
fn repo_with_nested_submodules() -> (SourceRepo, String) {
    let repo = SourceRepo::new();
    let deep = bare_repo(
        repo.root(),
        "deep.git",
        &[("deep.yaml", "kind: Deep\n")],
        &[],
    );
    let lib = bare_repo(
        repo.root(),
        "lib.git",
        &[("lib.yaml", "kind: Lib\n")],
        &[("deep", "../deep.git", &deep)],
    );
    repo.commit_submodules(&[("vendor/lib", "../lib.git", &lib)]);
    (repo, lib)
}

#[test]
fn recurse_submodules_writes_nested_submodules_at_their_recorded_commits() {
    let (repo, _) = repo_with_nested_submodules();
    // A later commit in lib.git must not show: the parent's tree records the first one.
    let lib_work = repo.root().join("lib.git.work");
    std::fs::write(lib_work.join("lib.yaml"), "kind: Later\n").expect("write");
    git(&lib_work, &["commit", "-q", "-am", "later"]);
    git(&lib_work, &["push", "-q", "../lib.git", "main"]);

    let server = HttpGitServer::start(repo.root(), HttpAuth::None);
    let work = tempfile::tempdir().expect("tempdir");
    let opts = CheckoutOptions {
        url: server.url("fleet.git"),
        reference: main_branch(),
        max_size: 10 << 20,
        recurse_submodules: true,
        ..Default::default()
    };
    let dest = work.path().join("out");
    let out = checkout(&work.path().join("cache"), &dest, &opts).expect("checkout");
    assert_eq!(out.revision, format!("main@sha1:{}", repo.rev("main")));
    assert_eq!(
        std::fs::read_to_string(dest.join("vendor/lib/lib.yaml")).expect("lib file"),
        "kind: Lib\n"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("vendor/lib/deep/deep.yaml")).expect("deep file"),
        "kind: Deep\n"
    );
    assert_eq!(out.skipped, vec!["link".to_string()]);

    // Without the flag the gitlink is skipped, as before.
    let plain = CheckoutOptions {
        recurse_submodules: false,
        ..opts
    };
    let dest = work.path().join("plain");
    let out = checkout(&work.path().join("cache2"), &dest, &plain).expect("checkout");
    assert!(out.skipped.contains(&"vendor/lib".to_string()), "{out:?}");
    assert!(!dest.join("vendor/lib/lib.yaml").exists());
}

#[test]
fn a_submodule_that_cannot_be_fetched_is_named_in_the_error() {
    let repo = SourceRepo::new();
    let missing = repo.rev("main");
    repo.commit_submodules(&[("vendor/gone", "../gone.git", &missing)]);
    let server = HttpGitServer::start(repo.root(), HttpAuth::None);
    let work = tempfile::tempdir().expect("tempdir");
    let opts = CheckoutOptions {
        url: server.url("fleet.git"),
        reference: main_branch(),
        max_size: 10 << 20,
        recurse_submodules: true,
        ..Default::default()
    };
    let err = checkout(&work.path().join("cache"), &work.path().join("out"), &opts)
        .expect_err("missing submodule");
    assert!(matches!(err, Error::Submodule { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("submodule 'vendor/gone'"), "{text}");
    assert!(text.contains("gone.git"), "{text}");
}

#[test]
fn submodules_over_ssh_reuse_the_parent_identity() {
    let (repo, _) = repo_with_nested_submodules();
    let sshd = SshServer::start();
    let work = tempfile::tempdir().expect("tempdir");
    let opts = CheckoutOptions {
        url: sshd.url(&repo.root().join("fleet.git")),
        reference: main_branch(),
        auth: Auth {
            identity: Some(sshd.client_identity()),
            known_hosts: Some(sshd.known_hosts()),
            ..Default::default()
        },
        max_size: 10 << 20,
        recurse_submodules: true,
        ..Default::default()
    };
    let dest = work.path().join("out");
    checkout(&work.path().join("cache"), &dest, &opts).expect("checkout");
    assert!(dest.join("vendor/lib/deep/deep.yaml").exists());
}

#[test]
fn sparse_checkout_writes_only_the_named_directories() {
    let repo = SourceRepo::new();
    repo.commit_file("infra/base/ns.yaml", "kind: Namespace\n", "infra");
    repo.commit_file("infra/other/x.yaml", "kind: X\n", "other");
    let server = HttpGitServer::start(repo.root(), HttpAuth::None);
    let work = tempfile::tempdir().expect("tempdir");
    let opts = CheckoutOptions {
        url: server.url("fleet.git"),
        reference: main_branch(),
        max_size: 10 << 20,
        sparse_checkout: vec!["./apps/".into(), "infra/base".into()],
        ..Default::default()
    };
    let dest = work.path().join("out");
    let out = checkout(&work.path().join("cache"), &dest, &opts).expect("checkout");
    assert_eq!(out.revision, format!("main@sha1:{}", repo.rev("main")));
    assert!(dest.join("apps/app.yaml").exists());
    assert!(dest.join("apps/later.yaml").exists());
    assert!(dest.join("infra/base/ns.yaml").exists());
    assert!(!dest.join("infra/other").exists());
    assert!(out.skipped.is_empty(), "{out:?}");

    let missing = CheckoutOptions {
        sparse_checkout: vec!["apps".into(), "nope".into()],
        ..opts
    };
    let err = checkout(
        &work.path().join("cache"),
        &work.path().join("out2"),
        &missing,
    )
    .expect_err("missing dir");
    assert!(
        err.to_string()
            .contains("sparse checkout dir 'nope' does not exist in repository"),
        "{err}"
    );
}

#[test]
fn sparse_checkout_keeps_submodules_inside_the_named_directories_only() {
    let (repo, _) = repo_with_nested_submodules();
    let server = HttpGitServer::start(repo.root(), HttpAuth::None);
    let work = tempfile::tempdir().expect("tempdir");
    let opts = CheckoutOptions {
        url: server.url("fleet.git"),
        reference: main_branch(),
        max_size: 10 << 20,
        recurse_submodules: true,
        sparse_checkout: vec!["vendor".into()],
        ..Default::default()
    };
    let dest = work.path().join("out");
    checkout(&work.path().join("cache"), &dest, &opts).expect("checkout");
    assert!(dest.join("vendor/lib/deep/deep.yaml").is_file());
    assert!(!dest.join("apps").exists());
    assert!(!dest.join(".gitmodules").exists());
}
