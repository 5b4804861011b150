//! The `sops` metadata block: master keys per key group, the encrypted MAC and the rules that say
//! which values are encrypted.

use regex::Regex;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::error::Error;
use crate::tree::Rules;

/// Key services sops supports that this crate cannot use (they need a network service).
const REMOTE_SERVICES: [&str; 5] = ["kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"];

/// A master key that encrypts (a part of) the data key.
#[derive(Debug, Clone, PartialEq)]
pub enum MasterKey {
    Age {
        recipient: String,
        enc: String,
    },
    Pgp {
        fingerprint: String,
        enc: String,
    },
    /// A key of a remote key service, named by its metadata key (`hc_vault`, `kms`, ...).
    Remote(&'static str),
}

/// Parsed sops metadata.
#[derive(Debug)]
pub struct Metadata {
    pub key_groups: Vec<Vec<MasterKey>>,
    pub shamir_threshold: usize,
    pub lastmodified: String,
    /// The encrypted MAC; absent in files whose MAC was stripped, which only decrypt when the
    /// MAC is not verified.
    pub mac: Option<String>,
    pub rules: Rules,
}

#[derive(Deserialize)]
struct AgeEntry {
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    enc: String,
}

#[derive(Deserialize)]
struct PgpEntry {
    #[serde(default)]
    fp: String,
    #[serde(default)]
    enc: String,
}

fn str_field<'a>(m: &'a serde_json::Map<String, Json>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Json::as_str).filter(|s| !s.is_empty())
}

fn group_from(m: &serde_json::Map<String, Json>) -> Result<Vec<MasterKey>, Error> {
    let mut keys = Vec::new();
    // sops tries age before PGP (DefaultDecryptionOrder); keep that order here.
    if let Some(list) = m.get("age").filter(|v| !v.is_null()) {
        let entries: Vec<AgeEntry> = serde_json::from_value(list.clone())
            .map_err(|e| Error::InvalidMetadata(format!("age: {e}")))?;
        keys.extend(entries.into_iter().map(|a| MasterKey::Age {
            recipient: a.recipient,
            enc: a.enc,
        }));
    }
    if let Some(list) = m.get("pgp").filter(|v| !v.is_null()) {
        let entries: Vec<PgpEntry> = serde_json::from_value(list.clone())
            .map_err(|e| Error::InvalidMetadata(format!("pgp: {e}")))?;
        keys.extend(entries.into_iter().map(|p| MasterKey::Pgp {
            fingerprint: p.fp,
            enc: p.enc,
        }));
    }
    for service in REMOTE_SERVICES {
        if let Some(Json::Array(list)) = m.get(service) {
            keys.extend(list.iter().map(|_| MasterKey::Remote(service)));
        }
    }
    Ok(keys)
}

fn regex_field(m: &serde_json::Map<String, Json>, key: &str) -> Result<Option<Regex>, Error> {
    str_field(m, key)
        .map(|r| Regex::new(r).map_err(|_| Error::InvalidMetadata(format!("invalid {key}"))))
        .transpose()
}

