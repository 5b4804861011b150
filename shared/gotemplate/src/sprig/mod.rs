//! Sprig v3 as Helm ships it: every function except `env` and `expandenv`, which Helm removes
//! (and `getHostByName`, which needs the network). Go panics in the non-`must` variants surface as
//! template errors, as they do in Go.

mod args;
mod certs;
mod crypto;
mod dates;
mod defaults;
mod dicts;
mod encoding;
mod lists;
mod math;
mod regex;
mod semver;
mod strings;

use crate::func::FuncMap;

pub use dates::{GoTime, format_duration, format_go, parse_duration};
pub use defaults::{from_json, to_json};
pub use semver::{Constraints, Version, parse_version};

/// All Sprig functions Helm provides.
pub fn funcs() -> FuncMap {
    let mut m = FuncMap::new();
    strings::register(&mut m);
    lists::register(&mut m);
    dicts::register(&mut m);
    math::register(&mut m);
    defaults::register(&mut m);
    encoding::register(&mut m);
    crypto::register(&mut m);
    certs::register(&mut m);
    regex::register(&mut m);
    semver::register(&mut m);
    dates::register(&mut m);
    m
}
