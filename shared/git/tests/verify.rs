//! OpenPGP verification of commits and annotated tags signed by the real `gpg` through git,
//! fetched from `git http-backend`.

use flux_git::{
    CheckoutOptions, GitRef, VerifyError, VerifyMode, checkout, parse_keyrings, verify,
};
use flux_testservers::{Gpg, HttpAuth, HttpGitServer, SourceRepo};

fn fetch(url: &str, reference: GitRef, cache: &std::path::Path, out: &str) -> flux_git::Checkout {
    let opts = CheckoutOptions {
        url: url.to_string(),
        reference,
        max_size: 10 << 20,
        ..Default::default()
    };
    checkout(cache, &cache.with_file_name(out), &opts).expect("checkout")
}

#[test]
fn signed_commits_and_tags_verify_against_the_trusted_keys_only() {
    let trusted = Gpg::new("trusted");
    let stranger = Gpg::new("stranger");
    let repo = SourceRepo::new();
    repo.commit_file_signed(&trusted, "apps/signed.yaml", "kind: Signed\n", "signed");
    repo.tag_signed(&trusted, "v3.0.0");
    let server = HttpGitServer::start(repo.root(), HttpAuth::None);
    let url = server.url("fleet.git");
    let work = tempfile::tempdir().expect("tempdir");
    let cache = work.path().join("cache");
    let keys = parse_keyrings(&[trusted.armored_public_key().into_bytes()]).expect("keys");
    let wrong = parse_keyrings(&[stranger.armored_public_key().into_bytes()]).expect("keys");

    let head = fetch(
        &url,
        GitRef {
            branch: Some("main".into()),
            ..Default::default()
        },
        &cache,
        "a",
    );
    let message = verify(&cache, &head.commit, None, VerifyMode::Head, &keys).expect("verified");
    assert_eq!(
        message,
        format!(
            "verified signature of\n\t- commit '{}' with key '{}'",
            head.commit,
            trusted.key_id()
        )
    );
    let err = verify(&cache, &head.commit, None, VerifyMode::Head, &wrong).expect_err("stranger");
    assert_eq!(err.reason(), "InvalidCommitSignature");
    assert!(err.to_string().contains(&trusted.key_id()), "{err}");
    // Tag mode needs a tag reference.
    let err = verify(&cache, &head.commit, None, VerifyMode::Tag, &keys).expect_err("no tag");
    assert!(matches!(err, VerifyError::InvalidMode), "{err}");

    let tagged = fetch(
        &url,
        GitRef {
            tag: Some("v3.0.0".into()),
            ..Default::default()
        },
        &cache,
        "b",
    );
    assert_eq!(tagged.tag.as_deref(), Some("v3.0.0"));
    let message = verify(
        &cache,
        &tagged.commit,
        Some("v3.0.0"),
        VerifyMode::TagAndHead,
        &keys,
    )
    .expect("verified");
    let tag_object =
        flux_testservers::git(&repo.root().join("fleet.git"), &["rev-parse", "v3.0.0"]);
    assert!(
        message.contains(&format!(
            "- tag 'v3.0.0@{tag_object}' with key '{}'",
            trusted.key_id()
        )) && message.contains(&format!("- commit '{}'", tagged.commit)),
        "{message}"
    );

    // An unsigned commit, and an annotated but unsigned tag, fail.
    let unsigned_tag = fetch(
        &url,
        GitRef {
            tag: Some("v1.2.0".into()),
            ..Default::default()
        },
        &cache,
        "c",
    );
    let err = verify(
        &cache,
        &unsigned_tag.commit,
        Some("v1.2.0"),
        VerifyMode::Tag,
        &keys,
    )
    .expect_err("unsigned tag");
    assert_eq!(err.reason(), "InvalidGitObject");
    let err = verify(&cache, &unsigned_tag.commit, None, VerifyMode::Head, &keys)
        .expect_err("unsigned commit");
    assert!(err.to_string().contains("not signed"), "{err}");
}

#[test]
fn a_secret_without_public_keys_is_a_verification_error() {
    let err = parse_keyrings(&[b"not a key".to_vec()]).expect_err("no keys");
    assert_eq!(err.reason(), "VerificationError");
}

#[test]
fn ssh_signed_commits_are_reported_as_not_verifiable_yet() {
    let trusted = Gpg::new("trusted");
    let repo = SourceRepo::new();
    let keys = tempfile::tempdir().expect("tempdir");
    let key = keys.path().join("id");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen");
    assert!(out.status.success());
    let work = repo.root().join("work");
    flux_testservers::git(
        &work,
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("user.signingkey={}", key.display()),
            "commit",
            "-q",
            "--allow-empty",
            "-S",
            "-m",
            "ssh signed",
        ],
    );
    flux_testservers::git(&work, &["push", "-q", "../fleet.git", "main"]);
    let server = HttpGitServer::start(repo.root(), HttpAuth::None);
    let work = tempfile::tempdir().expect("tempdir");
    let cache = work.path().join("cache");
    let head = fetch(
        &server.url("fleet.git"),
        GitRef {
            branch: Some("main".into()),
            ..Default::default()
        },
        &cache,
        "a",
    );
    let keys = parse_keyrings(&[trusted.armored_public_key().into_bytes()]).expect("keys");
    let err = verify(&cache, &head.commit, None, VerifyMode::Head, &keys).expect_err("ssh");
    assert_eq!(err.reason(), "InvalidCommitSignature");
    assert!(err.to_string().contains("SSH key"), "{err}");
}
