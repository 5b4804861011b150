//! Sprig's certificate functions: genPrivateKey, genCA, genSelfSignedCert, genSignedCert and the
//! `WithKey` variants. Sprig makes RSA-2048 keys; here keys are ECDSA P-256 (or Ed25519 on
//! request) because the available crypto backend cannot generate RSA keys. Certificates carry
//! Sprig's fields: CN, IP and DNS SANs, validity from now for the given days, serverAuth and
//! clientAuth usages, and a random 128-bit serial.

use std::net::IpAddr;

use base64::Engine as _;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};

use super::args::{arity, int, reg, string, strval};
use crate::func::{FuncError, FuncMap};
use crate::value::{Object, Value};

/// A certificate and its key as PEM, like Sprig's `certificate` struct (`.Cert`, `.Key`).
struct Certificate {
    cert: String,
    key: String,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("certificate")
            .field("Cert", &self.cert)
            .finish_non_exhaustive()
    }
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }
    fn field(&self, name: &str) -> Option<Result<Value, FuncError>> {
        match name {
            "Cert" => Some(Ok(Value::String(self.cert.clone()))),
            "Key" => Some(Ok(Value::String(self.key.clone()))),
            _ => None,
        }
    }
    fn data(&self) -> Value {
        Value::map_from([
            ("Cert", Value::String(self.cert.clone())),
            ("Key", Value::String(self.key.clone())),
        ])
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

fn failed(e: impl std::fmt::Display) -> FuncError {
    FuncError::failed(e.to_string())
}

fn new_key() -> Result<KeyPair, FuncError> {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)
}

fn parse_key(pem: &str) -> Result<KeyPair, FuncError> {
    KeyPair::from_pem(pem).map_err(|e| FuncError::failed(format!("error parsing private key: {e}")))
}

/// Sprig's getBaseCertTemplate.
fn base_params(
    cn: &str,
    ips: &[Value],
    dns: &[Value],
    days: i64,
) -> Result<CertificateParams, FuncError> {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    let now = chrono::Utc::now().timestamp();
    let to_time = |secs: i64| time::OffsetDateTime::from_unix_timestamp(secs).map_err(failed);
    p.not_before = to_time(now)?;
    p.not_after = to_time(now.saturating_add(days.clamp(0, 3_650_000).saturating_mul(86_400)))?;
    let mut serial = [0u8; 16];
    for b in &mut serial {
        *b = fastrand::u8(..);
    }
    serial[0] &= 0x7f;
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    for ip in ips {
        let s = strval(ip);
        let addr: IpAddr = s
            .parse()
            .map_err(|_| FuncError::failed(format!("error parsing ip: {s}")))?;
        p.subject_alt_names.push(SanType::IpAddress(addr));
    }
    for d in dns {
        let s = strval(d);
        let name = s.clone().try_into().map_err(failed)?;
        p.subject_alt_names.push(SanType::DnsName(name));
    }
    p.key_usages = vec![
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.is_ca = IsCa::ExplicitNoCa;
    Ok(p)
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) => l.as_ref().clone(),
        Value::Nil => Vec::new(),
        other => vec![other.clone()],
    }
}

fn finish(
    params: CertificateParams,
    key_pair: KeyPair,
    issuer: Option<(String, String)>,
) -> Result<Value, FuncError> {
    let cert = match issuer {
        Some((ca_cert, ca_key)) => {
            let iss = Issuer::from_ca_cert_pem(&ca_cert, parse_key(&ca_key)?)
                .map_err(|e| FuncError::failed(format!("error parsing certificate: {e}")))?;
            params.signed_by(&key_pair, &iss).map_err(failed)?
        }
        None => params.self_signed(&key_pair).map_err(failed)?,
    };
    Ok(cert_value(cert.pem(), key_pair.serialize_pem()))
}

fn cert_value(cert: String, key: String) -> Value {
    Value::Object(Arc::new(Certificate { cert, key }))
}

fn gen_ca(a: &[Value], key: Option<KeyPair>) -> Result<Value, FuncError> {
    let mut p = base_params(string(a, 0)?, &[], &[], int(a, 1)?)?;
    p.key_usages = vec![
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
    ];
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    finish(
        p,
        match key {
            Some(k) => k,
            None => new_key()?,
        },
        None,
    )
}

/// The CA's certificate and key PEM: a certificate object or a dict with `Cert` and `Key`.
fn ca_arg(v: &Value) -> Result<(String, String), FuncError> {
    let get = |name: &str| -> Option<String> {
        match v {
            Value::Object(o) => o.field(name).and_then(Result::ok),
            Value::Map(m) => m.get(name),
            _ => None,
        }
        .and_then(|x| x.as_str().map(str::to_string))
    };
    match (get("Cert"), get("Key")) {
        (Some(c), Some(k)) => Ok((c, k)),
        _ => Err(FuncError::failed("unable to decode certificate")),
    }
}

pub(crate) fn register(m: &mut FuncMap) {
    reg(m, "genPrivateKey", |a| {
        arity(a, 1)?;
        let key = match string(a, 0)? {
            "ecdsa" => new_key()?,
            "ed25519" => KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(failed)?,
            "" | "rsa" | "dsa" => {
                return Err(FuncError::failed(
                    "rsa and dsa keys cannot be generated here; use ecdsa or ed25519",
                ));
            }
            other => return Ok(Value::String(format!("Unknown type {other}"))),
        };
        Ok(Value::String(key.serialize_pem()))
    });
    reg(m, "buildCustomCert", |a| {
        arity(a, 2)?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let cert = b64
            .decode(string(a, 0)?)
            .map_err(|_| FuncError::failed("unable to decode base64 certificate"))?;
        let key = b64
            .decode(string(a, 1)?)
            .map_err(|_| FuncError::failed("unable to decode base64 private key"))?;
        let cert = String::from_utf8_lossy(&cert).into_owned();
        let key = String::from_utf8_lossy(&key).into_owned();
        let key_pair = parse_key(&key)?;
        Issuer::from_ca_cert_pem(&cert, key_pair).map_err(|e| {
            FuncError::failed(format!("error parsing certificate: decodedCert.Bytes: {e}"))
        })?;
        Ok(cert_value(cert, key))
    });
    reg(m, "genCA", |a| {
        arity(a, 2)?;
        gen_ca(a, None)
    });
    reg(m, "genCAWithKey", |a| {
        arity(a, 3)?;
        let key = parse_key(string(a, 2)?)?;
        gen_ca(a, Some(key))
    });
    reg(m, "genSelfSignedCert", |a| {
        arity(a, 4)?;
        let p = base_params(string(a, 0)?, &list(&a[1]), &list(&a[2]), int(a, 3)?)?;
        finish(p, new_key()?, None)
    });
    reg(m, "genSelfSignedCertWithKey", |a| {
        arity(a, 5)?;
        let p = base_params(string(a, 0)?, &list(&a[1]), &list(&a[2]), int(a, 3)?)?;
        finish(p, parse_key(string(a, 4)?)?, None)
    });
    reg(m, "genSignedCert", |a| {
        arity(a, 5)?;
        let ca = ca_arg(&a[4])?;
        let p = base_params(string(a, 0)?, &list(&a[1]), &list(&a[2]), int(a, 3)?)?;
        finish(p, new_key()?, Some(ca))
    });
    reg(m, "genSignedCertWithKey", |a| {
        arity(a, 6)?;
        let ca = ca_arg(&a[4])?;
        let p = base_params(string(a, 0)?, &list(&a[1]), &list(&a[2]), int(a, 3)?)?;
        finish(p, parse_key(string(a, 5)?)?, Some(ca))
    });
}
