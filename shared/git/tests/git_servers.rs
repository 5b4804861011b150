//! Checkouts against real git servers on loopback: `git daemon` (git://) and `git http-backend`
//! behind an HTTP server with basic and bearer authentication.

use flux_git::{Auth, CheckoutOptions, Error, GitRef, checkout, list_remote_refs};
use flux_testservers::{GitDaemon, HttpAuth, HttpGitServer, SourceRepo, SshServer};

fn opts(url: &str, reference: GitRef) -> CheckoutOptions {
    CheckoutOptions {
        url: url.to_string(),
        reference,
        auth: Auth::default(),
        max_size: 10 << 20,
        ..Default::default()
    }
}

fn branch(name: &str) -> GitRef {
    GitRef {
        branch: Some(name.into()),
        ..Default::default()
    }
}

#[test]
fn git_daemon_branch_checkout_writes_the_tree_and_flux_revision() {
    let repo = SourceRepo::new();
    let daemon = GitDaemon::start(repo.root());
    let url = daemon.url("fleet.git");
    let work = tempfile::tempdir().expect("tempdir");
    let dest = work.path().join("out");
    let out = checkout(
        &work.path().join("cache"),
        &dest,
        &opts(&url, branch("main")),
    )
    .expect("checkout");
    assert_eq!(out.revision, format!("main@sha1:{}", repo.rev("main")));
    assert_eq!(
        std::fs::read_to_string(dest.join("apps/app.yaml")).expect("file"),
        "kind: ConfigMap\n"
    );
    assert_eq!(out.skipped, vec!["link".to_string()]);
    assert!(!dest.join("link").exists());
}

#[test]
fn a_new_commit_gives_a_new_revision_through_the_same_cache() {
    let repo = SourceRepo::new();
    let daemon = GitDaemon::start(repo.root());
    let url = daemon.url("fleet.git");
    let work = tempfile::tempdir().expect("tempdir");
    let cache = work.path().join("cache");
    let first =
        checkout(&cache, &work.path().join("a"), &opts(&url, branch("main"))).expect("first");
    repo.commit_file("apps/new.yaml", "kind: Secret\n", "add secret");
    let second =
        checkout(&cache, &work.path().join("b"), &opts(&url, branch("main"))).expect("second");
    assert_ne!(first.revision, second.revision);
    assert_eq!(second.revision, format!("main@sha1:{}", repo.rev("main")));
    assert!(work.path().join("b/apps/new.yaml").exists());
    assert!(!work.path().join("a/apps/new.yaml").exists());
    assert_eq!(second.message, "add secret");
}

#[test]
fn tags_semver_and_pinned_commits_resolve_like_flux() {
    let repo = SourceRepo::new();
    let daemon = GitDaemon::start(repo.root());
    let url = daemon.url("fleet.git");
    let work = tempfile::tempdir().expect("tempdir");
    let cache = work.path().join("cache");

    let semver = GitRef {
        semver: Some(">=1.0.0 <2.0.0".into()),
        ..Default::default()
    };
    let out = checkout(&cache, &work.path().join("s"), &opts(&url, semver)).expect("semver");
    assert_eq!(
        out.revision,
        format!("v1.2.0@sha1:{}", repo.rev("v1.2.0^{commit}"))
    );

    let tag = GitRef {
        tag: Some("v1.0.0".into()),
        ..Default::default()
    };
    let out = checkout(&cache, &work.path().join("t"), &opts(&url, tag)).expect("tag");
    assert_eq!(
        out.revision,
        format!("v1.0.0@sha1:{}", repo.rev("v1.0.0^{commit}"))
    );
    assert!(!work.path().join("t/apps/later.yaml").exists());

    let first = repo.rev("v1.0.0^{commit}");
    let pinned = GitRef {
        branch: Some("main".into()),
        commit: Some(first.clone()),
        ..Default::default()
    };
    let out = checkout(&cache, &work.path().join("c"), &opts(&url, pinned)).expect("commit");
    assert_eq!(out.revision, format!("main@sha1:{first}"));
}

#[test]
fn unknown_branch_missing_commit_and_unmatched_semver_are_clear_errors() {
    let repo = SourceRepo::new();
    let daemon = GitDaemon::start(repo.root());
    let url = daemon.url("fleet.git");
    let work = tempfile::tempdir().expect("tempdir");
    let cache = work.path().join("cache");

    let err = checkout(&cache, &work.path().join("x"), &opts(&url, branch("nope")))
        .expect_err("unknown branch");
    assert_eq!(err.to_string(), format!("branch 'nope' not found in {url}"));

    let ghost = GitRef {
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        ..Default::default()
    };
    let err = checkout(&cache, &work.path().join("y"), &opts(&url, ghost)).expect_err("ghost");
    assert!(matches!(err, Error::CommitNotFound { .. }), "{err}");

    let semver = GitRef {
        semver: Some(">=9.0.0".into()),
        ..Default::default()
    };
    let err = checkout(&cache, &work.path().join("z"), &opts(&url, semver)).expect_err("semver");
    assert!(matches!(err, Error::NoSemverMatch { .. }), "{err}");
}

#[test]
fn unreachable_server_malformed_url_and_size_limit_fail_cleanly() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = work.path().join("cache");
    let err = checkout(
        &cache,
        &work.path().join("x"),
        &opts("git://127.0.0.1:1/none.git", branch("main")),
    )
    .expect_err("unreachable");
    assert!(matches!(err, Error::Fetch { .. }), "{err}");

    let err = checkout(
        &work.path().join("c2"),
        &work.path().join("y"),
        &opts("ftp://example.com/repo", branch("main")),
    )
    .expect_err("scheme");
    assert!(matches!(err, Error::UnsupportedScheme(_)), "{err}");

    let repo = SourceRepo::new();
    let daemon = GitDaemon::start(repo.root());
    let mut small = opts(&daemon.url("fleet.git"), branch("main"));
    small.max_size = 4;
    let err = checkout(&work.path().join("c3"), &work.path().join("z"), &small).expect_err("size");
    assert!(matches!(err, Error::TooLarge { limit: 4 }), "{err}");
}

