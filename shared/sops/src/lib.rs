//! flux-sops
