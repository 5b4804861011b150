//! Decrypts the files the real `sops` tool encrypted for Flux's own tests (tests/fixtures, copied
//! from the kustomize-controller SOPS fixtures) and checks the failure modes around them.
//!
//! The plaintexts are not stored with the fixtures; each decryption is proven by the MAC check
//! (a SHA-512 over every plaintext value, itself encrypted with the data key), and the asserted
//! values are the ones whose ciphertext lengths match and that the fixture names announce.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flux_sops::{
    DecryptOptions, Error, Format, Keyring, decrypt, decrypt_resource, decrypt_with, detect_format,
    is_encrypted, is_encrypted_resource,
};
use serde_yaml::Value as Yaml;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).expect("fixture exists")
}

/// The decryption Secret a Flux user would create: one entry per key file.
fn secret_data() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([
        ("age.agekey".to_string(), read("keys/age.txt")),
        ("global.agekey".to_string(), read("keys/age-global.txt")),
        ("pgp.asc".to_string(), read("keys/pgp.asc")),
        ("sops.vault-token".to_string(), b"ignored".to_vec()),
    ])
}

fn keyring() -> Keyring {
    Keyring::from_secret_data(&secret_data()).expect("fixture keys parse")
}

fn decrypt_fixture(rel: &str, keys: &Keyring) -> Result<Vec<u8>, Error> {
    decrypt(&read(rel), Format::from_path(&fixture(rel)), keys)
}

fn yaml(bytes: &[u8]) -> Yaml {
    serde_yaml::from_slice(bytes).expect("decrypted output is YAML")
}

fn edit_sops(rel: &str, edit: impl FnOnce(&mut serde_yaml::Mapping)) -> Vec<u8> {
    let mut doc = yaml(&read(rel));
    let sops = doc
        .get_mut("sops")
        .and_then(Yaml::as_mapping_mut)
        .expect("sops metadata");
    edit(sops);
    serde_yaml::to_string(&doc)
        .expect("serializes")
        .into_bytes()
}

#[test]
fn age_encrypted_secret_decrypts_to_its_plaintext_document() {
    let out = decrypt_fixture("algorithms/age.yaml", &keyring()).unwrap();
    let doc = yaml(&out);
    assert_eq!(doc["apiVersion"], "v1");
    assert_eq!(doc["kind"], "Secret");
    assert_eq!(doc["metadata"]["name"], "age");
    assert_eq!(doc["stringData"]["key"], "value");
    assert!(doc.get("sops").is_none(), "metadata is removed");
    // Key order of the original document is kept.
    let keys: Vec<_> = doc.as_mapping().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["apiVersion", "kind", "metadata", "stringData"].map(Yaml::from)
    );
}

#[test]
fn pgp_encrypted_secret_decrypts_with_the_armored_private_key() {
    let mut keys = Keyring::new();
    keys.add_pgp_armored("pgp.asc", &read("keys/pgp.asc"))
        .unwrap();
    let doc = yaml(&decrypt_fixture("algorithms/pgp.yaml", &keys).unwrap());
    assert_eq!(doc["metadata"]["name"], "pgp");
    assert_eq!(doc["stringData"]["key"], "value");
}

#[test]
fn secret_for_a_second_age_recipient_decrypts_with_that_identity_only() {
    let doc = yaml(&decrypt_fixture("global/secret.yaml", &keyring()).unwrap());
    assert_eq!(doc["metadata"]["name"], "global-age-secret");
    assert_eq!(doc["type"], "Opaque");
    assert_eq!(doc["stringData"]["key"], "global-value");

    let only_first = Keyring::new()
        .with_age_identity(std::str::from_utf8(&read("keys/age.txt")).unwrap())
        .unwrap();
    let err = decrypt_fixture("global/secret.yaml", &only_first).unwrap_err();
    assert!(matches!(err, Error::NoMatchingKey(_)), "{err}");
}

#[test]
fn encrypted_patches_decrypt_to_their_merge_values() {
    let keys = keyring();
    let one = yaml(&decrypt_fixture("patches/merge1.yaml", &keys).unwrap());
    assert_eq!(one["stringData"]["key"], "merge1");
    let two = yaml(&decrypt_fixture("patches/merge2.yaml", &keys).unwrap());
    assert_eq!(two["stringData"]["merge2"], "merge2");
}

