//! flux-runtime: the controller skeleton shared by the flux-rs controllers.

pub mod conditions;
pub mod controller;
pub mod events;
pub mod flags;
pub mod leader;
pub mod manager;
pub mod metrics;
pub mod reconcile;
pub mod server;
pub mod telemetry;
pub mod testkit;
pub mod throttle;
