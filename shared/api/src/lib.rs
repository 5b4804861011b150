//! flux-api
