//! `semver` and `semverCompare` with Masterminds/semver v3 semantics: partial versions, a `v`
//! prefix, `||` and `,` groups, hyphen ranges, `~`/`^`/wildcards, and pre-releases matching only
//! constraints that carry a pre-release themselves (hence charts' `>=1.19-0`).

use std::cmp::Ordering;
use std::sync::Arc;

use super::args::{arity, reg, string};
use crate::func::{FuncError, FuncMap};
use crate::value::{Object, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub metadata: String,
    pub original: String,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

fn valid_ident_list(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// Parses a version the way `semver.NewVersion` does (non-strict).
pub fn parse_version(s: &str) -> Option<Version> {
    parse_parts(s, false).map(|(v, _, _)| v)
}

/// Parses a (possibly wildcard) version; returns it with "minor dirty"/"patch dirty" flags.
fn parse_parts(s: &str, allow_wild: bool) -> Option<(Version, bool, bool)> {
    let original = s.to_string();
    let s = s.strip_prefix('v').unwrap_or(s);
    let (s, metadata) = match s.split_once('+') {
        Some((a, m)) => {
            if !valid_ident_list(m) {
                return None;
            }
            (a, m.to_string())
        }
        None => (s, String::new()),
    };
    let (core, pre) = match s.split_once('-') {
        Some((a, p)) => {
            if !valid_ident_list(p) {
                return None;
            }
            (a, p.to_string())
        }
        None => (s, String::new()),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let is_wild = |p: &str| allow_wild && matches!(p, "x" | "X" | "*");
    let mut nums = [0u64; 3];
    let mut dirty = [false; 3];
    for (i, p) in parts.iter().enumerate() {
        if is_wild(p) {
            dirty[i] = true;
            continue;
        }
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        nums[i] = p.parse().ok()?;
    }
    if allow_wild {
        // Missing parts are wildcards in constraints ("1.2" means 1.2.x).
        for d in dirty.iter_mut().skip(parts.len()) {
            *d = true;
        }
        // Anything after a wildcard is a wildcard too.
        if dirty[0] {
            dirty[1] = true;
        }
        if dirty[1] {
            dirty[2] = true;
        }
    }
    Some((
        Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre,
            metadata,
            original,
        },
        dirty[1],
        dirty[2],
    ))
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

impl Version {
    pub fn compare(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| cmp_pre(&self.pre, &o.pre))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Tilde,
    Caret,
}

#[derive(Debug, Clone)]
struct Constraint {
    op: Op,
    con: Version,
    minor_dirty: bool,
    patch_dirty: bool,
    /// The whole version is a wildcard (`*`).
    any: bool,
}

impl Constraint {
    fn parse(s: &str) -> Option<Constraint> {
        let s = s.trim();
        let ops = [
            (">=", Op::Ge),
            ("=>", Op::Ge),
            ("<=", Op::Le),
            ("=<", Op::Le),
            ("!=", Op::Ne),
            ("~>", Op::Tilde),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("=", Op::Eq),
            ("~", Op::Tilde),
            ("^", Op::Caret),
        ];
        let (op, rest) = ops
            .iter()
            .find_map(|(p, op)| s.strip_prefix(p).map(|r| (*op, r)))
            .unwrap_or((Op::Eq, s));
        let rest = rest.trim();
        let any = matches!(rest, "*" | "x" | "X" | "v*" | "vx");
        let (con, minor_dirty, patch_dirty) = parse_parts(rest, true)?;
        Some(Constraint {
            op,
            con,
            minor_dirty,
            patch_dirty,
            any,
        })
    }

    fn dirty(&self) -> bool {
        self.minor_dirty || self.patch_dirty
    }

    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        let pre_blocked = !v.pre.is_empty() && c.pre.is_empty();
        match self.op {
            Op::Eq => {
                if self.any {
                    return !pre_blocked;
                }
                if self.dirty() {
                    if pre_blocked {
                        return false;
                    }
                    if v.major != c.major {
                        return false;
                    }
                    return self.minor_dirty || v.minor == c.minor;
                }
                v.compare(c) == Ordering::Equal
            }
            Op::Ne => {
                if self.dirty() {
                    if pre_blocked {
                        return false;
                    }
                    if v.major != c.major {
                        return true;
                    }
                    if self.minor_dirty {
                        return false;
                    }
                    return v.minor != c.minor;
                }
                if pre_blocked {
                    return false;
                }
                v.compare(c) != Ordering::Equal
            }
            Op::Gt => {
                if pre_blocked {
                    return false;
                }
                if self.minor_dirty {
                    return v.major > c.major;
                }
                if self.patch_dirty {
                    return v.major > c.major || (v.major == c.major && v.minor > c.minor);
                }
                v.compare(c) == Ordering::Greater
            }
            Op::Lt => !pre_blocked && v.compare(c) == Ordering::Less,
            Op::Ge => !pre_blocked && v.compare(c) != Ordering::Less,
            Op::Le => {
                if pre_blocked {
                    return false;
                }
                if self.minor_dirty {
                    return v.major <= c.major;
                }
                if self.patch_dirty {
                    return v.major < c.major || (v.major == c.major && v.minor <= c.minor);
                }
                v.compare(c) != Ordering::Greater
            }
            Op::Tilde => {
                if pre_blocked || v.compare(c) == Ordering::Less {
                    return false;
                }
                if c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
                    return v.major == c.major;
                }
                if v.major != c.major {
                    return false;
                }
                if v.minor != c.minor && !self.minor_dirty {
                    return false;
                }
                true
            }
            Op::Caret => {
                if pre_blocked || v.compare(c) == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                v.patch == c.patch
            }
        }
    }
}

/// A parsed constraint expression: OR of AND groups.
#[derive(Debug, Clone)]
pub struct Constraints(Vec<Vec<Constraint>>);

impl Constraints {
    pub fn parse(s: &str) -> Result<Constraints, String> {
        let mut groups = Vec::new();
        for group in s.split("||") {
            let mut cs = Vec::new();
            let tokens = tokenize(group.trim());
            let mut i = 0;
            while i < tokens.len() {
                // Hyphen range: "A - B".
                if i + 2 < tokens.len() && tokens[i + 1] == "-" {
                    let lo = Constraint::parse(&format!(">={}", tokens[i]));
                    let hi = Constraint::parse(&format!("<={}", tokens[i + 2]));
                    match (lo, hi) {
                        (Some(l), Some(h)) => {
                            cs.push(l);
                            cs.push(h);
                        }
                        _ => return Err(format!("improper constraint: {}", s)),
                    }
                    i += 3;
                    continue;
                }
                match Constraint::parse(&tokens[i]) {
                    Some(c) => cs.push(c),
                    None => return Err(format!("improper constraint: {s}")),
                }
                i += 1;
            }
            if cs.is_empty() {
                return Err(format!("improper constraint: {s}"));
            }
            groups.push(cs);
        }
        Ok(Constraints(groups))
    }

    pub fn check(&self, v: &Version) -> bool {
        self.0.iter().any(|g| g.iter().all(|c| c.check(v)))
    }
}

/// Splits an AND group on commas and spaces, keeping an operator with its version.
fn tokenize(group: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in group.split(',') {
        let mut pending_op = String::new();
        for w in part.split_whitespace() {
            if w.chars().all(|c| "<>=!~^".contains(c)) {
                pending_op.push_str(w);
                continue;
            }
            out.push(format!("{pending_op}{w}"));
            pending_op.clear();
        }
        if !pending_op.is_empty() {
            out.push(pending_op);
        }
    }
    out
}

/// The `*semver.Version` object templates get from `semver`.
#[derive(Debug)]
struct VersionObject(Version);

impl Object for VersionObject {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }
    fn field(&self, name: &str) -> Option<Result<Value, FuncError>> {
        let v = &self.0;
        let as_int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
        Some(Ok(match name {
            "Major" => as_int(v.major),
            "Minor" => as_int(v.minor),
            "Patch" => as_int(v.patch),
            "Prerelease" => Value::String(v.pre.clone()),
            "Metadata" => Value::String(v.metadata.clone()),
            "Original" => Value::String(v.original.clone()),
            "String" => Value::String(v.to_string()),
            _ => return None,
        }))
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let other = match args.first() {
            Some(Value::Object(o)) if o.type_name() == "*semver.Version" => o
                .field("Original")
                .and_then(|r| r.ok())
                .and_then(|v| v.as_str().and_then(parse_version)),
            Some(Value::String(s)) => parse_version(s),
            _ => None,
        };
        let o = other?;
        let ord = self.0.compare(&o);
        Some(Ok(match name {
            "LessThan" => Value::Bool(ord == Ordering::Less),
            "GreaterThan" => Value::Bool(ord == Ordering::Greater),
            "Equal" => Value::Bool(ord == Ordering::Equal),
            "Compare" => Value::Int(match ord {
                Ordering::Less => -1,
                Ordering::Equal => 0,
                Ordering::Greater => 1,
            }),
            _ => return None,
        }))
    }
    fn data(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

pub(crate) fn register(m: &mut FuncMap) {
    reg(m, "semver", |a| {
        arity(a, 1)?;
        let s = string(a, 0)?;
        let v = parse_version(s).ok_or_else(|| FuncError::failed("Invalid Semantic Version"))?;
        Ok(Value::Object(Arc::new(VersionObject(v))))
    });
    reg(m, "semverCompare", |a| {
        arity(a, 2)?;
        let c = Constraints::parse(string(a, 0)?).map_err(FuncError::failed)?;
        let v = parse_version(string(a, 1)?)
            .ok_or_else(|| FuncError::failed("Invalid Semantic Version"))?;
        Ok(Value::Bool(c.check(&v)))
    });
}
