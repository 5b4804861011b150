//! The age post-quantum hybrid recipient type `mlkem768x25519` (age v1.3, C2SP age spec): the
//! file key is sealed with HPKE base mode over the MLKEM768-X25519 (X-Wing) KEM, HKDF-SHA256 and
//! ChaCha20-Poly1305. The `age` crate does not implement it yet, so it is built here from the
//! same primitive crates and plugged in through `age::Identity`.

use std::str::FromStr;

use age_core::format::{FileKey, Stanza};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use kem::Decapsulate;
use ml_kem::array::Array;
use ml_kem::{EncodedSizeUser, KemCore, MlKem768};
use sha2::Sha256;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::{Digest, Sha3_256, Shake256};
use zeroize::Zeroizing;

const SECRET_KEY_HRP: &str = "age-secret-key-pq-";
const RECIPIENT_HRP: &str = "age1pq";
const STANZA_TAG: &str = "mlkem768x25519";
const HPKE_INFO: &[u8] = b"age-encryption.org/mlkem768x25519";
/// X-Wing's domain separator `\.//^\`.
const XWING_LABEL: &[u8] = b"\\.//^\\";
const MLKEM_CT_LEN: usize = 1088;
const ENC_LEN: usize = MLKEM_CT_LEN + 32;
/// HPKE suite: KEM MLKEM768-X25519 (0x647a), KDF HKDF-SHA256 (0x0001), AEAD ChaCha20Poly1305
/// (0x0003).
const SUITE_ID: [u8; 10] = *b"HPKE\x64\x7a\x00\x01\x00\x03";

/// An `AGE-SECRET-KEY-PQ-1...` identity: a 32-byte X-Wing seed.
pub struct PqIdentity {
    seed: Zeroizing<[u8; 32]>,
}

struct Expanded {
    dk: <MlKem768 as KemCore>::DecapsulationKey,
    ek: <MlKem768 as KemCore>::EncapsulationKey,
    sk_x: x25519_dalek::StaticSecret,
    pk_x: x25519_dalek::PublicKey,
}

impl FromStr for PqIdentity {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (hrp, data) = bech32::decode(s).map_err(|_| ())?;
        if hrp.to_lowercase() != SECRET_KEY_HRP {
            return Err(());
        }
        let seed: [u8; 32] = data.as_slice().try_into().map_err(|_| ())?;
        Ok(PqIdentity {
            seed: Zeroizing::new(seed),
        })
    }
}

impl PqIdentity {
    /// X-Wing key generation from the seed: SHAKE256(seed, 96) gives the ML-KEM (d, z) seeds
    /// and the X25519 secret.
    fn expand(&self) -> Expanded {
        let mut expanded = Zeroizing::new([0u8; 96]);
        let mut xof = Shake256::default();
        xof.update(self.seed.as_ref());
        xof.finalize_xof().read(expanded.as_mut());
        let d = Array::try_from(&expanded[0..32]).unwrap_or_default();
        let z = Array::try_from(&expanded[32..64]).unwrap_or_default();
        let (dk, ek) = MlKem768::generate_deterministic(&d, &z);
        let mut x = [0u8; 32];
        x.copy_from_slice(&expanded[64..96]);
        let sk_x = x25519_dalek::StaticSecret::from(x);
        let pk_x = x25519_dalek::PublicKey::from(&sk_x);
        Expanded { dk, ek, sk_x, pk_x }
    }

    /// The `age1pq1...` recipient of this identity.
    pub fn recipient(&self) -> String {
        let e = self.expand();
        let mut pk = e.ek.as_bytes().to_vec();
        pk.extend_from_slice(e.pk_x.as_bytes());
        let mut out = String::new();
        let hrp = bech32::Hrp::parse_unchecked(RECIPIENT_HRP);
        // Recipients are longer than Bech32's usual limit, as in age itself.
        let _ = age_core::primitives::bech32_encode_to_fmt(&mut out, hrp, &pk);
        out
    }

    /// X-Wing decapsulation of `enc` (ML-KEM ciphertext || X25519 share).
    fn decapsulate(&self, enc: &[u8]) -> Option<Zeroizing<[u8; 32]>> {
        let e = self.expand();
        let ct_m = Array::try_from(&enc[..MLKEM_CT_LEN]).ok()?;
        let ss_m = e.dk.decapsulate(&ct_m).ok()?;
        let ct_x: [u8; 32] = enc[MLKEM_CT_LEN..].try_into().ok()?;
        let ss_x = e.sk_x.diffie_hellman(&x25519_dalek::PublicKey::from(ct_x));
        let mut h = Sha3_256::new();
        Digest::update(&mut h, ss_m.as_slice());
        Digest::update(&mut h, ss_x.as_bytes());
        Digest::update(&mut h, ct_x);
        Digest::update(&mut h, e.pk_x.as_bytes());
        Digest::update(&mut h, XWING_LABEL);
        Some(Zeroizing::new(h.finalize().into()))
    }
}

