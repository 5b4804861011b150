//! Sprig's password and cipher functions: `bcrypt` and `htpasswd` (Go's bcrypt `$2a$`, cost
//! 10, random salt), `derivePassword` (the Master Password algorithm: scrypt then HMAC-SHA256
//! over templates), `encryptAES`/`decryptAES` (AES-256-CBC, PKCS#7, random IV, base64).

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use hmac::Mac as _;

use super::args::{arity, int, reg, string};
use crate::func::{FuncError, FuncMap};
use crate::value::Value;

/// Go's `bcrypt.DefaultCost`.
const GO_DEFAULT_COST: u32 = 10;

fn bcrypt_hash(password: &str) -> Result<String, FuncError> {
    bcrypt::hash_with_result(password, GO_DEFAULT_COST)
        .map(|h| h.format_for_version(bcrypt::Version::TwoA))
        .map_err(|e| FuncError::failed(e.to_string()))
}

const MASTER_PASSWORD_SEED: &str = "com.lyndir.masterpassword";

fn password_templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// Sprig's derivePassword (scrypt N=32768, r=8, p=2).
pub(crate) fn derive_password(
    counter: u32,
    kind: &str,
    password: &str,
    user: &str,
    site: &str,
) -> String {
    derive_password_with_cost(15, counter, kind, password, user, site)
}

/// derivePassword with scrypt's N as a power of two (tests use a small N: unoptimised scrypt
/// at Sprig's cost takes tens of seconds).
fn derive_password_with_cost(
    log_n: u8,
    counter: u32,
    kind: &str,
    password: &str,
    user: &str,
    site: &str,
) -> String {
    let Some(templates) = password_templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let len_be = |s: &str| u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes();
    let mut salt = MASTER_PASSWORD_SEED.as_bytes().to_vec();
    salt.extend_from_slice(&len_be(user));
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let params = match scrypt::Params::new(log_n, 8, 2, 64) {
        Ok(p) => p,
        Err(e) => return format!("failed to derive password: {e}"),
    };
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return format!("failed to derive password: {e}");
    }
    let mut msg = MASTER_PASSWORD_SEED.as_bytes().to_vec();
    msg.extend_from_slice(&len_be(site));
    msg.extend_from_slice(site.as_bytes());
    msg.extend_from_slice(&counter.to_be_bytes());
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key) else {
        return "failed to derive password: bad key".into();
    };
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let template = templates[usize::from(seed[0]) % templates.len()];
    template
        .bytes()
        .enumerate()
        .map(|(i, c)| {
            let chars = template_chars(c);
            char::from(chars[usize::from(seed[i + 1]) % chars.len()])
        })
        .collect()
}

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// The password as Sprig's 32-byte AES key: truncated or zero-padded.
fn aes_key(password: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password.as_bytes()[..n]);
    key
}

pub(crate) fn encrypt_aes(password: &str, plaintext: &str) -> String {
    if plaintext.is_empty() {
        return String::new();
    }
    let mut iv = [0u8; 16];
    for b in &mut iv {
        *b = fastrand::u8(..);
    }
    let ct = Aes256CbcEnc::new(&aes_key(password).into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plaintext.as_bytes());
    let mut out = iv.to_vec();
    out.extend_from_slice(&ct);
    base64::engine::general_purpose::STANDARD.encode(out)
}

pub(crate) fn decrypt_aes(password: &str, crypt64: &str) -> Result<String, FuncError> {
    if crypt64.is_empty() {
        return Ok(String::new());
    }
    let data = base64::engine::general_purpose::STANDARD
        .decode(crypt64)
        .map_err(|e| FuncError::failed(e.to_string()))?;
    if data.len() < 32 || data.len() % 16 != 0 {
        return Err(FuncError::failed("crypto/cipher: input not full blocks"));
    }
    let (iv, ct) = data.split_at(16);
    let mut iv_arr = [0u8; 16];
    iv_arr.copy_from_slice(iv);
    let pt = Aes256CbcDec::new(&aes_key(password).into(), &iv_arr.into())
        .decrypt_padded_vec_mut::<Pkcs7>(ct)
        .map_err(|_| FuncError::failed("crypto/cipher: invalid padding"))?;
    Ok(String::from_utf8_lossy(&pt).into_owned())
}

