//! Packing, unpacking and downloading artifacts end to end, with hostile archives.

use std::path::Path;

use flux_artifact::{Error, IgnoreRules, UnpackLimits, digest, fetch_verified, pack_dir, unpack};

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, body).expect("write");
}

fn sample_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "apps/deploy.yaml", "kind: Deployment\n");
    write(root, "apps/.sourceignore", "*.md\n");
    write(root, "apps/README.md", "docs");
    write(root, "README.md", "top docs");
    write(root, ".git/HEAD", "ref: refs/heads/main\n");
    write(root, ".github/workflows/ci.yaml", "on: push\n");
    write(root, "logo.png", "png");
    dir
}

fn pack(root: &Path, spec_ignore: Option<&str>) -> Vec<u8> {
    let rules = IgnoreRules::load(root, spec_ignore).expect("rules");
    let mut out = Vec::new();
    pack_dir(root, &rules, &mut out).expect("pack");
    out
}

fn files_below(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("read_dir") {
            let e = e.expect("entry");
            if e.file_type().expect("type").is_dir() {
                walk(root, &e.path(), out);
            } else {
                let rel = e.path().strip_prefix(root).expect("rel").to_path_buf();
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    walk(root, root, &mut out);
    out.sort();
    out
}

#[test]
fn same_tree_gives_same_digest_whatever_the_file_times() {
    let a = sample_tree();
    let first = pack(a.path(), None);
    // Touch every file later: times must not leak into the archive.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write(a.path(), "apps/deploy.yaml", "kind: Deployment\n");
    let second = pack(a.path(), None);
    assert_eq!(digest(&first), digest(&second));

    write(a.path(), "apps/deploy.yaml", "kind: StatefulSet\n");
    assert_ne!(digest(&first), digest(&pack(a.path(), None)));
}

#[test]
fn unpacked_artifact_is_the_tree_minus_ignored_paths() {
    let src = sample_tree();
    let archive = pack(src.path(), None);
    let dest = tempfile::tempdir().expect("tempdir");
    let stats = unpack(&archive, dest.path(), UnpackLimits::default()).expect("unpack");
    assert_eq!(
        files_below(dest.path()),
        vec!["README.md", "apps/.sourceignore", "apps/deploy.yaml"]
    );
    assert_eq!(stats.files, 3);
    assert_eq!(
        std::fs::read_to_string(dest.path().join("apps/deploy.yaml")).expect("read"),
        "kind: Deployment\n"
    );
}

#[test]
fn spec_ignore_excludes_more_paths() {
    let src = sample_tree();
    let archive = pack(src.path(), Some("/README.md\n"));
    let dest = tempfile::tempdir().expect("tempdir");
    unpack(&archive, dest.path(), UnpackLimits::default()).expect("unpack");
    assert_eq!(
        files_below(dest.path()),
        vec!["apps/.sourceignore", "apps/deploy.yaml"]
    );
}

#[cfg(unix)]
#[test]
fn symlinks_in_the_tree_are_left_out_of_the_artifact() {
    let src = sample_tree();
    std::os::unix::fs::symlink("/etc/passwd", src.path().join("apps/passwd")).expect("symlink");
    let rules = IgnoreRules::load(src.path(), None).expect("rules");
    let mut archive = Vec::new();
    let stats = pack_dir(src.path(), &rules, &mut archive).expect("pack");
    assert_eq!(stats.skipped, vec!["apps/passwd".to_string()]);
    let dest = tempfile::tempdir().expect("tempdir");
    unpack(&archive, dest.path(), UnpackLimits::default()).expect("unpack");
    assert!(!dest.path().join("apps/passwd").exists());
}

/// A tar.gz with one entry whose raw name and type we choose, bypassing the tar crate's checks.
fn hostile_archive(name: &str, kind: tar::EntryType, body: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    {
        let raw = header.as_gnu_mut().expect("gnu header");
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
    }
    header.set_entry_type(kind);
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    if kind == tar::EntryType::Symlink {
        header.set_link_name("/etc/passwd").expect("link name");
    }
    header.set_cksum();
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    builder.append(&header, body).expect("append");
    builder.into_inner().expect("tar").finish().expect("gzip")
}

#[test]
fn unpack_refuses_paths_that_escape_the_destination() {
    for name in ["../evil.yaml", "a/../../evil.yaml", "/etc/evil.yaml"] {
        let archive = hostile_archive(name, tar::EntryType::Regular, b"x");
        let dest = tempfile::tempdir().expect("tempdir");
        let err =
            unpack(&archive, &dest.path().join("out"), UnpackLimits::default()).expect_err(name);
        assert!(matches!(err, Error::PathTraversal { .. }), "{name}: {err}");
        assert!(!dest.path().join("evil.yaml").exists());
    }
}

#[test]
fn unpack_refuses_links() {
    let archive = hostile_archive("passwd", tar::EntryType::Symlink, b"");
    let dest = tempfile::tempdir().expect("tempdir");
    let err = unpack(&archive, dest.path(), UnpackLimits::default()).expect_err("link");
    assert!(matches!(err, Error::UnsupportedEntry { .. }), "{err}");
}

#[test]
fn unpack_enforces_the_size_limit() {
    let src = tempfile::tempdir().expect("tempdir");
    write(src.path(), "big.yaml", &"x".repeat(4096));
    let archive = pack(src.path(), None);
    let dest = tempfile::tempdir().expect("tempdir");
    let limits = UnpackLimits {
        max_size: 1024,
        ..UnpackLimits::default()
    };
    let err = unpack(&archive, dest.path(), limits).expect_err("too large");
    assert!(
        matches!(err, Error::UnpackTooLarge { limit: 1024 }),
        "{err}"
    );
}

#[test]
fn unpack_reports_garbage_as_corrupt() {
    let dest = tempfile::tempdir().expect("tempdir");
    let err = unpack(b"not a tarball", dest.path(), UnpackLimits::default()).expect_err("garbage");
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
}

/// Serves `body` at /artifact.tar.gz on a loopback port.
async fn serve(body: Vec<u8>) -> String {
    let app = axum::Router::new().route(
        "/artifact.tar.gz",
        axum::routing::get(move || {
            let body = body.clone();
            async move { body }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn fetch_verified_checks_digest_size_and_status() {
    let src = sample_tree();
    let archive = pack(src.path(), None);
    let good = digest(&archive);
    let base = serve(archive.clone()).await;
    let url = format!("{base}/artifact.tar.gz");
    let client = reqwest::Client::new();

    let body = fetch_verified(&client, &url, &good, 1 << 20)
        .await
        .expect("fetch");
    assert_eq!(body, archive);

    let wrong = digest(b"something else");
    let err = fetch_verified(&client, &url, &wrong, 1 << 20)
        .await
        .expect_err("mismatch");
    assert!(
        matches!(&err, Error::DigestMismatch { actual, .. } if *actual == good),
        "{err}"
    );

    let err = fetch_verified(&client, &url, &good, 10)
        .await
        .expect_err("too large");
    assert!(matches!(err, Error::DownloadTooLarge { .. }), "{err}");

    let err = fetch_verified(&client, &format!("{base}/missing"), &good, 1 << 20)
        .await
        .expect_err("404");
    assert!(err.to_string().contains("404"), "{err}");

    let err = fetch_verified(&client, "http://127.0.0.1:1/x", &good, 1 << 20)
        .await
        .expect_err("unreachable");
    assert!(matches!(err, Error::Download { .. }), "{err}");
}

#[tokio::test]
async fn storage_server_serves_stored_artifacts_at_their_advertised_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let storage = flux_artifact::Storage::new(dir.path(), &addr.to_string(), 2).expect("storage");
    let src = sample_tree();
    let archive = pack(src.path(), None);
    let owner = flux_artifact::Owner {
        kind: "gitrepository",
        namespace: "flux-system",
        name: "fleet",
    };
    let stored = storage
        .store(&owner, "rev1.tar.gz", &archive)
        .expect("store");
    let app = flux_artifact::router(storage.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let client = reqwest::Client::new();
    let body = fetch_verified(&client, &stored.url, &stored.digest, 1 << 20)
        .await
        .expect("download");
    assert_eq!(body, archive);

    for bad in [
        "gitrepository/flux-system/fleet/nope.tar.gz",
        "%2e%2e/%2e%2e/etc/passwd",
    ] {
        let status = client
            .get(format!("http://{addr}/{bad}"))
            .send()
            .await
            .expect("request")
            .status();
        assert_eq!(status, 404, "{bad}");
    }
}
