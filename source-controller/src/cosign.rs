//! Cosign signature verification with public keys, as Flux's `spec.verify.provider: cosign`
//! with a `secretRef`: signatures stored by `cosign sign --key` under the tag
//! `sha256-<manifest digest hex>.sig` of the artifact's own repository.
//!
//! Only what keyed cosign signing produces is checked: the simple-signing payload layers and
//! their `dev.cosignproject.cosign/signature` annotation. No transparency log (Rekor) and no
//! certificates (keyless) yet.

use std::collections::BTreeMap;

use base64::Engine;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::der::pem;
use p256::pkcs8::{DecodePublicKey, ObjectIdentifier, SubjectPublicKeyInfoRef};

use crate::oci_registry::{Client, Descriptor, OciError};

/// Media type of the payload layers of a cosign signature manifest.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 of the DER signature over the layer's bytes.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// A payload is a small JSON document; anything larger is not a cosign payload.
const MAX_PAYLOAD_SIZE: u64 = 1 << 20;

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    #[error("no cosign public keys ('*.pub' entries) found in secret '{0}'")]
    NoKeys(String),
    #[error("public key '{name}' is not a PEM public key: {reason}")]
    InvalidKey { name: String, reason: String },
    #[error(
        "no supported public keys in the secret: {0} (only ECDSA P-256 keys, as made by 'cosign generate-key-pair', are supported yet)"
    )]
    UnsupportedKeys(String),
    #[error("no signature found for '{image}': {source}")]
    NoSignature { image: String, source: OciError },
    #[error("no matching signatures were found for '{image}'{skipped}")]
    NoMatch { image: String, skipped: String },
    #[error(
        "the signature of '{image}' is valid but signs digest '{signed}' instead of '{expected}'"
    )]
    DigestMismatch {
        image: String,
        signed: String,
        expected: String,
    },
    #[error("failed to fetch the signature of '{image}': {source}")]
    Registry { image: String, source: OciError },
}

/// The trusted keys of one Secret.
pub struct PublicKeys {
    keys: Vec<(String, VerifyingKey)>,
    /// `name: algorithm` of keys in a format cosign accepts but this verifier cannot use yet.
    unsupported: Vec<String>,
}

