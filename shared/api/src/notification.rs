//! notification.toolkit.fluxcd.io: Provider, Alert and Receiver.

pub mod v1;
pub mod v1beta2;
pub mod v1beta3;

/// The API group of the notification kinds.
pub const GROUP: &str = "notification.toolkit.fluxcd.io";
