//! OpenPGP verification of the checked-out commit and of the annotated tag it came through,
//! against the armored public keys of a GitRepository's `spec.verify.secretRef`.
//!
//! Messages follow Flux's source-controller; the key named on success is the primary key id of
//! the certificate whose key (primary or subkey) made the signature.

use std::path::Path;

use gix::bstr::ByteSlice;
use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails;

/// Which objects to verify, as `spec.verify.mode` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyMode {
    Head,
    Tag,
    TagAndHead,
}

/// Why verification failed. `InvalidMode` cannot heal without a spec change.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot verify tag object's signature if a tag reference is not specified")]
    InvalidMode,
    #[error("cannot verify signature of tag '{0}' since it is not signed")]
    UnsignedTag(String),
    #[error("signature verification of tag '{tag}' failed: {message}")]
    Tag { tag: String, message: String },
    #[error("signature verification of commit '{commit}' failed: {message}")]
    Commit { commit: String, message: String },
    #[error("{0}")]
    Keys(String),
}

impl VerifyError {
    /// Flux's condition reason for this failure.
    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::InvalidMode => "InvalidVerificationMode",
            VerifyError::UnsignedTag(_) => "InvalidGitObject",
            VerifyError::Tag { .. } => "InvalidTagSignature",
            VerifyError::Commit { .. } => "InvalidCommitSignature",
            VerifyError::Keys(_) => "VerificationError",
        }
    }
}

/// Trusted OpenPGP certificates.
#[derive(Debug, Clone)]
pub struct Keyring(Vec<SignedPublicKey>);

/// Reads every armored public key in `keyrings` (one Secret value may hold several).
pub fn parse_keyrings(keyrings: &[Vec<u8>]) -> Result<Keyring, VerifyError> {
    let mut keys = Vec::new();
    for ring in keyrings {
        let Ok((parsed, _)) = SignedPublicKey::from_armor_many(ring.as_slice()) else {
            continue;
        };
        keys.extend(parsed.flatten());
    }
    if keys.is_empty() {
        return Err(VerifyError::Keys(
            "no OpenPGP public keys found in the verification Secret".into(),
        ));
    }
    Ok(Keyring(keys))
}

/// Verifies what `mode` asks for in the bare cache at `cache_dir`: the `commit`, and the tag
/// object `refs/tags/<tag>` points to. Returns Flux's success message.
pub fn verify(
    cache_dir: &Path,
    commit: &str,
    tag: Option<&str>,
    mode: VerifyMode,
    keys: &Keyring,
) -> Result<String, VerifyError> {
    let keys = keys.0.as_slice();
    let repo = gix::open_opts(cache_dir, gix::open::Options::isolated()).map_err(|e| {
        VerifyError::Commit {
            commit: commit.to_string(),
            message: format!("opening the git cache: {e}"),
        }
    })?;
    let mut message = String::from("verified signature of");
    if matches!(mode, VerifyMode::Tag | VerifyMode::TagAndHead) {
        let tag = tag.ok_or(VerifyError::InvalidMode)?;
        let (label, key) = verify_tag(&repo, tag, keys)?;
        message.push_str(&format!("\n\t- tag '{label}' with key '{key}'"));
    }
    if matches!(mode, VerifyMode::Head | VerifyMode::TagAndHead) {
        let key = verify_commit(&repo, commit, keys).map_err(|message| VerifyError::Commit {
            commit: commit.to_string(),
            message,
        })?;
        message.push_str(&format!("\n\t- commit '{commit}' with key '{key}'"));
    }
    Ok(message)
}

fn verify_commit(
    repo: &gix::Repository,
    commit: &str,
    keys: &[SignedPublicKey],
) -> Result<String, String> {
    let id = gix::ObjectId::from_hex(commit.as_bytes()).map_err(|e| e.to_string())?;
    let commit = repo.find_commit(id).map_err(|e| e.to_string())?;
    let (signature, signed) = commit
        .signature()
        .map_err(|e| e.to_string())?
        .ok_or("the commit is not signed")?;
    check(signature.as_bytes(), &signed.to_bstring(), keys)
}

/// Returns the tag as Flux names it (`<name>@<tag object id>`) and the signing key id.
fn verify_tag(
    repo: &gix::Repository,
    tag: &str,
    keys: &[SignedPublicKey],
) -> Result<(String, String), VerifyError> {
    let failed = |label: &str, message: String| VerifyError::Tag {
        tag: label.to_string(),
        message,
    };
    let reference = repo
        .find_reference(format!("refs/tags/{tag}").as_str())
        .map_err(|e| failed(tag, e.to_string()))?;
    let id = reference
        .target()
        .try_id()
        .map(|id| id.to_owned())
        .ok_or_else(|| failed(tag, "the tag is a symbolic reference".into()))?;
    let label = format!("{tag}@{id}");
    let object = repo
        .find_object(id)
        .map_err(|e| failed(&label, e.to_string()))?;
    // A lightweight tag points straight at the commit: there is no tag object to be signed.
    if object.kind != gix::object::Kind::Tag {
        return Err(VerifyError::UnsignedTag(label));
    }
    let (signature, signed) = gix::objs::TagRefIter::signature(&object.data)
        .ok_or_else(|| VerifyError::UnsignedTag(label.clone()))?;
    let key = check(signature.data.as_bytes(), &signed.to_bstring(), keys)
        .map_err(|m| failed(&label, m))?;
    Ok((label, key))
}

/// Checks an armored signature over `data`; returns the signing certificate's key id.
fn check(signature: &[u8], data: &[u8], keys: &[SignedPublicKey]) -> Result<String, String> {
    if signature.starts_with(b"-----BEGIN SSH SIGNATURE-----") {
        return Err(
            "the object is signed with an SSH key; only OpenPGP signatures are verified so far"
                .into(),
        );
    }
    if !signature.starts_with(b"-----BEGIN PGP SIGNATURE-----") {
        return Err("unsupported signature format (only OpenPGP is verified)".into());
    }
    let (signature, _) = DetachedSignature::from_armor_single(signature)
        .map_err(|e| format!("unreadable OpenPGP signature: {e}"))?;
    for cert in keys {
        let by_primary = signature.verify(&cert.primary_key, data).is_ok();
        let by_subkey = || {
            cert.public_subkeys
                .iter()
                .any(|sub| signature.verify(&sub.key, data).is_ok())
        };
        if by_primary || by_subkey() {
            return Ok(cert.primary_key.legacy_key_id().to_string().to_uppercase());
        }
    }
    let issuer = signature
        .signature
        .issuer_key_id()
        .first()
        .map(|id| id.to_string().to_uppercase())
        .unwrap_or_else(|| "unknown".into());
    Err(format!(
        "no trusted public key verifies the signature (signed by key '{issuer}')"
    ))
}