#[test]
fn list_remote_refs_sees_branches_and_tags() {
    let repo = SourceRepo::new();
    let daemon = GitDaemon::start(repo.root());
    let work = tempfile::tempdir().expect("tempdir");
    let refs = list_remote_refs(
        &work.path().join("cache"),
        &daemon.url("fleet.git"),
        &Auth::default(),
        &branch("main"),
    )
    .expect("ls-remote");
    let main = refs
        .iter()
        .find(|r| r.name == "refs/heads/main")
        .expect("main advertised");
    assert_eq!(main.commit, repo.rev("main"));
}

#[test]
fn credentials_are_never_sent_over_plain_http() {
    let repo = SourceRepo::new();
    let server = HttpGitServer::start(repo.root(), HttpAuth::Basic("flux", "s3cret"));
    let url = server.url("fleet.git");
    let work = tempfile::tempdir().expect("tempdir");

    let mut basic = opts(&url, branch("main"));
    basic.auth.username = Some("flux".into());
    basic.auth.password = Some("s3cret".into());
    let err =
        checkout(&work.path().join("c1"), &work.path().join("a"), &basic).expect_err("refused");
    assert!(matches!(err, Error::InsecureCredentials { .. }), "{err}");
    assert!(!err.to_string().contains("s3cret"), "{err}");

    let mut bearer = opts(&url, branch("main"));
    bearer.auth.bearer_token = Some("tok-42".into());
    let err =
        checkout(&work.path().join("c2"), &work.path().join("b"), &bearer).expect_err("refused");
    assert!(matches!(err, Error::InsecureCredentials { .. }), "{err}");
}

#[test]
fn a_server_that_demands_credentials_fails_as_authentication() {
    let repo = SourceRepo::new();
    let server = HttpGitServer::start(repo.root(), HttpAuth::Bearer("tok-42"));
    let work = tempfile::tempdir().expect("tempdir");
    let anonymous = opts(&server.url("fleet.git"), branch("main"));
    let err =
        checkout(&work.path().join("c"), &work.path().join("a"), &anonymous).expect_err("401");
    assert!(matches!(err, Error::Authentication { .. }), "{err}");
}

#[test]
fn smart_http_without_credentials_checks_out() {
    let repo = SourceRepo::new();
    let server = HttpGitServer::start(repo.root(), HttpAuth::None);
    let work = tempfile::tempdir().expect("tempdir");
    let out = checkout(
        &work.path().join("c"),
        &work.path().join("a"),
        &opts(&server.url("fleet.git"), branch("dev")),
    )
    .expect("http checkout");
    assert_eq!(out.revision, format!("dev@sha1:{}", repo.rev("dev")));
}

#[test]
fn ssh_checkout_uses_the_secret_identity_and_checks_the_host_key() {
    let repo = SourceRepo::new();
    let server = SshServer::start();
    let url = server.url(&repo.root().join("fleet.git"));
    let work = tempfile::tempdir().expect("tempdir");

    let mut good = opts(&url, branch("main"));
    good.auth.identity = Some(server.client_identity());
    good.auth.known_hosts = Some(server.known_hosts());
    let out = checkout(&work.path().join("c1"), &work.path().join("a"), &good).expect("ssh ok");
    assert_eq!(out.revision, format!("main@sha1:{}", repo.rev("main")));

    let mut unknown_host = good.clone();
    unknown_host.auth.known_hosts = Some(server.wrong_known_hosts());
    let err = checkout(
        &work.path().join("c2"),
        &work.path().join("b"),
        &unknown_host,
    )
    .expect_err("host key mismatch");
    assert!(matches!(err, Error::Authentication { .. }), "{err}");

    let mut wrong_key = good.clone();
    wrong_key.auth.identity = Some(server.other_identity());
    let err = checkout(&work.path().join("c3"), &work.path().join("c"), &wrong_key)
        .expect_err("key refused");
    assert!(matches!(err, Error::Authentication { .. }), "{err}");
}

#[test]
fn https_trusts_the_secret_ca_and_fails_on_the_certificate_without_it() {
    let repo = SourceRepo::new();
    let server =
        flux_testservers::HttpsGitServer::start(repo.root(), HttpAuth::Basic("git", "s3cret"));
    let url = server.url("fleet.git");
    let work = tempfile::tempdir().expect("tempdir");
    let with_ca = CheckoutOptions {
        auth: Auth {
            username: Some("git".into()),
            password: Some("s3cret".into()),
            ca_cert: Some(server.ca_pem()),
            ..Default::default()
        },
        ..opts(&url, branch("main"))
    };
    let dest = work.path().join("out");
    let out = checkout(&work.path().join("cache"), &dest, &with_ca).expect("checkout over https");
    assert_eq!(out.revision, format!("main@sha1:{}", repo.rev("main")));
    assert!(dest.join("apps/app.yaml").exists());

    let without_ca = CheckoutOptions {
        auth: Auth {
            ca_cert: None,
            ..with_ca.auth.clone()
        },
        ..with_ca
    };
    let err = checkout(
        &work.path().join("cache2"),
        &work.path().join("out2"),
        &without_ca,
    )
    .expect_err("unknown CA");
    let text = err.to_string();
    assert!(text.to_lowercase().contains("certificate"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}
