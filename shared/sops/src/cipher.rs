//! sops' value cipher: `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]` with AES-256-GCM, a
//! 32-byte nonce and the value's path as additional data.

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U32;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

use crate::error::Error;
use crate::tree::Value;

/// sops always writes 32-byte IVs (`nonceSize` in sops' aes package).
type SopsGcm = AesGcm<Aes256, U32>;

const PREFIX: &str = "ENC[AES256_GCM,";

/// Go's `base64.StdEncoding` ignores non-zero trailing bits; so do we.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

struct Parts {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    kind: String,
}

fn parse(value: &str, path: &str) -> Result<Parts, Error> {
    let malformed = |reason| Error::MalformedValue {
        path: path.to_string(),
        reason,
    };
    let body = value
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(|| malformed("not in ENC[AES256_GCM,...] format"))?;
    // Base64 never contains ',', so the fields split cleanly.
    let mut data = None;
    let mut iv = None;
    let mut tag = None;
    let mut kind = None;
    for field in body.split(',') {
        let (name, val) = field
            .split_once(':')
            .ok_or_else(|| malformed("field without ':'"))?;
        match name {
            "data" => data = Some(val),
            "iv" => iv = Some(val),
            "tag" => tag = Some(val),
            "type" => kind = Some(val),
            _ => return Err(malformed("unknown field")),
        }
    }
    let decode = |v: Option<&str>, what| -> Result<Vec<u8>, Error> {
        let v = v.ok_or_else(|| malformed(what))?;
        LENIENT.decode(v).map_err(|_| malformed("invalid base64"))
    };
    Ok(Parts {
        data: decode(data, "missing data")?,
        iv: decode(iv, "missing iv")?,
        tag: decode(tag, "missing tag")?,
        kind: kind.ok_or_else(|| malformed("missing type"))?.to_string(),
    })
}

/// Decrypts raw bytes and returns them with the declared sops type.
fn open(value: &str, key: &[u8; 32], aad: &str) -> Result<(Vec<u8>, String), Error> {
    let parts = parse(value, aad)?;
    if parts.iv.len() != 32 {
        return Err(Error::MalformedValue {
            path: aad.to_string(),
            reason: "iv is not 32 bytes",
        });
    }
    if parts.tag.len() != 16 {
        return Err(Error::MalformedValue {
            path: aad.to_string(),
            reason: "tag is not 16 bytes",
        });
    }
    let cipher = SopsGcm::new(GenericArray::from_slice(key));
    let mut sealed = parts.data;
    sealed.extend_from_slice(&parts.tag);
    let plain = cipher
        .decrypt(
            GenericArray::from_slice(&parts.iv),
            Payload {
                msg: &sealed,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| Error::ValueDecryption {
            path: aad.to_string(),
        })?;
    Ok((plain, parts.kind))
}

/// The result of decrypting a tree value: either a value or a comment.
pub enum Plain {
    Value(Value),
    Comment(String),
}

/// Decrypts one sops value; `aad` is the path string (`key1:key2:`).
/// An empty string decrypts to an empty string, as in sops.
pub fn decrypt_value(value: &str, key: &[u8; 32], aad: &str) -> Result<Plain, Error> {
    if value.is_empty() {
        return Ok(Plain::Value(Value::Str(String::new())));
    }
    let (plain, kind) = open(value, key, aad)?;
    let bad = |reason| Error::MalformedValue {
        path: aad.to_string(),
        reason,
    };
    let text = || String::from_utf8(plain.clone()).map_err(|_| bad("plaintext is not UTF-8"));
    Ok(match kind.as_str() {
        "str" => Plain::Value(Value::Str(text()?)),
        "int" | "int64" => Plain::Value(Value::Int(
            text()?
                .parse()
                .map_err(|_| bad("type int but not an integer"))?,
        )),
        "float" => Plain::Value(Value::Float(
            text()?
                .parse()
                .map_err(|_| bad("type float but not a number"))?,
        )),
        "bool" => Plain::Value(Value::Bool(
            parse_go_bool(&text()?).ok_or_else(|| bad("type bool but not a boolean"))?,
        )),
        "bytes" => Plain::Value(Value::Bytes(plain)),
        "comment" => Plain::Comment(text()?),
        _ => return Err(bad("unknown datatype")),
    })
}

/// Decrypts the stored MAC (a `str` value whose additional data is the lastmodified timestamp).
pub fn decrypt_mac(value: &str, key: &[u8; 32], lastmodified: &str) -> Result<String, Error> {
    let (plain, _) = open(value, key, lastmodified).map_err(|e| match e {
        Error::ValueDecryption { .. } => Error::MacMismatch,
        other => other,
    })?;
    String::from_utf8(plain).map_err(|_| Error::MacMismatch)
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) fn encrypt_for_test(plain: &[u8], kind: &str, key: &[u8; 32], aad: &str) -> String {
    use base64::engine::general_purpose::STANDARD;
    let cipher = SopsGcm::new(GenericArray::from_slice(key));
    let iv = [7u8; 32];
    let sealed = cipher
        .encrypt(
            GenericArray::from_slice(&iv),
            Payload {
                msg: plain,
                aad: aad.as_bytes(),
            },
        )
        .unwrap_or_default();
    let (data, tag) = sealed.split_at(sealed.len() - 16);
    format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]",
        STANDARD.encode(data),
        STANDARD.encode(iv),
        STANDARD.encode(tag),
        kind
    )
}
