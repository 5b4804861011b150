//! `flux local`: Flux without a cluster. `run` reconciles a fleet repository on an in-memory API
//! server with the controllers in-process; `build` prints what a path produces; `apiserver`
//! serves the in-memory API server for kubectl.

pub mod apply;
pub mod controllers;
pub mod report;
pub mod run;
pub mod sources;
