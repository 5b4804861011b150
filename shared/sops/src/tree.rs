//! The document tree sops works on, and the walk that decrypts it and computes its MAC in sops'
//! traversal order (`Tree.Decrypt` in sops).

use regex::Regex;
use sha2::{Digest, Sha512};

use crate::cipher::{self, Plain};
use crate::error::Error;

/// A key of a mapping item: a name, or a comment standing between items (dotenv, INI).
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Name(String),
    Comment(String),
}

/// A node of a sops document.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Map(Vec<(Key, Value)>),
    List(Vec<Value>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    Null,
}

/// Which values of the tree are encrypted, from the metadata (`shouldBeEncrypted` in sops).
#[derive(Debug, Default)]
pub struct Rules {
    pub unencrypted_suffix: Option<String>,
    pub encrypted_suffix: Option<String>,
    pub unencrypted_regex: Option<Regex>,
    pub encrypted_regex: Option<Regex>,
    pub mac_only_encrypted: bool,
}

/// `echo -n sops | sha256sum`: sops seeds the hash with it when `mac_only_encrypted` is set so
/// such a MAC never equals a full one.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

impl Rules {
    fn should_be_encrypted(&self, path: &[String]) -> bool {
        let mut encrypted = true;
        if let Some(suffix) = &self.unencrypted_suffix
            && path.iter().any(|p| p.ends_with(suffix.as_str()))
        {
            encrypted = false;
        }
        if let Some(suffix) = &self.encrypted_suffix {
            encrypted = path.iter().any(|p| p.ends_with(suffix.as_str()));
        }
        if let Some(re) = &self.unencrypted_regex
            && path.iter().any(|p| re.is_match(p))
        {
            encrypted = false;
        }
        if let Some(re) = &self.encrypted_regex {
            encrypted = path.iter().any(|p| re.is_match(p));
        }
        encrypted
    }
}

/// Decrypts every branch in place and returns the MAC sops would compute over the plaintext:
/// upper-case hex SHA-512 of the values in document order.
pub fn decrypt_branches(
    branches: &mut [Value],
    rules: &Rules,
    key: &[u8; 32],
) -> Result<String, Error> {
    let mut walker = Walker {
        rules,
        key,
        hash: Sha512::new(),
        path: Vec::new(),
    };
    if rules.mac_only_encrypted {
        walker.hash.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    for branch in branches.iter_mut() {
        walker.walk(branch)?;
    }
    Ok(hex::encode_upper(walker.hash.finalize()))
}

struct Walker<'a> {
    rules: &'a Rules,
    key: &'a [u8; 32],
    hash: Sha512,
    path: Vec<String>,
}

impl Walker<'_> {
    fn aad(&self) -> String {
        let mut s = self.path.join(":");
        s.push(':');
        s
    }

    fn walk(&mut self, value: &mut Value) -> Result<(), Error> {
        match value {
            Value::Map(items) => {
                for (k, v) in items.iter_mut() {
                    match k {
                        Key::Comment(text) => {
                            // Comments are never part of the MAC; one that fails to decrypt was
                            // written in clear by an older sops and is kept as is.
                            if self.rules.should_be_encrypted(&self.path)
                                && let Ok(Plain::Comment(c)) =
                                    cipher::decrypt_value(text, self.key, &self.aad())
                            {
                                *text = c;
                            }
                        }
                        Key::Name(name) => {
                            self.path.push(name.clone());
                            let r = self.walk(v);
                            self.path.pop();
                            r?;
                        }
                    }
                }
                Ok(())
            }
            Value::List(items) => {
                // List indices are not part of the path in sops.
                for v in items.iter_mut() {
                    self.walk(v)?;
                }
                Ok(())
            }
            Value::Null => Ok(()),
            leaf => self.leaf(leaf),
        }
    }

    fn leaf(&mut self, value: &mut Value) -> Result<(), Error> {
        let encrypted = self.rules.should_be_encrypted(&self.path);
        if encrypted {
            let aad = self.aad();
            let Value::Str(text) = &*value else {
                return Err(Error::MalformedValue {
                    path: aad,
                    reason: "expected an encrypted string value",
                });
            };
            match cipher::decrypt_value(text, self.key, &aad)? {
                Plain::Value(v) => *value = v,
                Plain::Comment(_) => {
                    return Err(Error::MalformedValue {
                        path: aad,
                        reason: "a value decrypted to a comment",
                    });
                }
            }
        }
        if !self.rules.mac_only_encrypted || encrypted {
            self.hash.update(to_bytes(value));
        }
        Ok(())
    }
}

