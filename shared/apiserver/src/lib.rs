//! flux-apiserver: an in-memory Kubernetes API server that kubectl and kube-rs take for a real one.
//!
//! ```no_run
//! # async fn demo() -> Result<(), flux_apiserver::Error> {
//! let server = flux_apiserver::start(flux_apiserver::ServerOptions::default()).await?;
//! let client = server.client().await?;
//! # let _ = client;
//! server.shutdown().await
//! # }
//! ```

mod api;
mod auth;
mod background;
mod bootstrap_rbac;
mod convert;
mod crd;
mod delete;
mod discovery;
mod error;
mod gc;
mod http_util;
mod immutable;
mod objects;
mod openapi_pb;
mod patch;
mod persist;
mod protobuf;
mod query;
mod registry;
mod server;
mod simulate;
mod store;
mod subresources;
mod table;
mod typed;
mod watch;
mod workloads;

pub use background::{BackgroundServer, start_seeded, start_seeded_with};
pub use error::Error;
pub use server::{RunningServer, ServerOptions, serve_foreground_with, start};
pub use simulate::SIMULATE_ANNOTATION;
