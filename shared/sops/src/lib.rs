//! flux-sops: decryption of files encrypted by the `sops` tool, as kustomize-controller does it.
//!
//! Data keys are recovered with age identities (X25519 and the post-quantum mlkem768x25519
//! hybrid) and PGP secret keys from a [`Keyring`], recombining Shamir key groups; values are
//! decrypted with AES-256-GCM at their path and the document's MAC is verified before any
//! plaintext is returned (unless the caller opts out as kustomize-controller does). YAML,
//! JSON, dotenv, INI and binary stores are supported. Errors never carry plaintext or key
//! material.

mod age_pq;
mod cipher;
mod datakey;
mod error;
mod format;
mod keyring;
mod metadata;
mod resource;
mod shamir;
mod sources;
mod stores;
mod tree;

#[cfg(test)]
mod format_tests;

pub use error::Error;
pub use format::Format;
pub use keyring::Keyring;
pub use resource::{decrypt_resource, is_encrypted_resource};
pub use sources::{
    DEFAULT_MAX_FILE_SIZE, SourceOptions, decrypt_kustomization_sources, secure_join,
};

/// How a document is decrypted: the store it is read with, the store the plaintext is written
/// with, and whether the MAC is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecryptOptions {
    pub input: Format,
    pub output: Format,
    pub verify_mac: bool,
}

impl DecryptOptions {
    /// The same format in and out, MAC verified: what `sops decrypt` does.
    pub fn new(format: Format) -> DecryptOptions {
        DecryptOptions {
            input: format,
            output: format,
            verify_mac: true,
        }
    }

    /// kustomize-controller's settings: it decrypts objects after `kustomize build` has
    /// rewritten their clear fields (name prefixes, labels, key order), so it does not verify
    /// the MAC. Each encrypted value is still authenticated by AES-GCM at its path.
    pub fn kustomize_controller(input: Format, output: Format) -> DecryptOptions {
        DecryptOptions {
            input,
            output,
            verify_mac: false,
        }
    }
}

/// Decrypts a sops-encrypted document and returns its plaintext in the same format (for
/// [`Format::Binary`], the original bytes). The MAC is verified; a mismatch is an error.
pub fn decrypt(input: &[u8], format: Format, keys: &Keyring) -> Result<Vec<u8>, Error> {
    decrypt_with(input, &DecryptOptions::new(format), keys)
}

/// Decrypts with explicit input/output formats and MAC policy (sops' `DecryptWithFormat`).
pub fn decrypt_with(input: &[u8], opts: &DecryptOptions, keys: &Keyring) -> Result<Vec<u8>, Error> {
    let stores::Loaded {
        mut branches,
        metadata,
    } = stores::load(opts.input, input)?;
    let md = metadata::Metadata::from_json(&metadata)?;
    let data_key = datakey::recover(&md, keys)?;
    let keep_text = opts.input == Format::Yaml && opts.output == Format::Yaml;
    let encrypted = keep_text.then(|| branches.clone());
    let computed = tree::decrypt_branches(&mut branches, &md.rules, &data_key)?;
    if opts.verify_mac {
        let mac = md.mac.as_deref().ok_or(Error::MacMismatch)?;
        let stored = cipher::decrypt_mac(mac, &data_key, &md.lastmodified)?;
        if stored != computed {
            return Err(Error::MacMismatch);
        }
    }
    if let Some(encrypted) = encrypted
        && let Some(out) = stores::yaml_text::rewrite(input, &encrypted, &branches, &data_key)
    {
        return Ok(out);
    }
    stores::emit(opts.output, branches)
}

/// The format of sops-encrypted bytes found by kustomize-controller's markers
/// (`detectFormatFromMarkerBytes`); `None` when the bytes are not sops-encrypted. Binary files
/// are stored as JSON and detected as such.
pub fn detect_format(input: &[u8]) -> Option<Format> {
    [Format::Dotenv, Format::Ini, Format::Json, Format::Yaml]
        .into_iter()
        .find(|f| is_encrypted(input, *f))
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
