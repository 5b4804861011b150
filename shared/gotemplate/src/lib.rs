//! flux-gotemplate
