//! The artifact HTTP server (`--storage-addr`): plain GETs of stored files, nothing else.

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Storage;

/// Storage below `root` (keeping `retention_records` per object) served on a free loopback
/// port by a task on the current runtime, its URLs advertising that port: the artifact server
/// of `flux local` and of the controllers' tests.
pub async fn serve_on_loopback(
    root: &std::path::Path,
    retention_records: usize,
) -> Result<Storage, crate::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| crate::Error::io(root, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| crate::Error::io(root, e))?;
    let storage = Storage::new(root, &addr.to_string(), retention_records)?;
    let app = router(storage.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(storage)
}

/// A router that serves every file below the storage root at its relative path.
pub fn router(storage: Storage) -> Router {
    Router::new()
        .route("/{*path}", axum::routing::get(serve))
        .with_state(storage)
}

async fn serve(State(storage): State<Storage>, UrlPath(path): UrlPath<String>) -> Response {
    let Some(file) = storage.resolve(&path) else {
        return (StatusCode::NOT_FOUND, "artifact not found\n").into_response();
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let content_type = if path.ends_with(".tar.gz") || path.ends_with(".tgz") {
                "application/gzip"
            } else if path.ends_with(".yaml") {
                "application/x-yaml"
            } else {
                "application/octet-stream"
            };
            ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
        Err(_) => (StatusCode::NOT_FOUND, "artifact not found\n").into_response(),
    }
}
