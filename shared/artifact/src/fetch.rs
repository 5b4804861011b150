//! Download of an artifact from source-controller's artifact server, checked against the digest
//! in the source's status before anything uses it.

use crate::{Digester, Error};

/// Largest artifact a consumer downloads unless told otherwise (Flux's default is 100 MiB).
pub const DEFAULT_MAX_DOWNLOAD_SIZE: u64 = 100 << 20;

/// GETs `url`, enforcing `max_size` while streaming, and verifies `expected_digest`.
pub async fn fetch_verified(
    client: &reqwest::Client,
    url: &str,
    expected_digest: &str,
    max_size: u64,
) -> Result<Vec<u8>, Error> {
    let download = |message: String| Error::Download {
        url: url.to_string(),
        message,
    };
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| download(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(download(format!("server answered {}", response.status())));
    }
    if response.content_length().is_some_and(|len| len > max_size) {
        return Err(Error::DownloadTooLarge {
            url: url.to_string(),
            limit: max_size,
        });
    }
    let mut body = Vec::new();
    let mut digester = Digester::default();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| download(e.without_url().to_string()))?
    {
        if body.len() as u64 + chunk.len() as u64 > max_size {
            return Err(Error::DownloadTooLarge {
                url: url.to_string(),
                limit: max_size,
            });
        }
        digester.update(&chunk);
        body.extend_from_slice(&chunk);
    }
    crate::digest::check_digest(expected_digest, digester.finish())?;
    Ok(body)
}