pub(crate) fn register(m: &mut FuncMap) {
    reg(m, "derivePassword", |a| {
        arity(a, 5)?;
        let counter = u32::try_from(int(a, 0)?)
            .map_err(|_| FuncError::failed("counter must fit in uint32"))?;
        Ok(Value::String(derive_password(
            counter,
            string(a, 1)?,
            string(a, 2)?,
            string(a, 3)?,
            string(a, 4)?,
        )))
    });
    reg(m, "encryptAES", |a| {
        arity(a, 2)?;
        Ok(Value::String(encrypt_aes(string(a, 0)?, string(a, 1)?)))
    });
    reg(m, "decryptAES", |a| {
        arity(a, 2)?;
        Ok(Value::String(decrypt_aes(string(a, 0)?, string(a, 1)?)?))
    });
    reg(m, "randBytes", |a| {
        arity(a, 1)?;
        let n = usize::try_from(int(a, 0)?)
            .map_err(|_| FuncError::failed("count must be non-negative"))?;
        if n > super::args::MAX_OUTPUT {
            return Err(FuncError::failed("count too large"));
        }
        let bytes: Vec<u8> = (0..n).map(|_| fastrand::u8(..)).collect();
        Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ))
    });
    reg(m, "bcrypt", |a| {
        arity(a, 1)?;
        Ok(Value::String(bcrypt_hash(string(a, 0)?)?))
    });
    reg(m, "htpasswd", |a| {
        arity(a, 2)?;
        let user = string(a, 0)?;
        if user.contains(':') {
            return Ok(Value::String(format!("invalid username: {user}")));
        }
        Ok(Value::String(format!(
            "{user}:{}",
            bcrypt_hash(string(a, 1)?)?
        )))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_round_trips_and_rejects_garbage() {
        let ct = encrypt_aes("secretkey", "hello world");
        assert_ne!(ct, encrypt_aes("secretkey", "hello world"), "random IV");
        assert_eq!(
            decrypt_aes("secretkey", &ct).expect("decrypts"),
            "hello world"
        );
        assert_eq!(encrypt_aes("k", ""), "");
        assert!(decrypt_aes("k", "AAAA").is_err());
    }

    #[test]
    fn derive_password_follows_the_template_alphabet_and_is_deterministic() {
        let d = |counter, kind| {
            derive_password_with_cost(4, counter, kind, "password", "user", "example.com")
        };
        let a = d(1, "long");
        assert_eq!(a, d(1, "long"));
        assert_ne!(a, d(2, "long"));
        assert_eq!(a.len(), 14);
        let pin = d(1, "pin");
        assert!(
            pin.len() == 4 && pin.chars().all(|c| c.is_ascii_digit()),
            "{pin}"
        );
        assert_eq!(
            derive_password(1, "nope", "p", "u", "s"),
            "cannot find password template nope"
        );
    }

    #[test]
    fn htpasswd_line_verifies_with_bcrypt() {
        let mut m = FuncMap::new();
        register(&mut m);
        let f = m.get("htpasswd").cloned().expect("registered");
        struct NoCtx;
        impl crate::func::FuncContext for NoCtx {
            fn execute_template(&mut self, _: &str, _: &Value) -> Result<String, crate::Error> {
                Ok(String::new())
            }
            fn execute_text(
                &mut self,
                _: &str,
                _: &str,
                _: &Value,
            ) -> Result<String, crate::Error> {
                Ok(String::new())
            }
            fn template_name(&self) -> &str {
                ""
            }
            fn depth(&self) -> usize {
                0
            }
        }
        let out = f(&mut NoCtx, &[Value::from("admin"), Value::from("s3cret")]).expect("hash");
        let line = out.as_str().expect("string").to_string();
        let (user, hash) = line.split_once(':').expect("user:hash");
        assert_eq!(user, "admin");
        assert!(hash.starts_with("$2a$10$"), "{hash}");
        assert!(bcrypt::verify("s3cret", hash).expect("verify"));
        let bad = f(&mut NoCtx, &[Value::from("a:b"), Value::from("x")]).expect("no error");
        assert_eq!(bad.as_str(), Some("invalid username: a:b"));
    }
}
