//! Sprig v3 as Helm ships it (Helm removes `env` and `expandenv`).

mod args;
mod strings;

use crate::func::FuncMap;

/// All Sprig functions Helm provides.
pub fn funcs() -> FuncMap {
    let mut m = FuncMap::new();
    strings::register(&mut m);
    m
}