#[test]
fn dotenv_generator_inputs_decrypt_without_sops_lines() {
    let keys = keyring();
    for rel in ["envs/env.env", "component/env.env", "remote/env.env"] {
        let out = decrypt_fixture(rel, &keys).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "key=value\n", "{rel}");
    }
}

#[test]
fn binary_generator_input_decrypts_to_the_raw_bytes() {
    let out = decrypt_fixture("files/file.txt", &keyring()).unwrap();
    assert_eq!(out, b"value");
}

#[test]
fn secret_data_entry_holding_a_sops_binary_file_decrypts() {
    // kustomize-controller decrypts Secret data values that are themselves sops files; the
    // entry "key" has no extension, so it is the binary format.
    let doc = yaml(&read("inside/secret.yaml"));
    let encoded = doc["data"]["key"].as_str().unwrap();
    use base64::Engine;
    let inner = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    assert!(is_encrypted(&inner, Format::from_path(Path::new("key"))));
    let out = decrypt(&inner, Format::Binary, &keyring()).unwrap();
    assert_eq!(out, b"value");
}

#[test]
fn post_quantum_age_secret_decrypts_with_the_hybrid_identity() {
    let mut data = secret_data();
    data.insert("pq.agekey".to_string(), read("keys/age-pq.txt"));
    let keys = Keyring::from_secret_data(&data).unwrap();
    let doc = yaml(&decrypt_fixture("algorithms/age-pq.yaml", &keys).unwrap());
    assert_eq!(doc["metadata"]["name"], "age-pq");
    assert_eq!(doc["stringData"]["key"], "value");
}

#[test]
fn post_quantum_secret_needs_the_post_quantum_identity() {
    // The X25519 identities cannot open an mlkem768x25519 stanza.
    let err = decrypt_fixture("algorithms/age-pq.yaml", &keyring()).unwrap_err();
    assert!(matches!(err, Error::NoMatchingKey(_)), "{err}");
    assert!(err.to_string().contains("age1pq1ehusfwsvrente8p6g..."));
}

#[test]
fn plain_vault_fixture_is_not_encrypted_and_has_no_metadata() {
    let input = read("algorithms/vault.yaml");
    assert!(!is_encrypted(&input, Format::Yaml));
    let err = decrypt(&input, Format::Yaml, &keyring()).unwrap_err();
    assert!(matches!(err, Error::MetadataNotFound));
}

#[test]
fn data_key_only_held_by_vault_is_an_unsupported_key_service() {
    let input = edit_sops("algorithms/age.yaml", |sops| {
        sops.insert("age".into(), Yaml::Sequence(vec![]));
        let vault: Yaml = serde_yaml::from_str(
            "- {vault_address: 'http://127.0.0.1:8200', engine_path: sops, key_name: sops, \
             created_at: '2024-11-12T13:33:42Z', enc: 'vault:v1:abc'}",
        )
        .unwrap();
        sops.insert("hc_vault".into(), vault);
    });
    let err = decrypt(&input, Format::Yaml, &keyring()).unwrap_err();
    assert!(matches!(err, Error::UnsupportedKeyService(_)), "{err}");
    assert!(err.to_string().contains("hc_vault"));
}

#[test]
fn wrong_key_fails_without_revealing_plaintext_or_keys() {
    let keys = Keyring::new()
        .with_age_identity(std::str::from_utf8(&read("keys/age-global.txt")).unwrap())
        .unwrap();
    let err = decrypt_fixture("algorithms/age.yaml", &keys).unwrap_err();
    assert!(matches!(err, Error::NoMatchingKey(_)), "{err}");
    let msg = format!("{err} {err:?}");
    assert!(msg.contains("age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29"));
    assert!(!msg.contains("AGE-SECRET-KEY"));
    assert!(!msg.contains("key: value"));
}

