//! Loose semantic versions and Masterminds-style constraints, as Helm uses for chart versions.

/// A version `major.minor.patch[-pre]`, parsed loosely like Masterminds/semver (`v1.2` is 1.2.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                (false, false) => self.pre.cmp(&o.pre),
            })
    }
}

/// Parses `v1.2.3-pre+build`, `1.2`, `1`; `None` when it is not a version.
pub fn parse_loose(s: &str) -> Option<Version> {
    let s = s.trim();
    let s = s.strip_prefix('v').unwrap_or(s);
    let s = s.split('+').next()?;
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) if !p.is_empty() => (c, p.to_string()),
        Some(_) => return None,
        None => (s, String::new()),
    };
    let mut parts = core.split('.');
    let num = |p: Option<&str>| -> Option<Option<u64>> {
        match p {
            None => Some(None),
            Some(x) if !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()) => {
                x.parse().ok().map(Some)
            }
            Some(_) => None,
        }
    };
    let major = num(parts.next())??;
    let minor = num(parts.next())?.unwrap_or(0);
    let patch = num(parts.next())?.unwrap_or(0);
    if parts.next().is_some() {
        return None;
    }
    Some(Version {
        major,
        minor,
        patch,
        pre,
    })
}

/// Whether `version` satisfies `constraint` (`||` alternatives of space/comma-separated
/// comparisons: `=`, `!=`, `>`, `>=`, `<`, `<=`, `~`, `^`, wildcards `x`/`*`, ranges `a - b`).
/// An unparsable constraint or version gives `false`; an empty constraint accepts anything.
pub fn satisfies(constraint: &str, version: &str) -> bool {
    let Some(v) = parse_loose(version) else {
        return false;
    };
    let c = constraint.trim();
    if c.is_empty() {
        return true;
    }
    c.split("||").any(|alt| {
        let alt = alt.trim();
        if let Some((lo, hi)) = alt.split_once(" - ") {
            return check(">=", lo.trim(), &v) && check("<=", hi.trim(), &v);
        }
        alt.split([',', ' ']).filter(|t| !t.is_empty()).all(|term| {
            let ops = [">=", "<=", "!=", "=>", "=<", ">", "<", "=", "~>", "~", "^"];
            let (op, rest) = ops
                .iter()
                .find_map(|op| term.strip_prefix(op).map(|r| (*op, r)))
                .unwrap_or(("", term));
            check(op, rest.trim(), &v)
        })
    })
}

fn check(op: &str, target: &str, v: &Version) -> bool {
    let t = target.strip_prefix('v').unwrap_or(target);
    let parts: Vec<&str> = t
        .split(['-', '+'])
        .next()
        .unwrap_or("")
        .split('.')
        .collect();
    let wild = |p: Option<&&str>| matches!(p, None | Some(&"x") | Some(&"X") | Some(&"*"));
    if parts.first().is_some_and(|p| matches!(*p, "*" | "x" | "X")) {
        return v.pre.is_empty();
    }
    let Some(base) = parse_loose(
        &parts
            .iter()
            .map(|p| {
                if matches!(*p, "x" | "X" | "*") {
                    "0"
                } else {
                    p
                }
            })
            .collect::<Vec<_>>()
            .join("."),
    ) else {
        return false;
    };
    let base = Version {
        pre: t
            .split_once('-')
            .map(|(_, p)| p.to_string())
            .unwrap_or_default(),
        ..base
    };
    // Pre-releases only satisfy constraints that name a pre-release.
    if !v.pre.is_empty() && base.pre.is_empty() {
        return false;
    }
    let minor_wild = wild(parts.get(1));
    let patch_wild = wild(parts.get(2));
    let upper = |bump_minor: bool| Version {
        major: if bump_minor {
            base.major
        } else {
            base.major + 1
        },
        minor: if bump_minor { base.minor + 1 } else { 0 },
        patch: 0,
        pre: String::new(),
    };
    match op {
        "" | "=" if minor_wild => v.major == base.major,
        "" | "=" if patch_wild => v.major == base.major && v.minor == base.minor,
        "" | "=" => *v == base,
        "!=" => *v != base,
        ">" => *v > base,
        ">=" | "=>" => *v >= base,
        "<" => *v < base,
        "<=" | "=<" => *v <= base,
        "~" | "~>" => *v >= base && *v < upper(!minor_wild),
        "^" => {
            let up = if base.major > 0 || minor_wild {
                upper(false)
            } else if base.minor > 0 || patch_wild {
                upper(true)
            } else {
                Version {
                    patch: base.patch + 1,
                    pre: String::new(),
                    ..base.clone()
                }
            };
            *v >= base && *v < up
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_versions_fill_missing_parts() {
        assert_eq!(parse_loose("v1.2").unwrap().minor, 2);
        assert_eq!(parse_loose("1").unwrap().patch, 0);
        assert!(parse_loose("one").is_none());
    }

    #[test]
    fn constraints_follow_masterminds_semantics() {
        assert!(satisfies("0.1.0", "0.1.0"));
        assert!(!satisfies("0.1.0", "0.1.1"));
        assert!(satisfies("^1.2.0", "1.9.9"));
        assert!(!satisfies("^1.2.0", "2.0.0"));
        assert!(satisfies("~1.2.0", "1.2.7"));
        assert!(!satisfies("~1.2.0", "1.3.0"));
        assert!(satisfies(">=1.0.0, <2.0.0", "1.5.0"));
        assert!(satisfies("1.x", "1.4.2"));
        assert!(satisfies("<1.0.0 || >=3.0.0", "3.1.0"));
        assert!(!satisfies(">=1.0.0", "1.1.0-alpha"));
        assert!(satisfies("*", "0.0.5"));
    }
}
