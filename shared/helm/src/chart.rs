//! The loaded chart: Chart.yaml metadata, default values, templates, other files and subcharts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// One file of a chart, with its path relative to the chart root (`templates/x.yaml`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// A maintainer entry of Chart.yaml.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// A dependency entry of Chart.yaml (v2) or requirements.yaml (v1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    #[serde(rename = "import-values")]
    pub import_values: Vec<Value>,
    pub alias: String,
}

/// Chart.yaml as Helm's `chart.Metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub icon: String,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    #[serde(rename = "appVersion")]
    pub app_version: String,
    pub deprecated: bool,
    pub annotations: std::collections::BTreeMap<String, String>,
    #[serde(rename = "kubeVersion")]
    pub kube_version: String,
    pub dependencies: Vec<Dependency>,
    #[serde(rename = "type")]
    pub chart_type: String,
}

impl Metadata {
    /// Helm's `Metadata.Validate`, with the same messages.
    pub fn validate(&self) -> Result<(), Error> {
        let v = |m: String| Err(Error::Validation(m));
        if self.api_version.is_empty() {
            return v("chart.metadata.apiVersion is required".into());
        }
        if self.name.is_empty() {
            return v("chart.metadata.name is required".into());
        }
        if self.name.contains('/') || self.name == "." || self.name == ".." {
            return v(format!("chart.metadata.name {:?} is invalid", self.name));
        }
        if self.version.is_empty() {
            return v("chart.metadata.version is required".into());
        }
        if crate::semver::parse_loose(&self.version).is_none() {
            return v(format!(
                "chart.metadata.version {:?} is invalid",
                self.version
            ));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return v("chart.metadata.type must be application or library".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for d in &self.dependencies {
            if d.name.is_empty() {
                return v("dependencies must have a name".into());
            }
            if d.alias.contains('/') || d.alias.contains("..") {
                return v(format!(
                    "dependency {:?} has disallowed characters in the alias",
                    d.name
                ));
            }
            let key = if d.alias.is_empty() {
                &d.name
            } else {
                &d.alias
            };
            if !seen.insert(key.clone()) {
                return v(format!(
                    "more than one dependency with name or alias {key:?}"
                ));
            }
        }
        Ok(())
    }
}

/// A chart with its subcharts, as Helm's `chart.Chart`.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub metadata: Metadata,
    /// values.yaml, numbers as float64 like Helm.
    pub values: Map<String, Value>,
    /// values.schema.json, if any.
    pub schema: Option<Vec<u8>>,
    /// Files under templates/.
    pub templates: Vec<ChartFile>,
    /// Every other file (crds/, README, ...), as `.Files` sees them.
    pub files: Vec<ChartFile>,
    /// Subcharts found in charts/.
    pub dependencies: Vec<Chart>,
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }

    /// The crds/ files of this chart and its subcharts, paths prefixed like Helm's CRDObjects.
    pub fn crd_objects(&self, full_path: &str) -> Vec<(String, &[u8])> {
        let mut out = Vec::new();
        for f in &self.files {
            if f.name.starts_with("crds/")
                && [".yaml", ".yml", ".json"]
                    .iter()
                    .any(|e| f.name.ends_with(e))
            {
                out.push((format!("{full_path}/{}", f.name), f.data.as_slice()));
            }
        }
        for d in &self.dependencies {
            out.extend(d.crd_objects(&format!("{full_path}/charts/{}", d.name())));
        }
        out
    }
}
