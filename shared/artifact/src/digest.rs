//! Artifact digests in the `sha256:<hex>` form Flux writes to `status.artifact.digest`.

use sha2::{Digest as _, Sha256};

use crate::Error;

/// The digest of a whole artifact.
pub fn digest(bytes: &[u8]) -> String {
    let mut d = Digester::default();
    d.update(bytes);
    d.finish()
}

/// Incremental digest for streamed downloads.
#[derive(Default)]
pub struct Digester(Sha256);

impl Digester {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn finish(self) -> String {
        format!("sha256:{}", hex::encode(self.0.finalize()))
    }
}

/// Checks `bytes` against an expected `sha256:<hex>` digest.
pub fn verify_digest(bytes: &[u8], expected: &str) -> Result<(), Error> {
    check_digest(expected, digest(bytes))
}

/// Compares a computed digest with the expected one, rejecting malformed expectations.
pub(crate) fn check_digest(expected: &str, actual: String) -> Result<(), Error> {
    let hex_part = expected
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| Error::UnsupportedDigest(expected.to_string()))?;
    if actual[7..].eq_ignore_ascii_case(hex_part) {
        Ok(())
    } else {
        Err(Error::DigestMismatch {
            expected: expected.to_string(),
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_input_is_the_sha256_of_nothing() {
        assert_eq!(
            digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn verify_digest_rejects_other_bytes_and_bad_forms() {
        let d = digest(b"abc");
        assert!(verify_digest(b"abc", &d).is_ok());
        assert!(matches!(
            verify_digest(b"abd", &d),
            Err(Error::DigestMismatch { .. })
        ));
        assert!(matches!(
            verify_digest(b"abc", "md5:abc"),
            Err(Error::UnsupportedDigest(_))
        ));
        assert!(matches!(
            verify_digest(b"abc", "sha256:zz"),
            Err(Error::UnsupportedDigest(_))
        ));
    }
}
