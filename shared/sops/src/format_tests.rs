//! JSON, INI and dotenv documents built the way sops writes them (values sealed at their paths,
//! data key age-encrypted, MAC over the plaintext values) and decrypted through the public API.

use std::io::Write;
use std::str::FromStr;

use sha2::{Digest, Sha512};

use crate::cipher::encrypt_for_test as seal;
use crate::{Format, Keyring, decrypt};

const IDENTITY: &str = "AGE-SECRET-KEY-1RH87A5Z54ZGUR9S0AS3R6WHFSEFNPLYMAKF5Z2CEU7R06VRJ0A3Q7242AM";
const RECIPIENT: &str = "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29";
const LASTMODIFIED: &str = "2026-11-25T19:00:00Z";
const DATA_KEY: [u8; 32] = [0x5a; 32];

fn age_encrypted_data_key() -> String {
    let recipient = age::x25519::Recipient::from_str(RECIPIENT).unwrap();
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let armored =
        age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor).unwrap();
    let mut w = encryptor.wrap_output(armored).unwrap();
    w.write_all(&DATA_KEY).unwrap();
    w.finish().and_then(|a| a.finish()).unwrap();
    String::from_utf8(out).unwrap()
}

fn mac_of(values: &[&str]) -> String {
    let mut h = Sha512::new();
    for v in values {
        h.update(v.as_bytes());
    }
    seal(
        hex::encode_upper(h.finalize()).as_bytes(),
        "str",
        &DATA_KEY,
        LASTMODIFIED,
    )
}

fn keys() -> Keyring {
    Keyring::new().with_age_identity(IDENTITY).unwrap()
}

#[test]
fn json_document_decrypts_typed_values_and_lists_at_their_parent_path() {
    let doc = serde_json::json!({
        "user": seal(b"admin", "str", &DATA_KEY, "user:"),
        "port": seal(b"5432", "int", &DATA_KEY, "port:"),
        "ratio": seal(b"1.5", "float", &DATA_KEY, "ratio:"),
        "tls": seal(b"True", "bool", &DATA_KEY, "tls:"),
        "hosts": {"list": [seal(b"a", "str", &DATA_KEY, "hosts:list:"), seal(b"b", "str", &DATA_KEY, "hosts:list:")]},
        "note_unencrypted": "clear",
        "empty": "",
        "sops": {
            "age": [{"recipient": RECIPIENT, "enc": age_encrypted_data_key()}],
            "lastmodified": LASTMODIFIED,
            "mac": mac_of(&["admin", "5432", "1.5", "True", "a", "b", "clear", ""]),
            "unencrypted_suffix": "_unencrypted",
            "version": "3.9.0"
        }
    });
    let out = decrypt(doc.to_string().as_bytes(), Format::Json, &keys()).unwrap();
    let plain: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        plain,
        serde_json::json!({
            "user": "admin", "port": 5432, "ratio": 1.5, "tls": true,
            "hosts": {"list": ["a", "b"]}, "note_unencrypted": "clear", "empty": ""
        })
    );
    let keys_in_order: Vec<_> = plain.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys_in_order[0], "user");
    assert_eq!(keys_in_order[6], "empty");
}

#[test]
fn json_document_with_reordered_values_fails_the_mac() {
    let doc = serde_json::json!({
        "a": seal(b"1", "str", &DATA_KEY, "a:"),
        "b": seal(b"2", "str", &DATA_KEY, "b:"),
        "sops": {
            "age": [{"recipient": RECIPIENT, "enc": age_encrypted_data_key()}],
            "lastmodified": LASTMODIFIED,
            "mac": mac_of(&["2", "1"]),
        }
    });
    let err = decrypt(doc.to_string().as_bytes(), Format::Json, &keys()).unwrap_err();
    assert!(matches!(err, crate::Error::MacMismatch));
}

#[test]
fn ini_document_decrypts_sections_with_section_key_paths() {
    let enc = age_encrypted_data_key().replace('\n', "\\n");
    let input = format!(
        "[database]\nuser = {}\npassword = {}\n\n[sops]\nage__list_0__map_enc = {enc}\n\
         age__list_0__map_recipient = {RECIPIENT}\nlastmodified = {LASTMODIFIED}\nmac = {}\n\
         unencrypted_suffix = _unencrypted\nversion = 3.9.0\n",
        seal(b"admin", "str", &DATA_KEY, "database:user:"),
        seal(b"s3cr3t", "str", &DATA_KEY, "database:password:"),
        mac_of(&["admin", "s3cr3t"]),
    );
    let out = decrypt(input.as_bytes(), Format::Ini, &keys()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "[database]\nuser = admin\npassword = s3cr3t\n\n"
    );
}