/// sops' `ToBytes`: the canonical bytes of a scalar for the MAC.
fn to_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::Str(s) => s.as_bytes().to_vec(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::Float(f) => format_go_float(*f).into_bytes(),
        Value::Bool(true) => b"True".to_vec(),
        Value::Bool(false) => b"False".to_vec(),
        Value::Bytes(b) => b.clone(),
        Value::Map(_) | Value::List(_) | Value::Null => Vec::new(),
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
pub fn format_go_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_formatting_matches_strconv_f_minus_one() {
        assert_eq!(format_go_float(1.0), "1");
        assert_eq!(format_go_float(1.5), "1.5");
        assert_eq!(format_go_float(1e21), "1000000000000000000000");
        assert_eq!(format_go_float(0.0000001), "0.0000001");
        assert_eq!(format_go_float(f64::INFINITY), "+Inf");
    }

    #[test]
    fn encrypted_regex_selects_only_matching_path_components() {
        let rules = Rules {
            encrypted_regex: Regex::new("^(data|stringData)$").ok(),
            ..Rules::default()
        };
        assert!(rules.should_be_encrypted(&["stringData".into(), "key".into()]));
        assert!(!rules.should_be_encrypted(&["metadata".into(), "name".into()]));
    }

    #[test]
    fn unencrypted_suffix_applies_to_any_component_of_the_path() {
        let rules = Rules {
            unencrypted_suffix: Some("_unencrypted".into()),
            ..Rules::default()
        };
        assert!(!rules.should_be_encrypted(&["a_unencrypted".into(), "b".into()]));
        assert!(rules.should_be_encrypted(&["a".into(), "b".into()]));
    }

    #[test]
    fn walk_decrypts_with_the_colon_joined_path_as_additional_data() {
        let key = [3u8; 32];
        let enc = cipher::encrypt_for_test(b"42", "int", &key, "outer:inner:");
        let mut tree = vec![Value::Map(vec![(
            Key::Name("outer".into()),
            Value::Map(vec![(Key::Name("inner".into()), Value::Str(enc))]),
        )])];
        let mac = decrypt_branches(&mut tree, &Rules::default(), &key).unwrap();
        let Value::Map(items) = &tree[0] else {
            panic!()
        };
        assert_eq!(
            items[0].1,
            Value::Map(vec![(Key::Name("inner".into()), Value::Int(42))])
        );
        assert_eq!(mac, hex::encode_upper(Sha512::digest(b"42")));
    }

    #[test]
    fn walk_with_a_different_path_fails_authentication() {
        let key = [3u8; 32];
        let enc = cipher::encrypt_for_test(b"secret", "str", &key, "a:");
        let mut tree = vec![Value::Map(vec![(Key::Name("b".into()), Value::Str(enc))])];
        let err = decrypt_branches(&mut tree, &Rules::default(), &key).unwrap_err();
        assert!(matches!(err, Error::ValueDecryption { ref path } if path == "b:"));
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn mac_only_encrypted_skips_clear_values_and_seeds_the_hash() {
        let key = [9u8; 32];
        let enc = cipher::encrypt_for_test(b"s", "str", &key, "data:");
        let mut tree = vec![Value::Map(vec![
            (Key::Name("kind".into()), Value::Str("Secret".into())),
            (Key::Name("data".into()), Value::Str(enc)),
        ])];
        let rules = Rules {
            encrypted_regex: Regex::new("^data$").ok(),
            mac_only_encrypted: true,
            ..Rules::default()
        };
        let mac = decrypt_branches(&mut tree, &rules, &key).unwrap();
        let mut h = Sha512::new();
        h.update(MAC_ONLY_ENCRYPTED_INIT);
        h.update(b"s");
        assert_eq!(mac, hex::encode_upper(h.finalize()));
    }
}
