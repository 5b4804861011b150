//! flux-runtime
