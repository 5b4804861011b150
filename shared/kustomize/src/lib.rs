//! flux-kustomize: `kustomize build` as a pure library, printing what `kubectl kustomize` prints.

mod build;
mod error;
mod fieldspec;
mod generate;
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
pub mod substitute;
mod transform;
mod vars;
pub mod yaml;

use std::path::Path;

pub use error::Error;
pub use generate::generate_kustomization;
pub use resource::ResourceList;

/// Options for a build. kustomize's defaults (root-only load restriction, no plugins).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Flux behaviour: when `root` has no kustomization file, build the one
    /// [`generate_kustomization`] makes instead of failing like kustomize.
    pub generate_missing_kustomization: bool,
}

/// Builds the kustomization in `root` into resources in output order.
pub fn build(root: &Path, opts: &BuildOptions) -> Result<ResourceList, Error> {
    let mut b = build::Builder::new();
    if opts.generate_missing_kustomization
        && let Some(text) = generate_kustomization(root)?
    {
        b.set_root_override(root, text)?;
    }
    let res = b.build_root(root)?;
    Ok(ResourceList {
        resources: res.into_iter().map(|r| r.node).collect(),
    })
}

/// The exact text `kubectl kustomize root` prints.
pub fn build_to_yaml(root: &Path, opts: &BuildOptions) -> Result<String, Error> {
    Ok(build(root, opts)?.to_yaml())
}
