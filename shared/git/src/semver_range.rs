//! Semver ranges as Flux writes them (Masterminds syntax: `>=1.0.0 <2.0.0`, `~1.2`, `^1`,
//! `1.x`, `a || b`), over tag names that may carry a `v` prefix.

use semver::{Version, VersionReq};

use crate::Error;

/// A parsed range: alternatives (`||`) of comma-joined comparator sets.
#[derive(Debug, Clone)]
pub struct SemverRange {
    text: String,
    alternatives: Vec<VersionReq>,
}

impl SemverRange {
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |message: String| Error::InvalidSemver {
            range: text.to_string(),
            message,
        };
        let mut alternatives = Vec::new();
        for alt in text.split("||") {
            let alt = alt.trim();
            if alt.is_empty() {
                return Err(invalid("empty alternative".into()));
            }
            // Masterminds separates ANDed comparators with spaces or commas; the semver crate
            // wants commas. Operators may be followed by a space (`>= 1.0`), so glue those first.
            let mut parts: Vec<String> = Vec::new();
            let mut pending_op = String::new();
            for token in alt.split([' ', ',']).filter(|t| !t.is_empty()) {
                if token.chars().all(|c| "<>=~^!".contains(c)) {
                    pending_op.push_str(token);
                    continue;
                }
                let version_start = token.find(|c: char| !"<>=~^!".contains(c)).unwrap_or(0);
                let (op, version) = token.split_at(version_start);
                let version = version.strip_prefix('v').unwrap_or(version);
                let token = format!("{op}{version}");
                parts.push(format!("{pending_op}{token}"));
                pending_op.clear();
            }
            if !pending_op.is_empty() {
                return Err(invalid(format!("dangling operator '{pending_op}'")));
            }
            let req = VersionReq::parse(&parts.join(", ")).map_err(|e| invalid(e.to_string()))?;
            alternatives.push(req);
        }
        Ok(SemverRange {
            text: text.to_string(),
            alternatives,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, version: &Version) -> bool {
        self.alternatives.iter().any(|req| req.matches(version))
    }
}

/// Parses a tag as a version, accepting a `v` prefix and Masterminds' short forms (`1.2`).
pub fn parse_version(tag: &str) -> Option<Version> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    if let Ok(v) = Version::parse(t) {
        return Some(v);
    }
    // `1` or `1.2`, optionally with a pre-release or build suffix.
    let (core, suffix) = match t.find(['-', '+']) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let dots = core.matches('.').count();
    if dots >= 2 || core.is_empty() || !core.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let padded = format!("{core}{}{suffix}", ".0".repeat(2 - dots));
    Version::parse(&padded).ok()
}

/// The highest of `tags` whose version the range accepts, with its parsed version.
pub fn highest_matching<'a>(
    range: &SemverRange,
    tags: impl IntoIterator<Item = &'a str>,
) -> Option<(&'a str, Version)> {
    tags.into_iter()
        .filter_map(|t| parse_version(t).map(|v| (t, v)))
        .filter(|(_, v)| range.matches(v))
        .max_by(|a, b| a.1.cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(range: &str, tags: &[&'static str]) -> Option<&'static str> {
        let r = SemverRange::parse(range).expect("range");
        highest_matching(&r, tags.iter().copied()).map(|(t, _)| t)
    }

    #[test]
    fn space_separated_bounds_pick_the_highest_in_range() {
        let tags = ["v0.9.0", "v1.0.0", "v1.4.2", "v2.0.0", "latest"];
        assert_eq!(pick(">=1.0.0 <2.0.0", &tags), Some("v1.4.2"));
        assert_eq!(pick(">= 1.0.0, < 2.0.0", &tags), Some("v1.4.2"));
        assert_eq!(pick(">=1.0.0", &tags), Some("v2.0.0"));
        assert_eq!(pick("~0.9", &tags), Some("v0.9.0"));
        assert_eq!(pick("<0.1 || >=2", &tags), Some("v2.0.0"));
        assert_eq!(pick(">=3.0.0", &tags), None);
    }

    #[test]
    fn prereleases_only_match_ranges_that_ask_for_them() {
        let tags = ["1.0.0", "1.1.0-rc.1"];
        assert_eq!(pick(">=1.0.0", &tags), Some("1.0.0"));
        assert_eq!(pick(">=1.1.0-rc.0", &tags), Some("1.1.0-rc.1"));
    }

    #[test]
    fn bad_ranges_are_errors_naming_the_range() {
        let err = SemverRange::parse(">=x.y").expect_err("bad");
        assert!(err.to_string().contains(">=x.y"), "{err}");
        assert!(SemverRange::parse(">=").is_err());
        assert!(SemverRange::parse("1.0 ||").is_err());
    }
}
