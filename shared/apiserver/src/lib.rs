//! flux-apiserver