#[test]
fn empty_keyring_cannot_decrypt_pgp_or_age_files() {
    let keys = Keyring::new();
    assert!(keys.is_empty());
    for rel in ["algorithms/age.yaml", "algorithms/pgp.yaml", "envs/env.env"] {
        let err = decrypt_fixture(rel, &keys).unwrap_err();
        assert!(matches!(err, Error::NoMatchingKey(_)), "{rel}: {err}");
    }
}

#[test]
fn tampered_ciphertext_fails_authentication_at_its_path() {
    let text = String::from_utf8(read("algorithms/age.yaml")).unwrap();
    let tampered = text.replace("data:mHeXsmQ=", "data:nHeXsmQ=");
    assert_ne!(tampered, text);
    let err = decrypt(tampered.as_bytes(), Format::Yaml, &keyring()).unwrap_err();
    assert!(
        matches!(err, Error::ValueDecryption { ref path } if path == "stringData:key:"),
        "{err}"
    );
}

#[test]
fn tampered_clear_value_fails_the_mac() {
    // metadata.name is not encrypted (encrypted_regex) but is covered by the MAC.
    let text = String::from_utf8(read("algorithms/age.yaml")).unwrap();
    let tampered = text.replacen("  name: age\n", "  name: evil\n", 1);
    assert_ne!(tampered, text);
    let err = decrypt(tampered.as_bytes(), Format::Yaml, &keyring()).unwrap_err();
    assert!(matches!(err, Error::MacMismatch), "{err}");
}

#[test]
fn tampered_dotenv_line_fails_the_mac() {
    let mut text = String::from_utf8(read("envs/env.env")).unwrap();
    // A clear value (its key ends with the unencrypted suffix) is still covered by the MAC.
    text.insert_str(0, "INJECTED_unencrypted=1\n");
    let err = decrypt(text.as_bytes(), Format::Dotenv, &keyring()).unwrap_err();
    assert!(matches!(err, Error::MacMismatch), "{err}");
}

#[test]
fn tampered_lastmodified_fails_the_mac_decryption() {
    let text = String::from_utf8(read("algorithms/age.yaml")).unwrap();
    let tampered = text.replace("2024-11-12T13:33:42Z", "2024-11-12T13:33:43Z");
    let err = decrypt(tampered.as_bytes(), Format::Yaml, &keyring()).unwrap_err();
    assert!(matches!(err, Error::MacMismatch), "{err}");
}

#[test]
fn stripped_mac_fails_verification_but_not_kustomize_controller_mode() {
    let input = edit_sops("algorithms/age.yaml", |sops| {
        sops.remove("mac");
    });
    let err = decrypt(&input, Format::Yaml, &keyring()).unwrap_err();
    assert!(matches!(err, Error::MacMismatch), "{err}");
    let opts = DecryptOptions::kustomize_controller(Format::Yaml, Format::Yaml);
    let doc = yaml(&decrypt_with(&input, &opts, &keyring()).unwrap());
    assert_eq!(doc["stringData"]["key"], "value");
}

#[test]
fn missing_second_key_group_fails_the_shamir_threshold() {
    // Move the age key into a key group and add a PGP group nobody can open: sops splits the
    // data key between groups, so one group alone is not enough.
    let input = edit_sops("algorithms/age.yaml", |sops| {
        let age = sops.remove("age").unwrap();
        let groups: Yaml = serde_yaml::from_str(
            "- pgp: [{fp: 0000000000000000000000000000000000000000, enc: 'not a message'}]",
        )
        .unwrap();
        let mut groups = groups.as_sequence().unwrap().clone();
        let mut first = serde_yaml::Mapping::new();
        first.insert("age".into(), age);
        groups.insert(0, Yaml::Mapping(first));
        sops.insert("key_groups".into(), Yaml::Sequence(groups));
        sops.insert("shamir_threshold".into(), 2.into());
    });
    let err = decrypt(&input, Format::Yaml, &keyring()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ShamirThreshold {
                decrypted: 1,
                groups: 2,
                threshold: 2
            }
        ),
        "{err}"
    );
}

