//! flux-kstatus
