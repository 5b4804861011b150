//! The error type of the crate: every failure names what went wrong and where, never a plaintext
//! value or any key material.

use thiserror::Error;

/// Why a document could not be decrypted.
#[derive(Debug, Error)]
pub enum Error {
    /// The input could not be parsed in the requested format.
    #[error("cannot parse {format} document: {reason}")]
    Parse {
        format: &'static str,
        reason: String,
    },
    /// The document has no `sops` metadata, so it is not sops-encrypted.
    #[error("sops metadata not found")]
    MetadataNotFound,
    /// The `sops` metadata is present but malformed.
    #[error("invalid sops metadata: {0}")]
    InvalidMetadata(String),
    /// The document relies on a sops feature this implementation does not provide.
    #[error("unsupported sops feature: {0}")]
    Unsupported(String),
    /// Only master keys of services we cannot reach (Vault, KMS, ...) can decrypt the data key.
    #[error("unsupported key service: the data key is only encrypted for {0}")]
    UnsupportedKeyService(String),
    /// No key of the keyring could decrypt the data key of a key group.
    #[error("failed to get the data key required to decrypt the SOPS file: {0}")]
    NoMatchingKey(String),
    /// Too few key groups could be decrypted to rebuild a Shamir-split data key.
    #[error(
        "failed to get the data key: {decrypted} of {groups} key groups decrypted, {threshold} required"
    )]
    ShamirThreshold {
        decrypted: usize,
        groups: usize,
        threshold: usize,
    },
    /// A value is not in sops' `ENC[AES256_GCM,...]` format, or its type is unknown.
    #[error("malformed encrypted value at '{path}': {reason}")]
    MalformedValue { path: String, reason: &'static str },
    /// AES-GCM authentication failed: wrong data key or tampered ciphertext.
    #[error(
        "could not decrypt value at '{path}': authentication failed (wrong key or tampered value)"
    )]
    ValueDecryption { path: String },
    /// The MAC stored in the metadata does not match the plaintext values.
    #[error("MAC mismatch: the file has been tampered with or was corrupted")]
    MacMismatch,
    /// A keyring entry could not be parsed.
    #[error("invalid key in '{entry}': {reason}")]
    InvalidKey { entry: String, reason: String },
    /// A Kubernetes object could not be decrypted.
    #[error("failed to decrypt {object}: {source}")]
    Resource {
        object: String,
        #[source]
        source: Box<Error>,
    },
    /// A kustomization source file or directory could not be used.
    #[error("kustomization source '{path}': {reason}")]
    Source { path: String, reason: String },
    /// A kustomization source file could not be decrypted.
    #[error("failed to decrypt '{path}': {source}")]
    SourceDecryption {
        path: String,
        #[source]
        source: Box<Error>,
    },
    /// The decrypted document could not be written back in its format.
    #[error("cannot emit {format} document: {reason}")]
    Emit {
        format: &'static str,
        reason: String,
    },
}
