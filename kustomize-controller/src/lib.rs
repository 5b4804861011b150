//! kustomize-controller: reconcilers (library) used by the binary and by `flux local`.

pub mod flags;

/// The binary name, also the controller name in events, leases and field managers.
pub const CONTROLLER_NAME: &str = "kustomize-controller";
pub mod apply;
pub mod build;
pub mod convert;
pub mod godur;
pub mod inventory;
pub mod kustomization;
pub mod overrides;
