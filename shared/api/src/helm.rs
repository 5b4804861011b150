//! helm.toolkit.fluxcd.io: the HelmRelease kind.

pub mod v2;

/// The API group of HelmRelease.
pub const GROUP: &str = "helm.toolkit.fluxcd.io";
