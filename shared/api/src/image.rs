//! image.toolkit.fluxcd.io: ImageRepository, ImagePolicy and ImageUpdateAutomation.

pub mod v1;
pub mod v1beta2;

/// The API group of the image kinds.
pub const GROUP: &str = "image.toolkit.fluxcd.io";