#[test]
fn malformed_inputs_are_parse_errors_not_panics() {
    let keys = keyring();
    assert!(matches!(
        decrypt(b"a: [unclosed", Format::Yaml, &keys),
        Err(Error::Parse { .. })
    ));
    assert!(matches!(
        decrypt(b"{", Format::Json, &keys),
        Err(Error::Parse { .. })
    ));
    assert!(matches!(
        decrypt(b"no equals sign\n", Format::Dotenv, &keys),
        Err(Error::Parse { .. })
    ));
    assert!(matches!(
        decrypt(b"[]", Format::Binary, &keys),
        Err(Error::Parse { .. })
    ));
    assert!(matches!(
        decrypt(b"{\"data\": \"x\"}", Format::Binary, &keys),
        Err(Error::MetadataNotFound)
    ));
    assert!(matches!(
        decrypt(b"sops: 3\n", Format::Yaml, &keys),
        Err(Error::InvalidMetadata(_))
    ));
}

#[test]
fn invalid_age_key_entry_is_rejected_without_echoing_it() {
    let data = BTreeMap::from([(
        "bad.agekey".to_string(),
        b"AGE-SECRET-KEY-1NOTAVALIDKEY\n".to_vec(),
    )]);
    let err = Keyring::from_secret_data(&data).unwrap_err();
    assert!(matches!(err, Error::InvalidKey { .. }));
    assert!(err.to_string().contains("bad.agekey"));
    assert!(!err.to_string().contains("NOTAVALIDKEY"));
}

#[test]
fn keyring_lists_the_public_recipients_of_its_identities() {
    let mut data = secret_data();
    data.insert("pq.agekey".to_string(), read("keys/age-pq.txt"));
    let recipients = Keyring::from_secret_data(&data).unwrap().age_recipients();
    assert_eq!(recipients.len(), 3);
    assert!(
        recipients.contains(
            &"age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29".to_string()
        )
    );
    assert!(
        recipients.contains(
            &"age1henwn645drkd3fa34t27t2w2x0nsgw3w4h62gmg5x5xflyjpy38s5cncph".to_string()
        )
    );
    assert!(
        recipients
            .iter()
            .any(|r| r.starts_with("age1pq1ehusfwsvrente8p6g"))
    );
}

#[test]
fn keyring_debug_output_holds_no_key_material() {
    let dbg = format!("{:?}", keyring());
    assert!(dbg.contains("age_identities: 2"));
    assert!(dbg.contains("pgp_keys: 1"));
    assert!(!dbg.contains("AGE-SECRET-KEY"));
}

#[test]
fn is_encrypted_recognizes_every_encrypted_fixture_format() {
    for rel in [
        "algorithms/age.yaml",
        "algorithms/pgp.yaml",
        "envs/env.env",
        "files/file.txt",
        "global/secret.yaml",
    ] {
        assert!(
            is_encrypted(&read(rel), Format::from_path(&fixture(rel))),
            "{rel}"
        );
    }
    assert!(!is_encrypted(&read("kustomization.yaml"), Format::Yaml));
    assert!(!is_encrypted(b"key=value\n", Format::Dotenv));
}

#[test]
fn format_follows_the_file_extension() {
    assert_eq!(Format::from_path(Path::new("a/b.yaml")), Format::Yaml);
    assert_eq!(Format::from_path(Path::new("b.yml")), Format::Yaml);
    assert_eq!(Format::from_path(Path::new("b.json")), Format::Json);
    assert_eq!(Format::from_path(Path::new(".env")), Format::Binary);
    assert_eq!(Format::from_path(Path::new("x.env")), Format::Dotenv);
    assert_eq!(Format::from_path(Path::new("x.ini")), Format::Ini);
    assert_eq!(Format::from_path(Path::new("x.txt")), Format::Binary);
}

/// The age fixture as kustomize-controller sees it after `kustomize build`: name prefixes
/// applied and the object marshalled to JSON with sorted keys.
fn built_age_secret_json() -> Vec<u8> {
    let mut doc: serde_json::Value = serde_yaml::from_slice(&read("algorithms/age.yaml")).unwrap();
    doc["metadata"]["name"] = "sops-algo-age".into();
    let sorted: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_value(doc).unwrap();
    serde_json::to_vec(&sorted).unwrap()
}

