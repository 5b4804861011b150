//! Helm release records as the Helm CLI stores them: the release JSON, its Secret
//! (`sh.helm.release.v1.<name>.v<N>`, `data.release` = base64(gzip(JSON))) and the digest Flux
//! keeps in `status.history`.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Secret type Helm's secret driver writes.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";
/// Largest decompressed release accepted when decoding (Helm charts are far smaller).
const MAX_RELEASE_SIZE: u64 = 64 << 20;

/// Helm's release statuses.
pub const STATUS_DEPLOYED: &str = "deployed";
pub const STATUS_FAILED: &str = "failed";
pub const STATUS_SUPERSEDED: &str = "superseded";
pub const STATUS_UNINSTALLED: &str = "uninstalled";
pub const STATUS_PENDING_INSTALL: &str = "pending-install";
pub const STATUS_PENDING_UPGRADE: &str = "pending-upgrade";

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("release data is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("release data could not be decompressed: {0}")]
    Gzip(std::io::Error),
    #[error("release data exceeds {MAX_RELEASE_SIZE} bytes")]
    TooLarge,
    #[error("release data is not a Helm release: {0}")]
    Json(#[from] serde_json::Error),
}

/// `release.Info`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Info {
    pub first_deployed: String,
    pub last_deployed: String,
    pub deleted: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

/// `chart.File` (data base64 in JSON, as Go encodes `[]byte`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct File {
    pub name: String,
    pub data: String,
}

/// `chart.Chart` as serialised in a release.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartRecord {
    pub metadata: Value,
    pub lock: Option<Value>,
    pub templates: Vec<File>,
    pub values: Map<String, Value>,
    pub schema: Option<String>,
    pub files: Vec<File>,
}

/// `release.HookExecution`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookExecution {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub started_at: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub completed_at: String,
    pub phase: String,
}

/// `release.Hook`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookRecord {
    pub name: String,
    pub kind: String,
    pub path: String,
    pub manifest: String,
    pub events: Vec<String>,
    pub last_run: HookExecution,
    #[serde(default)]
    pub weight: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_policies: Vec<String>,
}

/// `release.Release`, the JSON Helm stores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub name: String,
    pub info: Info,
    pub chart: ChartRecord,
    #[serde(default)]
    pub config: Map<String, Value>,
    #[serde(default)]
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookRecord>,
    pub version: i64,
    pub namespace: String,
}

impl Release {
    /// `sh.helm.release.v1.<name>.v<version>`.
    pub fn secret_name(&self) -> String {
        secret_name(&self.name, self.version)
    }

    /// The labels Helm's secret driver puts on the release Secret.
    pub fn secret_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("name".to_string(), self.name.clone()),
            ("owner".to_string(), "helm".to_string()),
            ("status".to_string(), self.info.status.clone()),
            ("version".to_string(), self.version.to_string()),
        ])
    }

    /// The value of the Secret's `release` key: base64(gzip(JSON)).
    pub fn encode(&self) -> Result<String, ReleaseError> {
        let json = serde_json::to_vec(self)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&json).map_err(ReleaseError::Gzip)?;
        let bytes = gz.finish().map_err(ReleaseError::Gzip)?;
        Ok(STANDARD.encode(bytes))
    }

    /// Reads a Secret's `release` value back, gzip or plain JSON as Helm accepts both.
    pub fn decode(data: &[u8]) -> Result<Release, ReleaseError> {
        let raw = STANDARD.decode(data.trim_ascii())?;
        let json = if raw.starts_with(&[0x1f, 0x8b, 0x08]) {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(raw.as_slice())
                .take(MAX_RELEASE_SIZE + 1)
                .read_to_end(&mut out)
                .map_err(ReleaseError::Gzip)?;
            if out.len() as u64 > MAX_RELEASE_SIZE {
                return Err(ReleaseError::TooLarge);
            }
            out
        } else {
            raw
        };
        Ok(serde_json::from_slice(&json)?)
    }

    /// `sha256:<hex>` of the release JSON, the `digest` of a Flux history snapshot.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("sha256:{}", hex::encode(Sha256::digest(&json)))
    }

    /// `<namespace>/<name>.v<version>`, the release as Flux names it in messages.
    pub fn full_name(&self) -> String {
        format!("{}/{}.v{}", self.namespace, self.name, self.version)
    }
}

