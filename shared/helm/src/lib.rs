//! flux-helm: load Helm charts, coalesce their values and render them as `helm template` does.

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

pub use action::{Rendered, TemplateOptions, render_chart, template, template_chart};
pub use chart::{Chart, ChartFile, Dependency, Metadata};
pub use error::Error;
pub use manifest::{Hook, Manifest};
