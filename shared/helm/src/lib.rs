//! flux-helm: load Helm charts, coalesce their values and render them as `helm template` does.
//!
//! [`template`] takes a chart directory or `.tgz` and returns exactly what
//! `helm template [NAME] CHART` prints; [`render_chart`] returns the structured result
//! (manifests in install order, hooks with events, weights and delete policies, CRDs, values)
//! for helm-controller.
//!
//! ```no_run
//! use flux_helm::{TemplateOptions, template};
//! let opts = TemplateOptions {
//!     release_name: "web".into(),
//!     set: vec!["image.tag=1.2.3".into()],
//!     ..Default::default()
//! };
//! let out = template(std::path::Path::new("charts/web"), &opts)?;
//! print!("{out}");
//! # Ok::<(), flux_helm::Error>(())
//! ```
//!
//! The pieces, in the order `helm template` uses them: [`loader`] (directory/archive, with
//! .helmignore and path checks), [`yaml11`] (YAML read as go-yaml v2 does), [`strvals`]
//! (`--set`), [`dependencies`] (conditions, tags, aliases, import-values), [`values`]
//! (coalescing), [`schema`] (values.schema.json), [`engine`] + [`funcs`] + [`objects`]
//! (templates with Sprig and Helm functions), [`manifest`] (hooks and install order),
//! [`toyaml`] (go-yaml v2 output).

pub mod action;
pub mod chart;
pub mod dependencies;
pub mod engine;
pub mod error;
pub mod funcs;
pub mod glob;
pub mod ignore;
pub mod loader;
pub mod manifest;
pub mod objects;
pub mod schema;
pub mod semver;
pub mod strvals;
pub mod toyaml;
pub mod values;
pub mod yaml;
pub mod yaml11;

pub use action::{
    Rendered, TemplateOptions, render_chart, template, template_args, template_chart,
};
pub use chart::{Chart, ChartFile, Dependency, Metadata};
pub use error::Error;
pub use manifest::{Hook, Manifest};
