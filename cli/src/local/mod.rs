//! `flux local`: Flux without a cluster. `run` reconciles a fleet repository on an in-memory API
//! server with the controllers in-process; `build` prints what a path produces; `diff` compares
//! two refs; `apiserver` serves the in-memory API server for kubectl.

pub mod apply;
pub mod build;
pub mod controllers;
pub mod diff;
pub mod progress;
pub mod report;
pub mod run;
pub mod sources;
pub mod worktree;
