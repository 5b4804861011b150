//! source-controller: reconcilers (library) used by the binary and by `flux local`.

pub mod flags;

/// The binary name, also the controller name in events, leases and field managers.
pub const CONTROLLER_NAME: &str = "source-controller";
pub mod chart_build;
pub mod gitrepository;
pub mod helm_http;
pub mod helm_index;
pub mod helmchart;
pub mod helmrepository;
pub mod oci_registry;
pub mod ocirepository;
pub mod source_status;
