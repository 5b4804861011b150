//! A small OCI distribution client for Flux artifacts: tags, manifests and blobs over the
//! registry HTTP API (`/v2/`), with digest checks and size limits, pushes of Flux's artifact
//! layout, basic auth, and token-service (Bearer) auth as registries ask for it.

use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;

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
    /// Bearer tokens by access (pull, push), kept for the client's lifetime.
    tokens: std::sync::Mutex<std::collections::HashMap<Access, String>>,
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
            tokens: Default::default(),
        })
    }

    fn url(&self, tail: &str) -> Result<Url, OciError> {
        self.base
            .join(&format!("{}/{tail}", self.reference.repository))
            .map_err(|e| OciError::Request(e.to_string()))
    }

    async fn get(&self, url: Url, accept: Option<&str>) -> Result<reqwest::Response, OciError> {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
        let resp = self
            .send(Method::GET, url.clone(), &headers, None, Access::Pull)
            .await?;
        self.check(resp, "GET", &url)
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
        let digest = flux_artifact::digest(&body);
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
        let actual = flux_artifact::digest(&body);
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

/// Flux's artifact manifests are OCI image manifests.
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// What `tag` re-puts: any manifest or index, byte for byte.
const ANY_MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// The access a request needs, as the scope of a registry token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    Pull,
    Push,
}

impl Access {
    fn actions(self) -> &'static str {
        match self {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        }
    }
}

impl Reference {
    /// `oci://host[:port]/path[:tag|@digest]`: the repository and the tag or digest, if any.
    pub fn parse_tagged(url: &str) -> Result<(Reference, Option<String>), OciError> {
        let invalid = || OciError::InvalidUrl(url.to_string());
        let rest = url.strip_prefix("oci://").ok_or_else(invalid)?;
        let (path, reference) = match rest.split_once('@') {
            Some((path, digest)) => {
                if !digest.starts_with("sha256:") || digest.len() != 71 {
                    return Err(invalid());
                }
                (path, Some(digest.to_string()))
            }
            None => {
                let last_slash = rest.rfind('/').ok_or_else(invalid)?;
                match rest[last_slash..].rfind(':') {
                    Some(i) => {
                        let tag = &rest[last_slash + i + 1..];
                        if tag.is_empty() || !is_valid_tag(tag) {
                            return Err(invalid());
                        }
                        (&rest[..last_slash + i], Some(tag.to_string()))
                    }
                    None => (rest, None),
                }
            }
        };
        let reference_only = Reference::parse(&format!("oci://{path}")).map_err(|_| invalid())?;
        Ok((reference_only, reference))
    }
}

/// OCI tag grammar: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    tag.len() <= 128
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// Whether go-containerregistry talks plain http to `registry` unless told otherwise: loopback
/// and private (RFC 1918) addresses, where registries rarely have certificates.
pub fn plain_http_by_default(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.split(':').next().unwrap_or(registry),
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// go-containerregistry's choice of scheme, which Flux inherits: plain http with `insecure`;
/// for loopback and private registries https first, then plain http when https cannot even
/// connect. A registry that speaks TLS with a certificate we do not trust stays on https, so
/// the certificate error is what the user sees.
pub async fn use_plain_http(http: &reqwest::Client, registry: &str, insecure: bool) -> bool {
    if insecure {
        return true;
    }
    if !plain_http_by_default(registry) {
        return false;
    }
    match http.get(format!("https://{registry}/v2/")).send().await {
        Ok(_) => false,
        Err(e) => {
            let mut chain = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                chain.push_str(&s.to_string());
                source = s.source();
            }
            e.is_connect() && !chain.to_ascii_lowercase().contains("certificate")
        }
    }
}

/// The tags `flux list artifacts` shows, in its order: cosign's signature, attestation and
/// SBOM tags left out, then those `regex` matches; with a `semver` range only the tags in it,
/// highest version first, otherwise in reverse byte order.
pub fn filter_tags(
    mut tags: Vec<String>,
    regex: Option<&str>,
    semver: Option<&str>,
) -> Result<Vec<String>, OciError> {
    tags.retain(|t| ![".sig", ".att", ".sbom"].iter().any(|s| t.ends_with(s)));
    if let Some(re) = regex.filter(|r| !r.is_empty()) {
        let re = regex::Regex::new(re)
            .map_err(|e| OciError::Request(format!("invalid regex filter '{re}': {e}")))?;
        tags.retain(|t| re.is_match(t));
    }
    let Some(range) = semver.filter(|r| !r.is_empty()) else {
        tags.sort_by(|a, b| b.cmp(a));
        return Ok(tags);
    };
    let range = flux_git::SemverRange::parse(range)
        .map_err(|e| OciError::Request(format!("invalid semver filter: {e}")))?;
    let mut versioned: Vec<(semver::Version, String)> = tags
        .into_iter()
        .filter_map(|t| {
            // One candidate at a time: the version of `t` if it parses and is in range.
            let version = flux_git::highest_matching(&range, [t.as_str()]).map(|(_, v)| v)?;
            Some((version, t))
        })
        .collect();
    versioned.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    Ok(versioned.into_iter().map(|(_, t)| t).collect())
}

