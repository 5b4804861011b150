//! Git checkouts for Flux sources.
//!
//! [`checkout`] fetches the commit a [`GitRef`] names into a persistent bare cache with gix and
//! writes its tree to a directory; [`GitRef::revision`] gives Flux's revision string
//! (`main@sha1:<hex>`). Authentication comes from the source's Secret as [`Auth`]. Everything here
//! blocks: callers run it on a blocking thread.

mod auth;
mod checkout;
mod error;
mod reference;
mod semver_range;
mod verify;

pub use auth::Auth;
pub use checkout::{Checkout, CheckoutOptions, checkout, list_remote_refs};
pub use error::Error;
pub use reference::{GitRef, RemoteRef, Resolved};
pub use semver_range::{SemverRange, highest_matching};
pub use verify::{Keyring, VerifyError, VerifyMode, parse_keyrings, verify};
