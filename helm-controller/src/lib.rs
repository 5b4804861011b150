//! helm-controller: reconcilers (library) used by the binary and by `flux local`.

pub mod flags;

/// The binary name, also the controller name in events, leases and field managers.
pub const CONTROLLER_NAME: &str = "helm-controller";
pub mod actions;
pub mod apply;
pub mod helmrelease;
pub mod release;
pub mod values;
