//! kustomize.toolkit.fluxcd.io: the Kustomization kind.

pub mod v1;

/// The API group of Kustomization.
pub const GROUP: &str = "kustomize.toolkit.fluxcd.io";