impl PublicKeys {
    /// Every Secret entry whose name ends in `.pub`, as Flux reads them.
    pub fn from_secret(
        secret_name: &str,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<PublicKeys, CosignError> {
        let mut keys = Vec::new();
        let mut unsupported = Vec::new();
        for (name, pem) in data.iter().filter(|(k, _)| k.ends_with(".pub")) {
            match parse_key(pem) {
                Ok(key) => keys.push((name.clone(), key)),
                Err(KeyError::Unsupported(alg)) => unsupported.push(format!("'{name}' is {alg}")),
                Err(KeyError::Invalid(reason)) => {
                    return Err(CosignError::InvalidKey {
                        name: name.clone(),
                        reason,
                    });
                }
            }
        }
        if keys.is_empty() {
            return Err(if unsupported.is_empty() {
                CosignError::NoKeys(secret_name.to_string())
            } else {
                CosignError::UnsupportedKeys(unsupported.join(", "))
            });
        }
        Ok(PublicKeys { keys, unsupported })
    }
}

enum KeyError {
    Unsupported(String),
    Invalid(String),
}

fn parse_key(pem_bytes: &[u8]) -> Result<VerifyingKey, KeyError> {
    let (label, der) = pem::decode_vec(pem_bytes).map_err(|e| KeyError::Invalid(e.to_string()))?;
    if label != "PUBLIC KEY" {
        return Err(KeyError::Invalid(format!(
            "expected a 'PUBLIC KEY' PEM block, found '{label}'"
        )));
    }
    let spki = SubjectPublicKeyInfoRef::try_from(der.as_slice())
        .map_err(|e| KeyError::Invalid(e.to_string()))?;
    let algorithm = spki.algorithm.oid;
    if algorithm == RSA_ENCRYPTION {
        return Err(KeyError::Unsupported("an RSA key".into()));
    }
    if algorithm == ED25519 {
        return Err(KeyError::Unsupported("an Ed25519 key".into()));
    }
    if algorithm != EC_PUBLIC_KEY {
        return Err(KeyError::Unsupported(format!(
            "a key of algorithm {algorithm}"
        )));
    }
    match spki.algorithm.parameters_oid() {
        Ok(curve) if curve == PRIME256V1 => {}
        Ok(curve) if curve == SECP384R1 => {
            return Err(KeyError::Unsupported("an ECDSA P-384 key".into()));
        }
        Ok(curve) if curve == SECP521R1 => {
            return Err(KeyError::Unsupported("an ECDSA P-521 key".into()));
        }
        Ok(curve) => {
            return Err(KeyError::Unsupported(format!(
                "an ECDSA key on curve {curve}"
            )));
        }
        Err(e) => return Err(KeyError::Invalid(e.to_string())),
    }
    VerifyingKey::from_public_key_der(&der).map_err(|e| KeyError::Invalid(e.to_string()))
}

/// The tag cosign stores the signature of `digest` under.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

/// What one payload layer says about `digest` under `keys`.
#[derive(Debug, PartialEq, Eq)]
pub enum LayerCheck {
    Verified,
    /// No key verifies the signature (or there is none).
    NoMatch,
    /// A key verifies the signature, but the payload is about another image.
    OtherDigest(String),
}

/// Checks one simple-signing payload and its base64 DER signature.
pub fn check_layer(
    keys: &PublicKeys,
    payload: &[u8],
    signature_b64: &str,
    digest: &str,
) -> LayerCheck {
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim()) else {
        return LayerCheck::NoMatch;
    };
    let Ok(signature) = Signature::from_der(&der) else {
        return LayerCheck::NoMatch;
    };
    if !keys
        .keys
        .iter()
        .any(|(_, key)| key.verify(payload, &signature).is_ok())
    {
        return LayerCheck::NoMatch;
    }
    // Only a signed payload is read: its content is trusted no earlier than this.
    let signed = serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| {
            v.pointer("/critical/image/docker-manifest-digest")
                .and_then(|d| d.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default();
    if signed == digest {
        LayerCheck::Verified
    } else {
        LayerCheck::OtherDigest(signed)
    }
}

/// Verifies that some payload layer of the signature of `digest` is signed by one of `keys`
/// and names `digest`. `image` (`host/repo@digest` or similar) is only used in messages.
pub async fn verify(
    client: &Client,
    image: &str,
    digest: &str,
    keys: &PublicKeys,
) -> Result<(), CosignError> {
    let tag = signature_tag(digest);
    let (manifest, _) = client.manifest(&tag).await.map_err(|e| match e {
        OciError::NotFound { .. } => CosignError::NoSignature {
            image: image.to_string(),
            source: e,
        },
        other => CosignError::Registry {
            image: image.to_string(),
            source: other,
        },
    })?;
    let mut other_digest = None;
    for layer in manifest.layers.iter().filter(|l| is_signed_payload(l)) {
        let payload =
            client
                .blob(layer, MAX_PAYLOAD_SIZE)
                .await
                .map_err(|e| CosignError::Registry {
                    image: image.to_string(),
                    source: e,
                })?;
        let signature = &layer.annotations[SIGNATURE_ANNOTATION];
        match check_layer(keys, &payload, signature, digest) {
            LayerCheck::Verified => return Ok(()),
            LayerCheck::OtherDigest(d) => other_digest = Some(d),
            LayerCheck::NoMatch => {}
        }
    }
    if let Some(signed) = other_digest {
        return Err(CosignError::DigestMismatch {
            image: image.to_string(),
            signed,
            expected: digest.to_string(),
        });
    }
    let skipped = if keys.unsupported.is_empty() {
        String::new()
    } else {
        format!(
            " (keys not supported yet and skipped: {})",
            keys.unsupported.join(", ")
        )
    };
    Err(CosignError::NoMatch {
        image: image.to_string(),
        skipped,
    })
}

fn is_signed_payload(layer: &Descriptor) -> bool {
    layer.media_type == SIMPLE_SIGNING_MEDIA_TYPE
        && layer.annotations.contains_key(SIGNATURE_ANNOTATION)
}

#[cfg(test)]
mod tests {
    use super::*;

    // `openssl ecparam -name prime256v1 -genkey | openssl ec -pubout`
    const P256_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDOmOv3riYOqI+gcKh3wflpGikIs9
zhaDzE//f4naLXgwkwfPZvyi059BY89C6ggfBp+euB+jqEdl3GdLxdW8Eg==
-----END PUBLIC KEY-----
";
    // `openssl genpkey -algorithm ed25519 | openssl pkey -pubout`
    const ED25519_PUB: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA7sd6ROjC1MX8XkTTFIljysbgPhLXjXY7lnFERkaIS+8=
-----END PUBLIC KEY-----
";

    fn secret(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn signature_tag_is_the_digest_with_a_dash() {
        assert_eq!(signature_tag("sha256:abc"), "sha256-abc.sig");
    }

    #[test]
    fn only_pub_entries_are_keys_and_other_algorithms_are_named() {
        let keys =
            PublicKeys::from_secret("k", &secret(&[("cosign.pub", P256_PUB)])).expect("p256");
        assert_eq!(keys.keys.len(), 1);
        let err = PublicKeys::from_secret("k", &secret(&[("cosign.key", P256_PUB)]))
            .err()
            .expect("no .pub");
        assert!(matches!(err, CosignError::NoKeys(_)), "{err}");
        let err = PublicKeys::from_secret("k", &secret(&[("ed.pub", ED25519_PUB)]))
            .err()
            .expect("ed25519");
        assert!(
            err.to_string().contains("'ed.pub' is an Ed25519 key"),
            "{err}"
        );
        let err = PublicKeys::from_secret("k", &secret(&[("bad.pub", "hello")]))
            .err()
            .expect("garbage");
        assert!(matches!(err, CosignError::InvalidKey { .. }), "{err}");
        let mixed = PublicKeys::from_secret(
            "k",
            &secret(&[("cosign.pub", P256_PUB), ("ed.pub", ED25519_PUB)]),
        )
        .expect("one usable key");
        assert_eq!(mixed.unsupported.len(), 1);
    }
}
