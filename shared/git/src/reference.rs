//! Which commit a GitRepository's `spec.ref` names, and Flux's revision string for it.
//!
//! Precedence is Flux's: commit, then name, then semver, then tag, then branch; with no
//! reference at all the `master` branch is used.

use crate::{Error, SemverRange, highest_matching};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitRef {
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub semver: Option<String>,
    pub name: Option<String>,
    pub commit: Option<String>,
}

/// A ref advertised by the remote with the commit it finally points to (tags peeled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    pub name: String,
    pub commit: String,
}

/// What a reference resolved to: a label for the revision (branch, tag or ref name) and a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub label: Option<String>,
    pub commit: String,
}

impl GitRef {
    fn branch_or_default(&self) -> &str {
        self.branch.as_deref().unwrap_or("master")
    }

    /// Refspecs to fetch so that the reference can be resolved locally.
    pub fn refspecs(&self) -> Vec<String> {
        if let Some(name) = &self.name {
            return vec![format!("+{name}:{name}")];
        }
        if self.commit.is_some() && self.branch.is_none() {
            return vec!["+refs/heads/*:refs/heads/*".into()];
        }
        if self.semver.is_some() {
            return vec!["+refs/tags/*:refs/tags/*".into()];
        }
        if let Some(tag) = &self.tag {
            return vec![format!("+refs/tags/{tag}:refs/tags/{tag}")];
        }
        let branch = self.branch_or_default();
        vec![format!("+refs/heads/{branch}:refs/heads/{branch}")]
    }

    /// Picks the commit among the remote's refs. A pinned commit is returned as asked; whether
    /// it exists is checked once objects are fetched.
    pub fn resolve(&self, refs: &[RemoteRef], url: &str) -> Result<Resolved, Error> {
        let find = |full: &str| refs.iter().find(|r| r.name == full);
        if let Some(commit) = &self.commit {
            if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::InvalidCommit(commit.clone()));
            }
            return Ok(Resolved {
                label: self.branch.clone(),
                commit: commit.to_ascii_lowercase(),
            });
        }
        if let Some(name) = &self.name {
            let r = find(name).ok_or_else(|| Error::RefNotFound {
                kind: "reference",
                name: name.clone(),
                url: url.to_string(),
            })?;
            return Ok(Resolved {
                label: Some(name.clone()),
                commit: r.commit.clone(),
            });
        }
        if let Some(range) = &self.semver {
            let range = SemverRange::parse(range)?;
            let tags = refs
                .iter()
                .filter_map(|r| r.name.strip_prefix("refs/tags/"))
                .filter(|t| !t.ends_with("^{}"));
            let (tag, _) = highest_matching(&range, tags).ok_or_else(|| Error::NoSemverMatch {
                range: range.as_str().to_string(),
                url: url.to_string(),
            })?;
            let r = find(&format!("refs/tags/{tag}")).ok_or_else(|| Error::RefNotFound {
                kind: "tag",
                name: tag.to_string(),
                url: url.to_string(),
            })?;
            return Ok(Resolved {
                label: Some(tag.to_string()),
                commit: r.commit.clone(),
            });
        }
        if let Some(tag) = &self.tag {
            let r = find(&format!("refs/tags/{tag}")).ok_or_else(|| Error::RefNotFound {
                kind: "tag",
                name: tag.clone(),
                url: url.to_string(),
            })?;
            return Ok(Resolved {
                label: Some(tag.clone()),
                commit: r.commit.clone(),
            });
        }
        let branch = self.branch_or_default();
        let r = find(&format!("refs/heads/{branch}")).ok_or_else(|| Error::RefNotFound {
            kind: "branch",
            name: branch.to_string(),
            url: url.to_string(),
        })?;
        Ok(Resolved {
            label: Some(branch.to_string()),
            commit: r.commit.clone(),
        })
    }
}

impl Resolved {
    /// Flux's revision string: `main@sha1:<hex>`, `v1.2.3@sha1:<hex>`, or `sha1:<hex>`.
    pub fn revision(&self) -> String {
        match &self.label {
            Some(label) => format!("{label}@sha1:{}", self.commit),
            None => format!("sha1:{}", self.commit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const C: &str = "3333333333333333333333333333333333333333";

    fn refs() -> Vec<RemoteRef> {
        [
            ("refs/heads/main", A),
            ("refs/heads/dev", B),
            ("refs/tags/v1.0.0", B),
            ("refs/tags/v1.2.0", C),
            ("refs/pull/1/head", C),
        ]
        .iter()
        .map(|(n, c)| RemoteRef {
            name: n.to_string(),
            commit: c.to_string(),
        })
        .collect()
    }

    fn revision(r: GitRef) -> Result<String, Error> {
        r.resolve(&refs(), "git://example/repo")
            .map(|x| x.revision())
    }

    #[test]
    fn each_reference_kind_gives_flux_revision_strings() {
        let branch = GitRef {
            branch: Some("main".into()),
            ..Default::default()
        };
        assert_eq!(revision(branch).expect("branch"), format!("main@sha1:{A}"));
        let tag = GitRef {
            tag: Some("v1.0.0".into()),
            ..Default::default()
        };
        assert_eq!(revision(tag).expect("tag"), format!("v1.0.0@sha1:{B}"));
        let semver = GitRef {
            semver: Some(">=1.0.0 <2.0.0".into()),
            ..Default::default()
        };
        assert_eq!(
            revision(semver).expect("semver"),
            format!("v1.2.0@sha1:{C}")
        );
        let name = GitRef {
            name: Some("refs/pull/1/head".into()),
            ..Default::default()
        };
        assert_eq!(
            revision(name).expect("name"),
            format!("refs/pull/1/head@sha1:{C}")
        );
        let commit = GitRef {
            commit: Some(B.into()),
            ..Default::default()
        };
        assert_eq!(revision(commit).expect("commit"), format!("sha1:{B}"));
        let pinned = GitRef {
            branch: Some("dev".into()),
            commit: Some(B.into()),
            ..Default::default()
        };
        assert_eq!(revision(pinned).expect("pinned"), format!("dev@sha1:{B}"));
    }

    #[test]
    fn missing_references_are_named_in_the_error() {
        let err = revision(GitRef {
            branch: Some("nope".into()),
            ..Default::default()
        })
        .expect_err("missing");
        assert_eq!(
            err.to_string(),
            "branch 'nope' not found in git://example/repo"
        );
        let err = revision(GitRef::default()).expect_err("no master");
        assert!(err.to_string().contains("branch 'master'"), "{err}");
        let err = revision(GitRef {
            semver: Some(">=5.0.0".into()),
            ..Default::default()
        })
        .expect_err("no match");
        assert!(matches!(err, Error::NoSemverMatch { .. }), "{err}");
        let err = revision(GitRef {
            commit: Some("abc".into()),
            ..Default::default()
        })
        .expect_err("bad sha");
        assert!(matches!(err, Error::InvalidCommit(_)), "{err}");
    }
}
