//! The one error type of the crate: every failure names the path or URL it is about.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid ignore pattern in {origin}: {message}")]
    IgnorePattern { origin: String, message: String },
    #[error("archive entry {entry:?} escapes the destination directory")]
    PathTraversal { entry: String },
    #[error("archive entry {entry:?} is a {kind}, which is not allowed in an artifact")]
    UnsupportedEntry { entry: String, kind: &'static str },
    #[error("archive is larger than the limit of {limit} bytes once unpacked")]
    UnpackTooLarge { limit: u64 },
    #[error("archive has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("corrupt archive: {0}")]
    Corrupt(String),
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("unsupported digest {0:?}: expected sha256:<64 hex digits>")]
    UnsupportedDigest(String),
    #[error("downloading {url}: {message}")]
    Download { url: String, message: String },
    #[error("artifact at {url} is larger than the limit of {limit} bytes")]
    DownloadTooLarge { url: String, limit: u64 },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
