//! Recovery of the 32-byte data key from the master keys of the metadata's key groups.

use zeroize::Zeroizing;

use crate::error::Error;
use crate::keyring::{KeyFailure, Keyring};
use crate::metadata::{MasterKey, Metadata};
use crate::shamir;

/// Decrypts one key group: the first master key the keyring can open wins (age before PGP).
fn decrypt_group(
    group: &[MasterKey],
    keys: &Keyring,
) -> Result<Zeroizing<Vec<u8>>, Vec<KeyFailure>> {
    let mut failures = Vec::new();
    for key in group {
        let r = match key {
            MasterKey::Age { recipient, enc } => keys.decrypt_age(recipient, enc),
            MasterKey::Pgp { fingerprint, enc } => keys.decrypt_pgp(fingerprint, enc),
            MasterKey::Remote(service) => Err(KeyFailure::Unsupported(format!(
                "{service} (key service not supported)"
            ))),
        };
        match r {
            Ok(part) => return Ok(Zeroizing::new(part)),
            Err(f) => failures.push(f),
        }
    }
    Err(failures)
}

fn describe(failures: &[KeyFailure]) -> String {
    failures
        .iter()
        .map(|f| match f {
            KeyFailure::NoIdentity(what) => format!("{what}: no matching private key"),
            KeyFailure::Unsupported(what) => what.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Recovers the data key, combining Shamir parts when there is more than one key group.
pub fn recover(md: &Metadata, keys: &Keyring) -> Result<Zeroizing<[u8; 32]>, Error> {
    if md.key_groups.iter().all(|g| g.is_empty()) {
        return Err(Error::InvalidMetadata(
            "no master keys in the metadata".into(),
        ));
    }
    let mut parts = Vec::new();
    let mut failures = Vec::new();
    for group in &md.key_groups {
        match decrypt_group(group, keys) {
            Ok(part) => parts.push(part),
            Err(f) => failures.extend(f),
        }
    }
    let data_key: Zeroizing<Vec<u8>> = if md.key_groups.len() > 1 {
        if parts.len() < md.shamir_threshold {
            if parts.is_empty() {
                return Err(no_key_error(&failures));
            }
            return Err(Error::ShamirThreshold {
                decrypted: parts.len(),
                groups: md.key_groups.len(),
                threshold: md.shamir_threshold,
            });
        }
        let plain = Zeroizing::new(parts.iter().map(|p| p.to_vec()).collect::<Vec<_>>());
        Zeroizing::new(shamir::combine(&plain)?)
    } else {
        match parts.pop() {
            Some(p) => p,
            None => return Err(no_key_error(&failures)),
        }
    };
    let key: [u8; 32] = data_key
        .as_slice()
        .try_into()
        .map_err(|_| Error::InvalidMetadata("the data key is not 32 bytes".into()))?;
    Ok(Zeroizing::new(key))
}

fn no_key_error(failures: &[KeyFailure]) -> Error {
    if !failures.is_empty()
        && failures
            .iter()
            .all(|f| matches!(f, KeyFailure::Unsupported(_)))
    {
        Error::UnsupportedKeyService(describe(failures))
    } else {
        Error::NoMatchingKey(describe(failures))
    }
}
