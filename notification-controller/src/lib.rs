//! notification-controller: reconcilers (library) used by the binary and by `flux local`.