pub fn secret_name(release: &str, version: i64) -> String {
    format!("sh.helm.release.v1.{release}.v{version}")
}

/// The release manifest Helm stores: every non-hook document with its `# Source:` line.
pub fn manifest_text(manifests: &[flux_helm::Manifest]) -> String {
    let mut out = String::new();
    for m in manifests {
        out.push_str(&format!("---\n# Source: {}\n{}\n", m.name, m.content));
    }
    out
}

/// The chart as Helm serialises it into a release.
pub fn chart_record(chart: &flux_helm::Chart) -> ChartRecord {
    let file = |f: &flux_helm::ChartFile| File {
        name: f.name.clone(),
        data: STANDARD.encode(&f.data),
    };
    ChartRecord {
        metadata: serde_json::to_value(&chart.metadata).unwrap_or(Value::Null),
        lock: None,
        templates: chart.templates.iter().map(file).collect(),
        values: chart.values.clone(),
        schema: chart.schema.as_ref().map(|s| STANDARD.encode(s)),
        files: chart.files.iter().map(file).collect(),
    }
}

/// Go's RFC 3339 with nanoseconds, as Helm's `time.Time` marshals.
pub fn timestamp(t: k8s_openapi::jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Release {
        Release {
            name: "web".into(),
            info: Info {
                first_deployed: "2024-01-01T00:00:00.000000000Z".into(),
                last_deployed: "2024-01-01T00:00:00.000000000Z".into(),
                status: STATUS_DEPLOYED.into(),
                description: "Install complete".into(),
                ..Default::default()
            },
            chart: ChartRecord {
                metadata: serde_json::json!({"name": "podinfo", "version": "6.0.0"}),
                ..Default::default()
            },
            config: serde_json::from_str(r#"{"replicaCount": 2}"#).expect("json"),
            manifest: "---\n# Source: podinfo/templates/svc.yaml\nkind: Service\n".into(),
            version: 3,
            namespace: "apps".into(),
            ..Default::default()
        }
    }

    #[test]
    fn encoded_release_is_base64_gzip_json_and_decodes_back() {
        let rel = sample();
        let encoded = rel.encode().expect("encode");
        let gz = STANDARD.decode(&encoded).expect("base64");
        assert_eq!(&gz[..3], &[0x1f, 0x8b, 0x08], "gzip magic");
        let mut json = String::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_string(&mut json)
            .expect("gunzip");
        let v: Value = serde_json::from_str(&json).expect("json");
        assert_eq!(v["name"], "web");
        assert_eq!(v["info"]["status"], "deployed");
        assert_eq!(v["version"], 3);
        assert_eq!(v["chart"]["metadata"]["name"], "podinfo");
        assert_eq!(Release::decode(encoded.as_bytes()).expect("decode"), rel);
    }

    #[test]
    fn secret_name_and_labels_follow_helm_secret_driver() {
        let rel = sample();
        assert_eq!(rel.secret_name(), "sh.helm.release.v1.web.v3");
        let labels = rel.secret_labels();
        assert_eq!(labels["owner"], "helm");
        assert_eq!(labels["name"], "web");
        assert_eq!(labels["status"], "deployed");
        assert_eq!(labels["version"], "3");
        assert_eq!(rel.full_name(), "apps/web.v3");
    }

    #[test]
    fn garbage_release_data_is_an_error() {
        assert!(matches!(
            Release::decode(b"%%%"),
            Err(ReleaseError::Base64(_))
        ));
        let not_json = STANDARD.encode(b"hello");
        assert!(matches!(
            Release::decode(not_json.as_bytes()),
            Err(ReleaseError::Json(_))
        ));
    }

    #[test]
    fn digest_changes_with_content() {
        let a = sample();
        let mut b = sample();
        b.version = 4;
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), sample().digest());
    }
}