/// A `WWW-Authenticate: Bearer realm=...,service=...` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BearerChallenge {
    realm: String,
    service: Option<String>,
}

fn bearer_challenge(headers: &reqwest::header::HeaderMap) -> Option<BearerChallenge> {
    headers
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(parse_bearer_challenge)
}

fn parse_bearer_challenge(value: &str) -> Option<BearerChallenge> {
    let value = value.trim();
    let (scheme, params) = value.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_auth_params(params);
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    };
    Some(BearerChallenge {
        realm: get("realm").filter(|r| !r.is_empty())?,
        service: get("service"),
    })
}

/// RFC 7235 auth-params: `key=token` or `key="quoted, with \"escapes\""`, comma separated.
fn parse_auth_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if chars.next_if_eq(&'=').is_none() {
            if key.trim().is_empty() && chars.peek().is_none() {
                return out;
            }
            continue;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_string();
        }
        out.push((key.trim().to_string(), value));
    }
}

fn request_error(method: &Method, url: &Url, e: reqwest::Error) -> OciError {
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        source = cause.source();
    }
    let mut shown = url.clone();
    shown.set_query(None);
    OciError::Request(format!("{method} {shown}: {message}"))
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct DescriptorOut<'a> {
    media_type: &'a str,
    size: usize,
    digest: &'a str,
}

/// Field order follows go-containerregistry's, so the JSON reads as Flux's does.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestOut<'a> {
    schema_version: u32,
    media_type: &'a str,
    config: DescriptorOut<'a>,
    layers: Vec<DescriptorOut<'a>>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    annotations: &'a std::collections::BTreeMap<String, String>,
}

/// Pushes and token auth.
impl Client {
    /// Sends `token` as the Bearer token of every request: a registry token given instead of
    /// a username and password (go-containerregistry's `RegistryToken`).
    pub fn with_bearer_token(self, token: String) -> Client {
        {
            let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            tokens.insert(Access::Pull, token.clone());
            tokens.insert(Access::Push, token);
        }
        self
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        headers: &[(&str, &str)],
        body: Option<axum::body::Bytes>,
        access: Access,
    ) -> Result<reqwest::Response, OciError> {
        let request = |bearer: Option<&str>| {
            let mut req = self.http.request(method.clone(), url.clone());
            for (name, value) in headers {
                req = req.header(*name, *value);
            }
            if let Some(body) = &body {
                req = req.body(body.clone());
            }
            match (bearer, &self.basic) {
                (Some(token), _) => req.bearer_auth(token),
                (None, Some((u, p))) => req.basic_auth(u, Some(p)),
                (None, None) => req,
            }
        };
        let cached = self.cached_token(access);
        let resp = request(cached.as_deref())
            .send()
            .await
            .map_err(|e| request_error(&method, &url, e))?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let Some(challenge) = bearer_challenge(resp.headers()) else {
            return Ok(resp);
        };
        let token = self.fetch_token(&challenge, access).await?;
        request(Some(&token))
            .send()
            .await
            .map_err(|e| request_error(&method, &url, e))
    }

