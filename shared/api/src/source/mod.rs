//! source.toolkit.fluxcd.io: GitRepository, HelmRepository, HelmChart, Bucket and OCIRepository.

pub mod v1;
pub mod v1beta2;

/// The API group of every source kind.
pub const GROUP: &str = "source.toolkit.fluxcd.io";
