//! HTTP access to a Helm repository as a HelmRepository describes it: basic auth from
//! `secretRef`, a CA and client certificate from `certSecretRef`, credentials sent to other
//! hosts only with `passCredentials`, and size-bounded downloads.

use std::collections::BTreeMap;
use std::time::Duration;

use flux_api::source::v1::HelmRepository;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;
use reqwest::Url;

/// Why building the client failed: the secret is missing or unusable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(pub String);

/// A client for one repository.
pub struct RepoClient {
    http: reqwest::Client,
    repo_url: Url,
    basic: Option<(String, String)>,
    pass_credentials: bool,
}

/// The data of a Secret, `data` and `stringData` together.
pub async fn secret_data(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<BTreeMap<String, Vec<u8>>, AuthError> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = secrets
        .get_opt(name)
        .await
        .map_err(|e| AuthError(format!("failed to get secret '{namespace}/{name}': {e}")))?
        .ok_or_else(|| {
            AuthError(format!(
                "failed to get secret '{namespace}/{name}': secrets \"{name}\" not found"
            ))
        })?;
    Ok(secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .chain(
            secret
                .string_data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes())),
        )
        .collect())
}

/// Adds a `certSecretRef`'s TLS material to `builder`: `ca.crt` as trusted roots, and
/// `tls.crt` + `tls.key` as the client certificate.
pub fn with_tls_from_secret(
    mut builder: reqwest::ClientBuilder,
    data: &BTreeMap<String, Vec<u8>>,
    secret: &str,
) -> Result<reqwest::ClientBuilder, AuthError> {
    if let Some(ca) = data.get("ca.crt") {
        let certs = reqwest::Certificate::from_pem_bundle(ca).map_err(|e| {
            AuthError(format!(
                "failed to parse CA certificate from secret '{secret}': {e}"
            ))
        })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let (Some(crt), Some(key)) = (data.get("tls.crt"), data.get("tls.key")) {
        let mut pem = crt.clone();
        pem.push(b'\n');
        pem.extend_from_slice(key);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
            AuthError(format!(
                "failed to parse client certificate from secret '{secret}': {e}"
            ))
        })?;
        builder = builder.identity(identity);
    }
    Ok(builder)
}

impl RepoClient {
    pub async fn for_repository(
        client: &kube::Client,
        repo: &HelmRepository,
    ) -> Result<RepoClient, AuthError> {
        let namespace = repo.namespace().unwrap_or_default();
        let repo_url = Url::parse(&repo.spec.url)
            .map_err(|e| AuthError(format!("invalid Helm repository URL: {e}")))?;
        let mut builder = reqwest::Client::builder()
            .timeout(repo.spec.timeout().max(Duration::from_secs(1)))
            .use_rustls_tls();
        let mut basic = None;
        if let Some(secret_ref) = &repo.spec.secret_ref {
            let data = secret_data(client, &namespace, &secret_ref.name).await?;
            let user = data
                .get("username")
                .map(|v| String::from_utf8_lossy(v).into_owned());
            let pass = data
                .get("password")
                .map(|v| String::from_utf8_lossy(v).into_owned());
            match (user, pass) {
                (Some(u), Some(p)) => basic = Some((u, p)),
                (None, None) => {}
                _ => {
                    return Err(AuthError(format!(
                        "invalid '{}' secret data: required fields 'username' and 'password'",
                        secret_ref.name
                    )));
                }
            }
        }
        if let Some(cert_ref) = &repo.spec.cert_secret_ref {
            let data = secret_data(client, &namespace, &cert_ref.name).await?;
            builder = with_tls_from_secret(builder, &data, &cert_ref.name)?;
        }
        let http = builder
            .build()
            .map_err(|e| AuthError(format!("failed to construct Helm client: {e}")))?;
        Ok(RepoClient {
            http,
            repo_url,
            basic,
            pass_credentials: repo.spec.pass_credentials,
        })
    }

    /// GETs `url` into memory, at most `max` bytes. Credentials go only to the repository's own
    /// scheme and host unless `passCredentials` is set, as Helm's getter does.
    pub async fn get(&self, url: &Url, max: u64) -> Result<Vec<u8>, String> {
        let shown = redact(url);
        let mut request = self.http.get(url.clone());
        let same_origin = url.scheme() == self.repo_url.scheme()
            && url.host_str() == self.repo_url.host_str()
            && url.port_or_known_default() == self.repo_url.port_or_known_default();
        if let Some((user, pass)) = &self.basic
            && (same_origin || self.pass_credentials)
        {
            request = request.basic_auth(user, Some(pass));
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| format!("failed to fetch {shown} : {}", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("failed to fetch {shown} : {status}"));
        }
        if response.content_length().is_some_and(|l| l > max) {
            return Err(format!("{shown} is larger than the limit of {max} bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("failed to fetch {shown} : {}", e.without_url()))?
        {
            if body.len() as u64 + chunk.len() as u64 > max {
                return Err(format!("{shown} is larger than the limit of {max} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The URL without any password, for messages.
pub fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(None);
    }
    shown.to_string()
}