#[test]
fn kustomize_controller_decrypts_built_objects_without_the_mac_check() {
    let input = built_age_secret_json();
    let opts = DecryptOptions::kustomize_controller(Format::Json, Format::Json);
    let out = decrypt_with(&input, &opts, &keyring()).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["metadata"]["name"], "sops-algo-age");
    assert_eq!(doc["stringData"]["key"], "value");
    assert!(doc.get("sops").is_none());
    // The same bytes fail the strict sops check, since the clear name changed.
    let strict = decrypt(&input, Format::Json, &keyring()).unwrap_err();
    assert!(matches!(strict, Error::MacMismatch), "{strict}");
}

#[test]
fn kustomize_controller_mode_still_rejects_tampered_ciphertext() {
    let input = String::from_utf8(built_age_secret_json()).unwrap();
    let tampered = input.replace("data:mHeXsmQ=", "data:nHeXsmQ=");
    assert_ne!(tampered, input);
    let opts = DecryptOptions::kustomize_controller(Format::Json, Format::Json);
    let err = decrypt_with(tampered.as_bytes(), &opts, &keyring()).unwrap_err();
    assert!(matches!(err, Error::ValueDecryption { .. }), "{err}");
}

#[test]
fn secret_data_value_is_detected_and_written_in_the_format_of_its_key() {
    // kustomize-controller: input format from the marker bytes, output format from the key.
    let doc = yaml(&read("inside/secret.yaml"));
    use base64::Engine;
    let inner = base64::engine::general_purpose::STANDARD
        .decode(doc["data"]["key"].as_str().unwrap())
        .unwrap();
    assert_eq!(detect_format(&inner), Some(Format::Json));
    let opts =
        DecryptOptions::kustomize_controller(Format::Json, Format::from_path(Path::new("key")));
    assert_eq!(decrypt_with(&inner, &opts, &keyring()).unwrap(), b"value");
}

#[test]
fn detect_format_recognizes_each_store_and_plain_files() {
    assert_eq!(detect_format(&read("envs/env.env")), Some(Format::Dotenv));
    assert_eq!(
        detect_format(&read("algorithms/age.yaml")),
        Some(Format::Yaml)
    );
    assert_eq!(detect_format(&read("files/file.txt")), Some(Format::Json));
    assert_eq!(detect_format(b"[sops]\nmac = x\n"), Some(Format::Ini));
    assert_eq!(detect_format(&read("algorithms/vault.yaml")), None);
}

#[test]
fn built_encrypted_secret_object_decrypts_whole() {
    let obj: serde_json::Value = serde_json::from_slice(&built_age_secret_json()).unwrap();
    assert!(is_encrypted_resource(&obj));
    let out = decrypt_resource(&obj, &keyring()).unwrap().unwrap();
    assert_eq!(out["metadata"]["name"], "sops-algo-age");
    assert_eq!(out["stringData"]["key"], "value");
    assert!(out.get("sops").is_none());
}

#[test]
fn secret_with_an_encrypted_data_entry_gets_that_entry_decrypted() {
    let obj: serde_json::Value = serde_yaml::from_slice(&read("inside/secret.yaml")).unwrap();
    assert!(!is_encrypted_resource(&obj));
    let out = decrypt_resource(&obj, &keyring()).unwrap().unwrap();
    assert_eq!(out["data"]["key"], "dmFsdWU="); // base64("value")
    assert_eq!(out["metadata"]["name"], "secret");
}

#[test]
fn objects_without_sops_data_are_left_alone() {
    let plain: serde_json::Value = serde_yaml::from_slice(&read("algorithms/vault.yaml")).unwrap();
    assert_eq!(decrypt_resource(&plain, &keyring()).unwrap(), None);
    let cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}});
    assert_eq!(decrypt_resource(&cm, &keyring()).unwrap(), None);
}

#[test]
fn encrypted_object_with_wrong_key_names_the_object() {
    let obj: serde_json::Value = serde_json::from_slice(&built_age_secret_json()).unwrap();
    let keys = Keyring::new()
        .with_age_identity(std::str::from_utf8(&read("keys/age-global.txt")).unwrap())
        .unwrap();
    let err = decrypt_resource(&obj, &keys).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("failed to decrypt Secret /sops-algo-age:"),
        "{err}"
    );
    assert!(!err.to_string().contains("value"));
}