#[test]
fn dotenv_document_keeps_comments_and_escapes_newlines() {
    let enc = age_encrypted_data_key().replace('\n', "\\n");
    let input = format!(
        "#{}\nTOKEN={}\nsops_age__list_0__map_enc={enc}\nsops_age__list_0__map_recipient={RECIPIENT}\n\
         sops_lastmodified={LASTMODIFIED}\nsops_mac={}\nsops_unencrypted_suffix=_unencrypted\n",
        seal(b" tokens", "comment", &DATA_KEY, ":"),
        seal(b"line1\nline2", "str", &DATA_KEY, "TOKEN:"),
        mac_of(&["line1\nline2"]),
    );
    let out = decrypt(input.as_bytes(), Format::Dotenv, &keys()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "# tokens\nTOKEN=line1\\nline2\n"
    );
}

#[test]
fn yaml_multi_document_file_shares_one_mac_across_documents() {
    let input = format!(
        "a: {}\n---\nb: {}\nsops:\n  age:\n    - recipient: {RECIPIENT}\n      enc: |\n{}  lastmodified: \"{LASTMODIFIED}\"\n  mac: {}\n",
        seal(b"one", "str", &DATA_KEY, "a:"),
        seal(b"two", "str", &DATA_KEY, "b:"),
        age_encrypted_data_key()
            .lines()
            .map(|l| format!("        {l}\n"))
            .collect::<String>(),
        mac_of(&["one", "two"]),
    );
    let out = decrypt(input.as_bytes(), Format::Yaml, &keys()).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "a: one\n---\nb: two\n");
}

fn yaml_sops_block(mac: &str, extra: &str) -> String {
    format!(
        "sops:\n    age:\n        - recipient: {RECIPIENT}\n          enc: |\n{}    lastmodified: \"{LASTMODIFIED}\"\n    mac: {mac}\n{extra}",
        age_encrypted_data_key()
            .lines()
            .map(|l| format!("            {l}\n"))
            .collect::<String>(),
    )
}

#[test]
fn yaml_comments_layout_and_encrypted_comments_survive_decryption() {
    let input = format!(
        "# Secret for the web app\napiVersion: v1\nkind: Secret\nmetadata:\n    name: web # inline note\n\
         stringData:\n    #{}\n    password: {}\n    port: {}\n    token: \"{}\"\n{}",
        seal(b" the password", "comment", &DATA_KEY, "stringData:"),
        seal(b"p@ss: word", "str", &DATA_KEY, "stringData:password:"),
        seal(b"8080", "int", &DATA_KEY, "stringData:port:"),
        seal(b"abc", "str", &DATA_KEY, "stringData:token:"),
        yaml_sops_block(
            &mac_of(&["v1", "Secret", "web", "p@ss: word", "8080", "abc"]),
            "    encrypted_regex: ^(data|stringData)$\n"
        ),
    );
    let out = decrypt(input.as_bytes(), Format::Yaml, &keys()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "# Secret for the web app\napiVersion: v1\nkind: Secret\nmetadata:\n    name: web # inline note\n\
         stringData:\n    # the password\n    password: \"p@ss: word\"\n    port: 8080\n    token: abc\n"
    );
}

#[test]
fn flow_style_yaml_falls_back_to_reserializing_the_tree() {
    let doc = serde_json::json!({
        "a": seal(b"one", "str", &DATA_KEY, "a:"),
        "sops": {
            "age": [{"recipient": RECIPIENT, "enc": age_encrypted_data_key()}],
            "lastmodified": LASTMODIFIED,
            "mac": mac_of(&["one"]),
        }
    });
    // JSON is YAML too; the text cannot be edited line by line, so the tree is written out.
    let out = decrypt(doc.to_string().as_bytes(), Format::Yaml, &keys()).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "a: one\n");
}

#[test]
fn yaml_values_that_look_like_other_types_stay_strings() {
    let input = format!(
        "a: {}\nb: {}\nc: {}\n{}",
        seal(b"true", "str", &DATA_KEY, "a:"),
        seal(b"0123", "str", &DATA_KEY, "b:"),
        seal(b"line1\nline2", "str", &DATA_KEY, "c:"),
        yaml_sops_block(&mac_of(&["true", "0123", "line1\nline2"]), ""),
    );
    let out = decrypt(input.as_bytes(), Format::Yaml, &keys()).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text, "a: \"true\"\nb: \"0123\"\nc: \"line1\\nline2\"\n");
    let back: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(back["a"], "true");
    assert_eq!(back["c"], "line1\nline2");
}