fn labeled_ikm(label: &[u8], ikm: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut labeled = Vec::with_capacity(7 + SUITE_ID.len() + label.len() + ikm.len());
    labeled.extend_from_slice(b"HPKE-v1");
    labeled.extend_from_slice(&SUITE_ID);
    labeled.extend_from_slice(label);
    labeled.extend_from_slice(ikm);
    Zeroizing::new(labeled)
}

/// HPKE `LabeledExtract`, kept as an HKDF instance ready to expand.
fn labeled_extract(salt: &[u8], label: &[u8], ikm: &[u8]) -> Hkdf<Sha256> {
    Hkdf::<Sha256>::new(Some(salt), &labeled_ikm(label, ikm))
}

/// HPKE `LabeledExtract` returning the pseudo-random key bytes.
fn extract_prk(salt: &[u8], label: &[u8], ikm: &[u8]) -> [u8; 32] {
    let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), &labeled_ikm(label, ikm));
    prk.into()
}

fn labeled_expand(prk: &Hkdf<Sha256>, label: &[u8], info: &[u8], out: &mut [u8]) -> Option<()> {
    let len = u16::try_from(out.len()).ok()?;
    let mut labeled = Vec::new();
    labeled.extend_from_slice(&len.to_be_bytes());
    labeled.extend_from_slice(b"HPKE-v1");
    labeled.extend_from_slice(&SUITE_ID);
    labeled.extend_from_slice(label);
    labeled.extend_from_slice(info);
    prk.expand(&labeled, out).ok()
}

/// HPKE (RFC 9180) base-mode key schedule and single-shot open with empty additional data.
fn hpke_open(shared_secret: &[u8; 32], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let psk_id_hash = extract_prk(b"", b"psk_id_hash", b"");
    let info_hash = extract_prk(b"", b"info_hash", HPKE_INFO);
    let mut context = vec![0u8]; // mode_base
    context.extend_from_slice(&psk_id_hash);
    context.extend_from_slice(&info_hash);
    let secret = labeled_extract(shared_secret, b"secret", b"");
    let mut key = Zeroizing::new([0u8; 32]);
    let mut nonce = [0u8; 12];
    labeled_expand(&secret, b"key", &context, key.as_mut())?;
    labeled_expand(&secret, b"base_nonce", &context, &mut nonce)?;
    let aead = ChaCha20Poly1305::new(Key::from_slice(key.as_ref()));
    aead.decrypt(
        Nonce::from_slice(&nonce),
        Payload {
            msg: ciphertext,
            aad: b"",
        },
    )
    .ok()
    .map(Zeroizing::new)
}

impl age::Identity for PqIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        if stanza.tag != STANZA_TAG {
            return None;
        }
        let invalid = || Some(Err(age::DecryptError::InvalidHeader));
        if stanza.args.len() != 1 {
            return invalid();
        }
        let Ok(enc) = STANDARD_NO_PAD.decode(&stanza.args[0]) else {
            return invalid();
        };
        if enc.len() != ENC_LEN || stanza.body.len() != 32 {
            return invalid();
        }
        let shared = self.decapsulate(&enc)?;
        // A stanza for another recipient fails authentication: not ours, try the next one.
        let plain = hpke_open(&shared, &stanza.body)?;
        let key: [u8; 16] = plain.as_slice().try_into().ok()?;
        Some(Ok(FileKey::new(Box::new(key))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDENTITY: &str =
        "AGE-SECRET-KEY-PQ-1Z8QMHKS77CVF95LF38SMLT0MEFR00HVMW58DJGD5USLGCVXTJCSQNRKCNK";

    #[test]
    fn identity_derives_the_recipient_published_next_to_it() {
        let id: PqIdentity = IDENTITY.parse().unwrap();
        let keyfile = include_str!("../tests/fixtures/keys/age-pq.txt");
        let published = keyfile
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .unwrap();
        assert_eq!(id.recipient(), published);
    }

    #[test]
    fn malformed_identities_are_rejected() {
        assert!("AGE-SECRET-KEY-PQ-1XYZ".parse::<PqIdentity>().is_err());
        assert!(
            "AGE-SECRET-KEY-1RH87A5Z54ZGUR9S0AS3R6WHFSEFNPLYMAKF5Z2CEU7R06VRJ0A3Q7242AM"
                .parse::<PqIdentity>()
                .is_err()
        );
    }
}
