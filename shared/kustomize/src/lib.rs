//! flux-kustomize: `kustomize build` as a pure library, printing what `kubectl kustomize` prints.

mod build;
mod error;
mod fieldspec;
mod generators;
pub mod json6902;
mod kustfile;
mod loader;
mod nameref;
mod replacements;
mod resource;
mod select;
pub mod smp;
mod sort;
mod transform;
pub mod yaml;

use std::path::Path;

pub use error::Error;
pub use resource::ResourceList;

/// Options for a build. kustomize's defaults (root-only load restriction, no plugins).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {}

/// Builds the kustomization in `root` into resources in output order.
pub fn build(root: &Path, _opts: &BuildOptions) -> Result<ResourceList, Error> {
    let res = build::Builder::new().build_root(root)?;
    Ok(ResourceList {
        resources: res.into_iter().map(|r| r.node).collect(),
    })
}

/// The exact text `kubectl kustomize root` prints.
pub fn build_to_yaml(root: &Path, opts: &BuildOptions) -> Result<String, Error> {
    Ok(build(root, opts)?.to_yaml())
}
