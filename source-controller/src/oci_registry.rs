//! A small OCI distribution client for pulling Flux artifacts: tags, manifests and blobs over
//! the registry HTTP API (`/v2/`), with basic auth, digest checks and size limits.
//!
//! Only what OCIRepository needs: no pushes, no token-service (Bearer) auth yet.

use reqwest::{StatusCode, Url};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Flux's artifact media types.
pub const FLUX_CONTENT_MEDIA_TYPE: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";
pub const FLUX_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.flux.config.v1+json";
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("invalid OCI URL '{0}': expected oci://<host>/<repository>")]
    InvalidUrl(String),
    #[error("{0}")]
    Request(String),
    #[error("failed to authenticate to {0}: {1}")]
    Unauthorized(String, StatusCode),
    #[error("{what} not found in {repo}")]
    NotFound { what: String, repo: String },
    #[error("digest mismatch for {0}: expected {1}, got {2}")]
    DigestMismatch(String, String, String),
    #[error("{0} is larger than the limit of {1} bytes")]
    TooLarge(String, u64),
    #[error("invalid manifest: {0}")]
    InvalidManifest(String),
}

/// `oci://host[:port]/path` split into registry and repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub registry: String,
    pub repository: String,
}

impl Reference {
    pub fn parse(url: &str) -> Result<Reference, OciError> {
        let rest = url
            .strip_prefix("oci://")
            .ok_or_else(|| OciError::InvalidUrl(url.to_string()))?;
        let (registry, repository) = rest
            .split_once('/')
            .ok_or_else(|| OciError::InvalidUrl(url.to_string()))?;
        let repository = repository.trim_end_matches('/');
        if registry.is_empty() || repository.is_empty() || repository.contains(':') {
            return Err(OciError::InvalidUrl(url.to_string()));
        }
        Ok(Reference {
            registry: registry.to_string(),
            repository: repository.to_string(),
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// A client for one repository of one registry.
pub struct Client {
    http: reqwest::Client,
    base: Url,
    reference: Reference,
    basic: Option<(String, String)>,
}

impl Client {
    pub fn new(
        http: reqwest::Client,
        reference: Reference,
        insecure: bool,
        basic: Option<(String, String)>,
    ) -> Result<Client, OciError> {
        let scheme = if insecure { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{}/v2/", reference.registry))
            .map_err(|_| OciError::InvalidUrl(reference.registry.clone()))?;
        Ok(Client {
            http,
            base,
            reference,
            basic,
        })
    }

    fn url(&self, tail: &str) -> Result<Url, OciError> {
        self.base
            .join(&format!("{}/{tail}", self.reference.repository))
            .map_err(|e| OciError::Request(e.to_string()))
    }

    async fn get(&self, url: Url, accept: Option<&str>) -> Result<reqwest::Response, OciError> {
        let mut req = self.http.get(url.clone());
        if let Some(accept) = accept {
            req = req.header("accept", accept);
        }
        if let Some((u, p)) = &self.basic {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req
            .send()
            .await
            .map_err(|e| OciError::Request(format!("GET {url}: {}", e.without_url())))?;
        match resp.status() {
            s if s.is_success() => Ok(resp),
            s @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
                Err(OciError::Unauthorized(self.reference.registry.clone(), s))
            }
            s => Err(OciError::Request(format!("GET {url}: {s}"))),
        }
    }

    fn repo_name(&self) -> String {
        format!("{}/{}", self.reference.registry, self.reference.repository)
    }

    /// All tags of the repository.
    pub async fn tags(&self) -> Result<Vec<String>, OciError> {
        #[derive(Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let resp = self.get(self.url("tags/list")?, None).await?;
        let tags: Tags = resp
            .json()
            .await
            .map_err(|e| OciError::Request(format!("listing tags: {e}")))?;
        Ok(tags.tags.unwrap_or_default())
    }

    /// The manifest behind `reference` (tag or digest) and its digest.
    pub async fn manifest(&self, reference: &str) -> Result<(Manifest, String), OciError> {
        let url = self.url(&format!("manifests/{reference}"))?;
        let resp = match self.get(url, Some(MANIFEST_ACCEPT)).await {
            Err(OciError::Request(m)) if m.ends_with("404 Not Found") => {
                return Err(OciError::NotFound {
                    what: format!("manifest '{reference}'"),
                    repo: self.repo_name(),
                });
            }
            other => other?,
        };
        let body = read_limited(resp, 4 << 20, "manifest").await?;
        let digest = format!("sha256:{}", hex(&Sha256::digest(&body)));
        if reference.starts_with("sha256:") && reference != digest {
            return Err(OciError::DigestMismatch(
                "manifest".into(),
                reference.to_string(),
                digest,
            ));
        }
        let manifest: Manifest =
            serde_json::from_slice(&body).map_err(|e| OciError::InvalidManifest(e.to_string()))?;
        Ok((manifest, digest))
    }

    /// A blob, checked against its digest, at most `max` bytes.
    pub async fn blob(&self, desc: &Descriptor, max: u64) -> Result<Vec<u8>, OciError> {
        if desc.size > max {
            return Err(OciError::TooLarge(format!("layer {}", desc.digest), max));
        }
        let resp = self
            .get(self.url(&format!("blobs/{}", desc.digest))?, None)
            .await?;
        let body = read_limited(resp, max, &format!("layer {}", desc.digest)).await?;
        let actual = format!("sha256:{}", hex(&Sha256::digest(&body)));
        if actual != desc.digest {
            return Err(OciError::DigestMismatch(
                format!("layer {}", desc.digest),
                desc.digest.clone(),
                actual,
            ));
        }
        Ok(body)
    }
}

async fn read_limited(
    mut resp: reqwest::Response,
    max: u64,
    what: &str,
) -> Result<Vec<u8>, OciError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| OciError::Request(format!("reading {what}: {}", e.without_url())))?
    {
        if body.len() as u64 + chunk.len() as u64 > max {
            return Err(OciError::TooLarge(what.to_string(), max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Username and password for `registry` from a `kubernetes.io/dockerconfigjson` Secret.
pub fn docker_config_auth(config: &[u8], registry: &str) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct Config {
        #[serde(default)]
        auths: std::collections::BTreeMap<String, Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        username: Option<String>,
        password: Option<String>,
        auth: Option<String>,
    }
    let config: Config = serde_json::from_slice(config).ok()?;
    let entry = config.auths.iter().find_map(|(host, e)| {
        let host = host
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        (host == registry).then_some(e)
    })?;
    if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
        return Some((u.clone(), p.clone()));
    }
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(entry.auth.as_deref()?)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_urls_split_into_registry_and_repository() {
        assert_eq!(
            Reference::parse("oci://127.0.0.1:5000/org/app").expect("ref"),
            Reference {
                registry: "127.0.0.1:5000".into(),
                repository: "org/app".into()
            }
        );
        assert!(Reference::parse("https://ghcr.io/org/app").is_err());
        assert!(Reference::parse("oci://ghcr.io").is_err());
        assert!(Reference::parse("oci://ghcr.io/app:latest").is_err());
    }

    #[test]
    fn docker_config_gives_credentials_from_auth_or_fields() {
        let cfg = br#"{"auths":{"https://127.0.0.1:5000/":{"auth":"Zmx1eDpzM2NyZXQ="},
            "ghcr.io":{"username":"u","password":"p"}}}"#;
        assert_eq!(
            docker_config_auth(cfg, "127.0.0.1:5000"),
            Some(("flux".into(), "s3cret".into()))
        );
        assert_eq!(
            docker_config_auth(cfg, "ghcr.io"),
            Some(("u".into(), "p".into()))
        );
        assert_eq!(docker_config_auth(cfg, "docker.io"), None);
        assert_eq!(docker_config_auth(b"not json", "ghcr.io"), None);
    }
}
