//! flux-helm
