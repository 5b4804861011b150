//! The file formats sops stores, and how a file path selects one.

use std::fmt;
use std::path::Path;

/// A sops store format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    /// Any other file: stored by sops as JSON `{"data": ..., "sops": {...}}`.
    Binary,
}

impl Format {
    /// Picks the format from the file extension as sops does (`formats.FormatForPath`).
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml") | Some("yml") => Format::Yaml,
            Some("json") => Format::Json,
            Some("env") => Format::Dotenv,
            Some("ini") => Format::Ini,
            _ => Format::Binary,
        }
    }

    /// kustomize-controller's `formatForPath` for Secret data keys and generator sources:
    /// `.dockerconfigjson` keys are JSON, everything else as [`Format::from_path`].
    pub fn for_kustomize_key(key: &str) -> Format {
        if key.ends_with(".dockerconfigjson") {
            Format::Json
        } else {
            Format::from_path(Path::new(key))
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
