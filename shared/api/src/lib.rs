//! flux-api: serde types and CRD generation for every Flux kind and served version.
//!
//! Each API group has a module per version (`source::v1`, `source::v1beta2`, ...); [`crds`] turns
//! them into the CustomResourceDefinitions flux-rs installs, merged per kind. [`FluxObject`]
//! parses any served kind and version, with errors that name the offending field:
//!
//! ```
//! use flux_api::FluxObject;
//!
//! let repo = FluxObject::from_yaml(
//!     "apiVersion: source.toolkit.fluxcd.io/v1\n\
//!      kind: GitRepository\n\
//!      metadata: {name: app, namespace: flux-system}\n\
//!      spec: {url: 'https://github.com/org/app', interval: 1m}\n",
//! )?;
//! assert_eq!(repo.kind(), "GitRepository");
//!
//! let err = FluxObject::from_yaml(
//!     "apiVersion: source.toolkit.fluxcd.io/v1\n\
//!      kind: GitRepository\n\
//!      metadata: {name: app, namespace: flux-system}\n\
//!      spec: {url: 'https://github.com/org/app', interval: 1x}\n",
//! )
//! .unwrap_err();
//! assert!(err.to_string().starts_with("GitRepository flux-system/app: spec.interval: invalid duration"));
//!
//! let yaml = flux_api::crds::to_yaml(&flux_api::crds::for_component("kustomize-controller").unwrap())?;
//! assert!(yaml.contains("name: kustomizations.kustomize.toolkit.fluxcd.io"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
