//! Decrypting a kustomization's generator and patch sources in place, over a copy of the
//! fixtures tree, as kustomize-controller does before `kustomize build`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use flux_sops::{Error, Keyring, SourceOptions, decrypt_kustomization_sources, secure_join};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest).unwrap();
            let mut perms = fs::metadata(&dest).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            fs::set_permissions(&dest, perms).unwrap();
        }
    }
}

fn keyring() -> Keyring {
    let read = |rel: &str| fs::read(fixtures().join(rel)).unwrap();
    Keyring::from_secret_data(&BTreeMap::from([
        ("age.agekey".to_string(), read("keys/age.txt")),
        ("pgp.asc".to_string(), read("keys/pgp.asc")),
    ]))
    .unwrap()
}

fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), dir.path());
    dir
}

#[test]
fn generator_and_patch_sources_are_decrypted_in_place() {
    let dir = workdir();
    let root = dir.path();
    let mut done =
        decrypt_kustomization_sources(root, Path::new("."), &keyring(), SourceOptions::default())
            .unwrap();
    done.sort();
    let expected: Vec<PathBuf> = [
        "component/env.env",
        "envs/env.env",
        "files/file.txt",
        "patches/merge1.yaml",
        "patches/merge2.yaml",
        "remote/env.env",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(done, expected);
    assert_eq!(
        fs::read_to_string(root.join("envs/env.env")).unwrap(),
        "key=value\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("files/file.txt")).unwrap(),
        "value"
    );
    let merge1: serde_yaml::Value =
        serde_yaml::from_slice(&fs::read(root.join("patches/merge1.yaml")).unwrap()).unwrap();
    assert_eq!(merge1["stringData"]["key"], "merge1");
    assert!(merge1.get("sops").is_none());
    // Resources are decrypted after the build, not here; unreferenced files are untouched.
    for untouched in [
        "algorithms/age.yaml",
        "inside/secret.yaml",
        "global/secret.yaml",
    ] {
        assert_eq!(
            fs::read(root.join(untouched)).unwrap(),
            fs::read(fixtures().join(untouched)).unwrap(),
            "{untouched}"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(root.join("envs/env.env"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn running_twice_leaves_decrypted_files_alone() {
    let dir = workdir();
    let keys = keyring();
    decrypt_kustomization_sources(dir.path(), Path::new("."), &keys, SourceOptions::default())
        .unwrap();
    let again =
        decrypt_kustomization_sources(dir.path(), Path::new("."), &keys, SourceOptions::default())
            .unwrap();
    assert!(again.is_empty());
}

#[test]
fn wrong_key_fails_naming_the_file_but_no_plaintext() {
    let dir = workdir();
    let other = Keyring::new()
        .with_age_identity(&fs::read_to_string(fixtures().join("keys/age-global.txt")).unwrap())
        .unwrap();
    let err = decrypt_kustomization_sources(
        dir.path(),
        Path::new("envs"),
        &other,
        SourceOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::SourceDecryption { ref path, .. } if path == "envs/env.env"),
        "{err}"
    );
    assert!(!err.to_string().contains("key=value"));
}

#[test]
fn sources_larger_than_the_limit_are_refused() {
    let dir = workdir();
    let opts = SourceOptions {
        max_file_size: 100,
        ..SourceOptions::default()
    };
    let err =
        decrypt_kustomization_sources(dir.path(), Path::new("envs"), &keyring(), opts).unwrap_err();
    assert!(err.to_string().contains("exceeding limit (100)"), "{err}");
}

#[test]
fn traversal_and_symlinks_stay_inside_the_root() {
    let dir = workdir();
    let root = dir.path();
    // A generator source that climbs out of the root resolves inside it instead.
    fs::write(
        root.join("envs/kustomization.yaml"),
        "secretGenerator:\n- name: s\n  envs:\n  - ../../../../etc/hostname\n",
    )
    .unwrap();
    let err = decrypt_kustomization_sources(
        root,
        Path::new("envs"),
        &keyring(),
        SourceOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Source { ref path, .. } if path == "etc/hostname"),
        "{err}"
    );

    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc", root.join("escape")).unwrap();
        let joined =
            secure_join(&root.canonicalize().unwrap(), Path::new("escape/hostname")).unwrap();
        assert_eq!(joined, root.canonicalize().unwrap().join("etc/hostname"));
        std::os::unix::fs::symlink("../envs/env.env", root.join("files/link.env")).unwrap();
        let joined =
            secure_join(&root.canonicalize().unwrap(), Path::new("files/link.env")).unwrap();
        assert_eq!(joined, root.canonicalize().unwrap().join("envs/env.env"));
    }
}

#[test]
fn missing_kustomization_file_is_an_error_at_the_start_directory() {
    let dir = workdir();
    let err = decrypt_kustomization_sources(
        dir.path(),
        Path::new("keys"),
        &keyring(),
        SourceOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("no kustomization file found"),
        "{err}"
    );
}

#[test]
fn dockerconfigjson_keys_are_read_as_json() {
    use flux_sops::Format;
    assert_eq!(Format::for_kustomize_key(".dockerconfigjson"), Format::Json);
    assert_eq!(Format::for_kustomize_key("app.env"), Format::Dotenv);
    assert_eq!(Format::for_kustomize_key("key"), Format::Binary);
}
