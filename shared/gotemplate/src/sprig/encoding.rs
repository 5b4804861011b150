//! Sprig encodings, hashes, uuid, urls and `fail`.

use std::collections::BTreeMap;

use base64::Engine as _;
use sha2::Digest as _;

use super::args::{arity, reg, string, strval};
use crate::builtins::wrong_type;
use crate::func::{FuncError, FuncMap};
use crate::value::Value;

pub(crate) fn register(m: &mut FuncMap) {
    reg(m, "b64enc", |a| {
        arity(a, 1)?;
        Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(string(a, 0)?),
        ))
    });
    reg(m, "b64dec", |a| {
        arity(a, 1)?;
        let s = string(a, 0)?;
        Ok(Value::String(
            match base64::engine::general_purpose::STANDARD.decode(s) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => go_base64_error(&e),
            },
        ))
    });
    reg(m, "b32enc", |a| {
        arity(a, 1)?;
        Ok(Value::String(base32_encode(string(a, 0)?.as_bytes())))
    });
    reg(m, "b32dec", |a| {
        arity(a, 1)?;
        Ok(Value::String(match base32_decode(string(a, 0)?) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(at) => format!("illegal base32 data at input byte {at}"),
        }))
    });
    reg(m, "sha1sum", |a| {
        arity(a, 1)?;
        Ok(Value::String(hex::encode(sha1::Sha1::digest(string(
            a, 0,
        )?))))
    });
    reg(m, "sha256sum", |a| {
        arity(a, 1)?;
        Ok(Value::String(hex::encode(sha2::Sha256::digest(string(
            a, 0,
        )?))))
    });
    reg(m, "sha512sum", |a| {
        arity(a, 1)?;
        Ok(Value::String(hex::encode(sha2::Sha512::digest(string(
            a, 0,
        )?))))
    });
    reg(m, "adler32sum", |a| {
        arity(a, 1)?;
        Ok(Value::String(adler32(string(a, 0)?.as_bytes()).to_string()))
    });
    reg(m, "uuidv4", |a| {
        arity(a, 0)?;
        Ok(Value::String(uuidv4()))
    });
    reg(m, "fail", |a| {
        arity(a, 1)?;
        Err(FuncError::failed(string(a, 0)?))
    });
    reg(m, "urlParse", |a| {
        arity(a, 1)?;
        url_parse(string(a, 0)?)
    });
    reg(m, "urlJoin", |a| {
        arity(a, 1)?;
        match &a[0] {
            Value::Map(d) => Ok(Value::String(url_join(&d.snapshot()))),
            v => Err(wrong_type("map[string]interface {}", v)),
        }
    });
}

/// Go's wording for a bad base64 input: the offset of the first bad byte.
fn go_base64_error(e: &base64::DecodeError) -> String {
    let at = match e {
        base64::DecodeError::InvalidByte(i, _) | base64::DecodeError::InvalidLastSymbol(i, _) => *i,
        base64::DecodeError::InvalidLength(n) => *n - (*n % 4),
        base64::DecodeError::InvalidPadding => 0,
    };
    format!("illegal base64 data at input byte {at}")
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from(buf[0]) << 32
            | u64::from(buf[1]) << 24
            | u64::from(buf[2]) << 16
            | u64::from(buf[3]) << 8
            | u64::from(buf[4]);
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(B32[((n >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base32 with padding; the error is the offset of the first bad byte.
fn base32_decode(s: &str) -> Result<Vec<u8>, usize> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(8) {
        return Err(b.len() - b.len() % 8);
    }
    let mut out = Vec::with_capacity(b.len() / 8 * 5);
    for (ci, chunk) in b.chunks(8).enumerate() {
        let mut n: u64 = 0;
        let mut count = 0;
        for (i, &c) in chunk.iter().enumerate() {
            if c == b'=' {
                if chunk[i..].iter().any(|&x| x != b'=') || ci * 8 + 8 != b.len() {
                    return Err(ci * 8 + i);
                }
                break;
            }
            let v = B32.iter().position(|&x| x == c).ok_or(ci * 8 + i)?;
            n = n << 5 | v as u64;
            count += 1;
        }
        let bytes = match count {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => return Err(ci * 8 + count),
        };
        n <<= 5 * (8 - count);
        for i in 0..bytes {
            out.push((n >> (32 - i * 8)) as u8);
        }
    }
    Ok(out)
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    b << 16 | a
}

fn uuidv4() -> String {
    let mut b = [0u8; 16];
    for x in &mut b {
        *x = fastrand::u8(..);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Sprig's `urlParse`: the parts of a URL as a dict (Go's net/url field meanings).
fn url_parse(raw: &str) -> Result<Value, FuncError> {
    let mut rest = raw;
    let mut fragment = String::new();
    if let Some((r, f)) = rest.split_once('#') {
        rest = r;
        fragment = f.to_string();
    }
    let mut scheme = String::new();
    if let Some(i) = rest.find(':') {
        let cand = &rest[..i];
        if !cand.is_empty()
            && cand.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            scheme = cand.to_lowercase();
            rest = &rest[i + 1..];
        }
    }
    let mut query = String::new();
    if let Some((r, q)) = rest.split_once('?') {
        rest = r;
        query = q.to_string();
    }
    let (mut host, mut userinfo, mut opaque) = (String::new(), String::new(), String::new());
    let path;
    if let Some(r) = rest.strip_prefix("//") {
        let (authority, p) = match r.find('/') {
            Some(i) => (&r[..i], &r[i..]),
            None => (r, ""),
        };
        path = p.to_string();
        let auth = match authority.rsplit_once('@') {
            Some((u, h)) => {
                userinfo = u.to_string();
                h
            }
            None => authority,
        };
        host = auth.to_string();
    } else if !scheme.is_empty() && !rest.starts_with('/') {
        opaque = rest.to_string();
        path = String::new();
    } else {
        path = rest.to_string();
    }
    let hostname = if host.starts_with('[') {
        host.split(']')
            .next()
            .unwrap_or("")
            .trim_start_matches('[')
            .to_string()
    } else {
        host.split(':').next().unwrap_or("").to_string()
    };
    let mut d = BTreeMap::new();
    for (k, v) in [
        ("scheme", scheme),
        ("host", host),
        ("hostname", hostname),
        ("path", path),
        ("query", query),
        ("opaque", opaque),
        ("fragment", fragment),
        ("userinfo", userinfo),
    ] {
        d.insert(k.to_string(), Value::String(v));
    }
    Ok(Value::map(d))
}

/// Sprig's `urlJoin`: the inverse of `urlParse`.
fn url_join(d: &BTreeMap<String, Value>) -> String {
    let get = |k: &str| d.get(k).map(strval).unwrap_or_default();
    let mut out = String::new();
    let scheme = get("scheme");
    if !scheme.is_empty() {
        out.push_str(&scheme);
        out.push(':');
    }
    let opaque = get("opaque");
    if !opaque.is_empty() {
        out.push_str(&opaque);
    } else {
        let host = get("host");
        let userinfo = get("userinfo");
        if !host.is_empty() || !userinfo.is_empty() || !scheme.is_empty() {
            if !host.is_empty() || !userinfo.is_empty() {
                out.push_str("//");
            }
            if !userinfo.is_empty() {
                out.push_str(&userinfo);
                out.push('@');
            }
            out.push_str(&host);
        }
        let path = get("path");
        if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
            out.push('/');
        }
        out.push_str(&path);
    }
    let query = get("query");
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query);
    }
    let fragment = get("fragment");
    if !fragment.is_empty() {
        out.push('#');
        out.push_str(&fragment);
    }
    out
}
