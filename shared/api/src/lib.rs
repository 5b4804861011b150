//! flux-api: serde types and CRD generation for every Flux kind and served version.
//!
//! Each API group has a module per version (`source::v1`, `source::v1beta2`, ...); [`crds`] turns
//! them into the CustomResourceDefinitions flux-rs installs, merged per kind.

// kube's `#[kube(printcolumn(..), category = ..)]` repeats keys by design; clippy reads them as
// duplicated attributes.
#![allow(clippy::duplicated_attributes)]

pub mod crds;
pub mod helm;
pub mod image;
pub mod kustomize;
pub mod meta;
pub mod notification;
pub mod object;
pub mod source;

pub use object::{FluxObject, ParseError};
