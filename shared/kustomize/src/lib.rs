//! flux-kustomize
