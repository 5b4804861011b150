//! Errors returned while loading, valuing and rendering a chart, worded like Helm's.

use std::path::PathBuf;

/// Everything that can go wrong in `helm template`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The chart archive or directory is malformed (missing Chart.yaml, bad tarball, path escape).
    #[error("{0}")]
    Load(String),
    /// Chart.yaml failed Helm's metadata validation.
    #[error("validation: {0}")]
    Validation(String),
    /// A values source (values.yaml, `-f` file, `--set`) could not be parsed.
    #[error("{0}")]
    Values(String),
    /// The coalesced values do not satisfy values.schema.json.
    #[error(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{0}"
    )]
    Schema(String),
    /// A template failed to parse or execute; the message names the template and line.
    #[error("{0}")]
    Render(String),
    /// A rendered manifest is not valid YAML.
    #[error("YAML parse error on {path}: {message}")]
    ManifestYaml { path: String, message: String },
    /// `--show-only` named a template that rendered nothing.
    #[error("could not find template {0} in chart")]
    ShowOnlyMissing(String),
    /// Rendered output that is not valid YAML, returned with the output under `--debug`.
    #[error("{message}")]
    WithOutput { output: String, message: String },
    /// An option value (kube version, release name) is invalid.
    #[error("{0}")]
    Option(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
