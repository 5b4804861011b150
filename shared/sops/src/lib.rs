//! flux-sops: decryption of files encrypted by the `sops` tool, as kustomize-controller does it.
//!
//! Data keys are recovered with age (X25519) identities and PGP secret keys from a [`Keyring`];
//! values are decrypted with AES-256-GCM and the document's MAC is verified before any plaintext
//! is returned. Errors never carry plaintext or key material.

mod age_pq;
mod cipher;
mod datakey;
mod error;
mod format;
mod keyring;
mod metadata;
mod shamir;
mod stores;
mod tree;

#[cfg(test)]
mod format_tests;

pub use error::Error;
pub use format::Format;
pub use keyring::Keyring;

/// Decrypts a sops-encrypted document and returns its plaintext in the same format (for
/// [`Format::Binary`], the original bytes). The MAC is verified; a mismatch is an error.
pub fn decrypt(input: &[u8], format: Format, keys: &Keyring) -> Result<Vec<u8>, Error> {
    let stores::Loaded {
        mut branches,
        metadata,
    } = stores::load(format, input)?;
    let md = metadata::Metadata::from_json(&metadata)?;
    let data_key = datakey::recover(&md, keys)?;
    let encrypted = (format == Format::Yaml).then(|| branches.clone());
    let computed = tree::decrypt_branches(&mut branches, &md.rules, &data_key)?;
    let stored = cipher::decrypt_mac(&md.mac, &data_key, &md.lastmodified)?;
    if stored != computed {
        return Err(Error::MacMismatch);
    }
    if let Some(encrypted) = encrypted
        && let Some(out) = stores::yaml_text::rewrite(input, &encrypted, &branches, &data_key)
    {
        return Ok(out);
    }
    stores::emit(format, branches)
}

/// Tells whether the bytes are a sops-encrypted document of the given format, with the markers
/// kustomize-controller looks for (`sopsFormatToMarkerBytes`).
pub fn is_encrypted(input: &[u8], format: Format) -> bool {
    let marker: &[u8] = match format {
        Format::Yaml => b"mac: ENC[",
        Format::Json | Format::Binary => b"\"mac\": \"ENC[",
        Format::Dotenv => b"sops_mac=ENC[",
        Format::Ini => b"[sops]",
    };
    input.windows(marker.len()).any(|w| w == marker)
}
