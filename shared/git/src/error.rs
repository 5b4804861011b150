//! Git errors, worded for a FetchFailed condition: what failed, never a credential.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid Git URL {url:?}: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("unsupported URL scheme in {0:?}: use http, https, ssh, git or file")]
    UnsupportedScheme(String),
    #[error("failed to authenticate to {url}: {message}")]
    Authentication { url: String, message: String },
    #[error("refusing to send credentials to {url} over plain HTTP: use an https URL")]
    InsecureCredentials { url: String },
    #[error("failed to fetch from {url}: {message}")]
    Fetch { url: String, message: String },
    #[error("{kind} '{name}' not found in {url}")]
    RefNotFound {
        kind: &'static str,
        name: String,
        url: String,
    },
    #[error("no tag in {url} matches semver range '{range}'")]
    NoSemverMatch { range: String, url: String },
    #[error("invalid semver range '{range}': {message}")]
    InvalidSemver { range: String, message: String },
    #[error("commit '{commit}' not found in {url}")]
    CommitNotFound { commit: String, url: String },
    #[error("invalid commit SHA '{0}': expected 40 hex digits")]
    InvalidCommit(String),
    #[error("repository is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("invalid tree entry {0:?}")]
    InvalidTreeEntry(String),
    #[error("submodule '{path}': {source}")]
    Submodule { path: String, source: Box<Error> },
    #[error(
        "failed to sparse checkout directories: sparse checkout dir '{0}' does not exist in repository"
    )]
    SparseCheckout(String),
    #[error("{context}: {message}")]
    Local { context: String, message: String },
}

impl Error {
    pub(crate) fn local(context: impl Into<String>, err: impl std::fmt::Display) -> Self {
        Error::Local {
            context: context.into(),
            message: err.to_string(),
        }
    }
}
