//! Flux source artifacts: the tar.gz that source-controller serves and every consumer unpacks.
//!
//! Producers (source-controller, `flux local`, `flux push artifact`) call [`pack_dir`] with the
//! [`IgnoreRules`] of a source; consumers (kustomize-controller, helm-controller) call
//! [`fetch_verified`] and [`unpack`]. The archive is deterministic, so the same tree always gives
//! the same [`digest`], which is what makes revisions and "no change" detection work.

mod digest;
mod error;
mod fetch;
mod ignore_rules;
mod pack;
mod server;
mod storage;
mod unpack;

pub use digest::{Digester, digest, verify_digest};
pub use error::Error;
pub use fetch::{DEFAULT_MAX_DOWNLOAD_SIZE, fetch_verified};
pub use ignore_rules::{DEFAULT_EXCLUDES, IgnoreRules, SOURCEIGNORE_FILE, VCS_EXCLUDES};
pub use pack::{PackStats, pack_dir};
pub use server::{router, serve_on_loopback};
pub use storage::{Owner, Storage, Stored};
pub use unpack::{DEFAULT_MAX_UNPACK_SIZE, UnpackLimits, UnpackStats, unpack};