impl Metadata {
    /// Reads the metadata from its JSON form (YAML and flattened dotenv/INI metadata are converted
    /// to it first), applying sops' `ToInternal` defaults.
    pub fn from_json(value: &Json) -> Result<Metadata, Error> {
        let m = value
            .as_object()
            .ok_or_else(|| Error::InvalidMetadata("the sops entry is not a mapping".into()))?;
        let mac = str_field(m, "mac").map(str::to_string);
        let lastmodified = str_field(m, "lastmodified")
            .ok_or_else(|| Error::InvalidMetadata("no lastmodified".into()))?;
        let lastmodified = normalize_rfc3339(lastmodified)?;

        let key_groups = match m.get("key_groups") {
            Some(Json::Array(groups)) if !groups.is_empty() => groups
                .iter()
                .map(|g| {
                    g.as_object()
                        .ok_or_else(|| Error::InvalidMetadata("key group is not a mapping".into()))
                        .and_then(group_from)
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => vec![group_from(m)?],
        };
        let shamir_threshold = match m.get("shamir_threshold") {
            None | Some(Json::Null) => 0,
            Some(Json::Number(n)) => n.as_u64().unwrap_or(0) as usize,
            Some(Json::String(s)) => s
                .parse()
                .map_err(|_| Error::InvalidMetadata("shamir_threshold is not an integer".into()))?,
            Some(_) => {
                return Err(Error::InvalidMetadata(
                    "shamir_threshold is not an integer".into(),
                ));
            }
        };
        let shamir_threshold = if shamir_threshold == 0 {
            key_groups.len()
        } else {
            shamir_threshold
        };

        if str_field(m, "encrypted_comment_regex").is_some()
            || str_field(m, "unencrypted_comment_regex").is_some()
        {
            return Err(Error::Unsupported(
                "encrypted_comment_regex / unencrypted_comment_regex".into(),
            ));
        }
        let mut rules = Rules {
            unencrypted_suffix: str_field(m, "unencrypted_suffix").map(str::to_string),
            encrypted_suffix: str_field(m, "encrypted_suffix").map(str::to_string),
            unencrypted_regex: regex_field(m, "unencrypted_regex")?,
            encrypted_regex: regex_field(m, "encrypted_regex")?,
            mac_only_encrypted: match m.get("mac_only_encrypted") {
                Some(Json::Bool(b)) => *b,
                Some(Json::String(s)) => s == "true",
                _ => false,
            },
        };
        let set = [
            rules.unencrypted_suffix.is_some(),
            rules.encrypted_suffix.is_some(),
            rules.unencrypted_regex.is_some(),
            rules.encrypted_regex.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if set > 1 {
            return Err(Error::InvalidMetadata(
                "more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex and unencrypted_regex is set".into(),
            ));
        }
        if set == 0 {
            rules.unencrypted_suffix = Some("_unencrypted".into());
        }
        Ok(Metadata {
            key_groups,
            shamir_threshold,
            lastmodified,
            mac,
            rules,
        })
    }
}

/// sops parses `lastmodified` as RFC 3339 and formats it back with Go's `time.RFC3339`, which
/// drops fractional seconds; that string is the MAC's additional data.
fn normalize_rfc3339(s: &str) -> Result<String, Error> {
    let bad = || Error::InvalidMetadata("lastmodified is not an RFC 3339 timestamp".into());
    if s.len() < 20 || !s.is_char_boundary(19) {
        return Err(bad());
    }
    let (head, rest) = s.split_at(19);
    let bytes = head.as_bytes();
    let digits_ok = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        .iter()
        .all(|&i| bytes[i].is_ascii_digit());
    if !digits_ok || bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' || bytes[16] != b':'
    {
        return Err(bad());
    }
    let zone = match rest.strip_prefix('.') {
        Some(frac) => frac.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    let zone = match zone {
        "Z" | "z" => "Z".to_string(),
        z if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) => {
            if &z[1..] == "00:00" {
                "Z".to_string()
            } else {
                z.to_string()
            }
        }
        _ => return Err(bad()),
    };
    Ok(format!("{}T{}{}", &head[..10], &head[11..], zone))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lastmodified_drops_fractional_seconds_like_go_rfc3339() {
        assert_eq!(
            normalize_rfc3339("2024-11-12T13:33:42.123Z").unwrap(),
            "2024-11-12T13:33:42Z"
        );
        assert_eq!(
            normalize_rfc3339("2024-11-12T13:33:42+02:00").unwrap(),
            "2024-11-12T13:33:42+02:00"
        );
        assert!(normalize_rfc3339("yesterday").is_err());
    }

    #[test]
    fn top_level_keys_form_one_group_with_age_before_pgp() {
        let md = Metadata::from_json(&json!({
            "pgp": [{"fp": "F", "enc": "p"}],
            "age": [{"recipient": "age1x", "enc": "a"}],
            "hc_vault": [],
            "lastmodified": "2024-11-12T13:33:42Z",
            "mac": "ENC[x]",
        }))
        .unwrap();
        assert_eq!(md.key_groups.len(), 1);
        assert!(matches!(md.key_groups[0][0], MasterKey::Age { .. }));
        assert!(matches!(md.key_groups[0][1], MasterKey::Pgp { .. }));
        assert_eq!(md.rules.unencrypted_suffix.as_deref(), Some("_unencrypted"));
    }

    #[test]
    fn key_groups_default_threshold_is_the_number_of_groups() {
        let md = Metadata::from_json(&json!({
            "key_groups": [{"age": [{"recipient": "r", "enc": "e"}]}, {"pgp": [{"fp": "f", "enc": "e"}]}],
            "lastmodified": "2024-11-12T13:33:42Z",
            "mac": "m",
            "encrypted_regex": "^data$",
        }))
        .unwrap();
        assert_eq!(md.key_groups.len(), 2);
        assert_eq!(md.shamir_threshold, 2);
        assert!(md.rules.unencrypted_suffix.is_none());
    }

    #[test]
    fn metadata_without_mac_parses_with_no_mac() {
        let md = Metadata::from_json(&json!({"lastmodified": "2024-11-12T13:33:42Z"})).unwrap();
        assert_eq!(md.mac, None);
    }

    #[test]
    fn metadata_without_lastmodified_is_rejected() {
        let err = Metadata::from_json(&json!({"mac": "ENC[x]"}));
        assert!(matches!(err, Err(Error::InvalidMetadata(_))));
    }
}
