//! The keys a decryption may use: age identities (X25519 and post-quantum hybrid) and PGP
//! secret keys, read from a Kubernetes Secret's data as kustomize-controller does (`*.agekey`
//! and `*.asc` entries).

use std::collections::BTreeMap;
use std::io::Read;
use std::str::FromStr;

use age::x25519;
use pgp::composed::{Deserializable, Message, SignedSecretKey};
use pgp::types::{KeyDetails, Password};

use crate::age_pq::PqIdentity;
use crate::error::Error;

/// Why one master key could not decrypt its part of the data key; holds no secret.
#[derive(Debug)]
pub(crate) enum KeyFailure {
    NoIdentity(String),
    /// A key service that needs a network service (Vault, cloud KMS).
    Unsupported(String),
}

/// Private keys used to recover sops data keys.
#[derive(Default)]
pub struct Keyring {
    age: Vec<x25519::Identity>,
    /// Post-quantum hybrid identities (`AGE-SECRET-KEY-PQ-1...`).
    age_pq: Vec<PqIdentity>,
    pgp: Vec<SignedSecretKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Keyring")
            .field("age_identities", &self.age.len())
            .field("age_pq_identities", &self.age_pq.len())
            .field("pgp_keys", &self.pgp.len())
            .finish()
    }
}

impl Keyring {
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Builds a keyring from a Secret's data: `*.agekey` entries hold age identities, one
    /// `AGE-SECRET-KEY-1...` or `AGE-SECRET-KEY-PQ-1...` per line with `#` comments; `*.asc` entries hold armored PGP secret
    /// keys. Other entries (cloud credentials, Vault tokens) are ignored.
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Result<Keyring, Error> {
        let mut ring = Keyring::new();
        for (name, value) in data {
            if name.ends_with(".agekey") {
                ring.add_age_identities(name, value)?;
            } else if name.ends_with(".asc") {
                ring.add_pgp_armored(name, value)?;
            }
        }
        Ok(ring)
    }

    /// Adds the identities of an age identity file; `entry` names the source in errors.
    pub fn add_age_identities(&mut self, entry: &str, text: &[u8]) -> Result<(), Error> {
        let invalid = |reason: &str| Error::InvalidKey {
            entry: entry.to_string(),
            reason: reason.to_string(),
        };
        let text = std::str::from_utf8(text).map_err(|_| invalid("not UTF-8"))?;
        let mut found = 0;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with("AGE-SECRET-KEY-PQ-") {
                let id = PqIdentity::from_str(line).map_err(|_| {
                    invalid(&format!(
                        "line {} is not a post-quantum age identity",
                        n + 1
                    ))
                })?;
                self.age_pq.push(id);
            } else {
                let id = x25519::Identity::from_str(line)
                    .map_err(|_| invalid(&format!("line {} is not an age identity", n + 1)))?;
                self.age.push(id);
            }
            found += 1;
        }
        if found == 0 {
            return Err(invalid("no age identity found"));
        }
        Ok(())
    }

    /// Adds every secret key of an ASCII-armored PGP key block.
    pub fn add_pgp_armored(&mut self, entry: &str, armored: &[u8]) -> Result<(), Error> {
        let invalid = |reason: String| Error::InvalidKey {
            entry: entry.to_string(),
            reason,
        };
        let (keys, _) = SignedSecretKey::from_armor_many(armored)
            .map_err(|_| invalid("not an armored PGP key block".into()))?;
        let mut found = 0;
        for key in keys {
            self.pgp
                .push(key.map_err(|_| invalid("malformed PGP secret key".into()))?);
            found += 1;
        }
        if found == 0 {
            return Err(invalid("no PGP secret key found".into()));
        }
        Ok(())
    }

    /// Adds age identities given as strings (`AGE-SECRET-KEY-1...`).
    pub fn with_age_identity(mut self, identity: &str) -> Result<Keyring, Error> {
        self.add_age_identities("identity", identity.as_bytes())?;
        Ok(self)
    }

    /// The public age recipients of the keyring's identities (X25519 then post-quantum), to
    /// tell users which keys a Secret holds without showing them.
    pub fn age_recipients(&self) -> Vec<String> {
        self.age
            .iter()
            .map(|i| i.to_public().to_string())
            .chain(self.age_pq.iter().map(PqIdentity::recipient))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.age.is_empty() && self.age_pq.is_empty() && self.pgp.is_empty()
    }

    /// Decrypts an armored age file holding a data key.
    pub(crate) fn decrypt_age(&self, recipient: &str, enc: &str) -> Result<Vec<u8>, KeyFailure> {
        // Post-quantum recipients are about 2 kB long: name them by their start.
        let short = if recipient.len() > 80 {
            format!("{}...", &recipient[..recipient.len().min(24)])
        } else {
            recipient.to_string()
        };
        let no_id = || KeyFailure::NoIdentity(format!("age recipient {short}"));
        if self.age.is_empty() && self.age_pq.is_empty() {
            return Err(no_id());
        }
        let reader = age::armor::ArmoredReader::new(enc.as_bytes());
        let decryptor = age::Decryptor::new(reader).map_err(|_| no_id())?;
        let mut stream = decryptor
            .decrypt(
                self.age
                    .iter()
                    .map(|i| i as &dyn age::Identity)
                    .chain(self.age_pq.iter().map(|i| i as &dyn age::Identity)),
            )
            .map_err(|_| no_id())?;
        let mut out = Vec::new();
        stream.read_to_end(&mut out).map_err(|_| no_id())?;
        Ok(out)
    }

    /// Decrypts an armored PGP message holding a data key.
    pub(crate) fn decrypt_pgp(&self, fingerprint: &str, enc: &str) -> Result<Vec<u8>, KeyFailure> {
        let no_id = || KeyFailure::NoIdentity(format!("PGP key {fingerprint}"));
        let wanted = fingerprint.to_ascii_lowercase();
        // Try the key with the recorded fingerprint first; rPGP also matches subkeys by id.
        let mut keys: Vec<&SignedSecretKey> = self.pgp.iter().collect();
        keys.sort_by_key(|k| hex::encode(k.fingerprint().as_bytes()) != wanted);
        if keys.is_empty() {
            return Err(no_id());
        }
        let (msg, _) = Message::from_string(enc).map_err(|_| no_id())?;
        let empty = Password::empty();
        let passwords = vec![&empty; keys.len()];
        let mut msg = msg
            .decrypt_with_keys(passwords, keys)
            .map_err(|_| no_id())?;
        if msg.is_compressed() {
            msg = msg.decompress().map_err(|_| no_id())?;
        }
        msg.as_data_vec().map_err(|_| no_id())
    }
}