    fn cached_token(&self, access: Access) -> Option<String> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        match access {
            // A push token covers pulls too.
            Access::Pull => tokens
                .get(&Access::Pull)
                .or_else(|| tokens.get(&Access::Push)),
            Access::Push => tokens.get(&Access::Push),
        }
        .cloned()
    }

    /// Asks the registry's token service for a token with `access` to this repository,
    /// presenting the basic credentials, if any (Docker's token authentication).
    async fn fetch_token(
        &self,
        challenge: &BearerChallenge,
        access: Access,
    ) -> Result<String, OciError> {
        #[derive(Deserialize)]
        struct TokenResponse {
            token: Option<String>,
            access_token: Option<String>,
        }
        let mut url = Url::parse(&challenge.realm)
            .map_err(|_| OciError::Request(format!("invalid token realm '{}'", challenge.realm)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OciError::Request(format!(
                "invalid token realm '{}'",
                challenge.realm
            )));
        }
        let scope = format!(
            "repository:{}:{}",
            self.reference.repository,
            access.actions()
        );
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = &challenge.service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", &scope);
        }
        let mut req = self.http.get(url.clone());
        if let Some((u, p)) = &self.basic {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req
            .send()
            .await
            .map_err(|e| request_error(&Method::GET, &url, e))?;
        match resp.status() {
            s if s.is_success() => {}
            s @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
                return Err(OciError::Unauthorized(self.reference.registry.clone(), s));
            }
            s => {
                url.set_query(None);
                return Err(OciError::Request(format!("token request GET {url}: {s}")));
            }
        }
        let body = read_limited(resp, 1 << 20, "token response").await?;
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| OciError::Request(format!("invalid token response: {e}")))?;
        let token = parsed
            .token
            .filter(|t| !t.is_empty())
            .or(parsed.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| OciError::Request("the token service returned no token".into()))?;
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(access, token.clone());
        Ok(token)
    }

    fn check(
        &self,
        resp: reqwest::Response,
        method: &str,
        url: &Url,
    ) -> Result<reqwest::Response, OciError> {
        match resp.status() {
            s if s.is_success() => Ok(resp),
            s @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
                Err(OciError::Unauthorized(self.reference.registry.clone(), s))
            }
            s => {
                let mut shown = url.clone();
                shown.set_query(None);
                Err(OciError::Request(format!("{method} {shown}: {s}")))
            }
        }
    }

    /// Whether the repository already holds the blob `digest`.
    pub async fn blob_exists(&self, digest: &str) -> Result<bool, OciError> {
        let url = self.url(&format!("blobs/{digest}"))?;
        let resp = self
            .send(Method::HEAD, url.clone(), &[], None, Access::Push)
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        self.check(resp, "HEAD", &url).map(|_| true)
    }

    /// Uploads `bytes` (POST, then one monolithic PUT) unless the registry has them already;
    /// returns their digest.
    pub async fn push_blob(&self, bytes: axum::body::Bytes) -> Result<String, OciError> {
        let digest = flux_artifact::digest(&bytes);
        if self.blob_exists(&digest).await? {
            return Ok(digest);
        }
        let start = self.url("blobs/uploads/")?;
        let resp = self
            .send(Method::POST, start.clone(), &[], None, Access::Push)
            .await?;
        let resp = self.check(resp, "POST", &start)?;
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| OciError::Request(format!("POST {start}: no upload location")))?;
        let mut upload = start
            .join(location)
            .map_err(|e| OciError::Request(format!("POST {start}: upload location: {e}")))?;
        upload.query_pairs_mut().append_pair("digest", &digest);
        let resp = self
            .send(
                Method::PUT,
                upload.clone(),
                &[("content-type", "application/octet-stream")],
                Some(bytes),
                Access::Push,
            )
            .await?;
        self.check(resp, "PUT", &upload)?;
        Ok(digest)
    }

    /// Puts `body` as the manifest `reference` (a tag); returns the manifest digest.
    pub async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        body: axum::body::Bytes,
    ) -> Result<String, OciError> {
        let digest = flux_artifact::digest(&body);
        let url = self.url(&format!("manifests/{reference}"))?;
        let resp = self
            .send(
                Method::PUT,
                url.clone(),
                &[("content-type", media_type)],
                Some(body),
                Access::Push,
            )
            .await?;
        self.check(resp, "PUT", &url)?;
        Ok(digest)
    }

    /// The manifest `reference` as stored: bytes, media type and digest.
    pub async fn manifest_raw(
        &self,
        reference: &str,
    ) -> Result<(axum::body::Bytes, String, String), OciError> {
        let url = self.url(&format!("manifests/{reference}"))?;
        let resp = self
            .send(
                Method::GET,
                url.clone(),
                &[("accept", ANY_MANIFEST_ACCEPT)],
                None,
                Access::Pull,
            )
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(OciError::NotFound {
                what: format!("manifest '{reference}'"),
                repo: self.repo_name(),
            });
        }
        let resp = self.check(resp, "GET", &url)?;
        let media_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(OCI_MANIFEST_MEDIA_TYPE)
            .to_string();
        let body = read_limited(resp, 4 << 20, "manifest").await?;
        let digest = flux_artifact::digest(&body);
        if reference.starts_with("sha256:") && reference != digest {
            return Err(OciError::DigestMismatch(
                "manifest".into(),
                reference.to_string(),
                digest,
            ));
        }
        Ok((body.into(), media_type, digest))
    }

    /// Pushes a Flux artifact as `flux push artifact` lays it out: config `{}` in Flux's config
    /// media type, the tar.gz `layer` in Flux's content media type, `annotations` on the
    /// manifest, tagged `tag`. Returns the manifest digest.
    pub async fn push_artifact(
        &self,
        tag: &str,
        layer: axum::body::Bytes,
        annotations: &std::collections::BTreeMap<String, String>,
    ) -> Result<String, OciError> {
        let config = axum::body::Bytes::from_static(b"{}");
        let config_size = config.len();
        let layer_size = layer.len();
        let config_digest = self.push_blob(config).await?;
        let layer_digest = self.push_blob(layer).await?;
        let manifest = ManifestOut {
            schema_version: 2,
            media_type: OCI_MANIFEST_MEDIA_TYPE,
            config: DescriptorOut {
                media_type: FLUX_CONFIG_MEDIA_TYPE,
                size: config_size,
                digest: &config_digest,
            },
            layers: vec![DescriptorOut {
                media_type: FLUX_CONTENT_MEDIA_TYPE,
                size: layer_size,
                digest: &layer_digest,
            }],
            annotations,
        };
        let body =
            serde_json::to_vec(&manifest).map_err(|e| OciError::InvalidManifest(e.to_string()))?;
        self.put_manifest(tag, OCI_MANIFEST_MEDIA_TYPE, body.into())
            .await
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
    fn tagged_urls_split_into_repository_and_tag_or_digest() {
        let (r, tag) = Reference::parse_tagged("oci://localhost:5000/org/app:v1.0").expect("ref");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("localhost:5000", "org/app")
        );
        assert_eq!(tag.as_deref(), Some("v1.0"));
        let (r, tag) = Reference::parse_tagged("oci://localhost:5000/org/app").expect("ref");
        assert_eq!(r.repository, "org/app");
        assert_eq!(tag, None);
        let digest = format!("sha256:{}", "a".repeat(64));
        let (_, tag) =
            Reference::parse_tagged(&format!("oci://ghcr.io/org/app@{digest}")).expect("ref");
        assert_eq!(tag, Some(digest));
        assert!(Reference::parse_tagged("https://ghcr.io/org/app:v1").is_err());
        assert!(Reference::parse_tagged("oci://ghcr.io/org/app:").is_err());
        assert!(Reference::parse_tagged("oci://ghcr.io/org/app@sha256:short").is_err());
        assert!(Reference::parse_tagged("oci://ghcr.io:5000").is_err());
    }

    #[test]
    fn loopback_and_private_registries_default_to_plain_http() {
        for host in [
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "10.1.2.3",
            "192.168.1.1:80",
        ] {
            assert!(plain_http_by_default(host), "{host}");
        }
        for host in ["ghcr.io", "8.8.8.8:5000", "registry.local.example.com"] {
            assert!(!plain_http_by_default(host), "{host}");
        }
    }

    #[test]
    fn listed_tags_skip_signatures_and_follow_the_filters() {
        let tags: Vec<String> = [
            "v1.0.0",
            "latest",
            "v2.0.0",
            "sha256-abc.sig",
            "v1.2.0",
            "dev",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            filter_tags(tags.clone(), None, None).expect("all"),
            ["v2.0.0", "v1.2.0", "v1.0.0", "latest", "dev"]
        );
        assert_eq!(
            filter_tags(tags.clone(), Some("^v1"), None).expect("regex"),
            ["v1.2.0", "v1.0.0"]
        );
        assert_eq!(
            filter_tags(tags.clone(), None, Some(">=1.1.0")).expect("semver"),
            ["v2.0.0", "v1.2.0"]
        );
        assert!(filter_tags(tags.clone(), Some("("), None).is_err());
        assert!(filter_tags(tags, None, Some(">=x")).is_err());
    }

    #[test]
    fn bearer_challenges_give_realm_and_service() {
        assert_eq!(
            parse_bearer_challenge(
                r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#
            ),
            Some(BearerChallenge {
                realm: "https://auth.example.com/token".into(),
                service: Some("registry.example.com".into()),
            })
        );
        assert_eq!(
            parse_bearer_challenge(r#"bearer realm=http://127.0.0.1:9/t, service="s \"x\"""#),
            Some(BearerChallenge {
                realm: "http://127.0.0.1:9/t".into(),
                service: Some("s \"x\"".into()),
            })
        );
        assert_eq!(parse_bearer_challenge(r#"Basic realm="flux-rs""#), None);
        assert_eq!(parse_bearer_challenge(r#"Bearer service="s""#), None);
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
