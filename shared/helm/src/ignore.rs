//! .helmignore rules: a subset of gitignore (globs, `dir/` patterns, `!` negation).

use crate::glob::glob_match;

#[derive(Debug, Default, Clone)]
pub struct IgnoreRules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negate: bool,
    dir_only: bool,
}

impl IgnoreRules {
    pub fn parse(text: &str) -> Self {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negate, p) = match line.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, line),
            };
            let (dir_only, p) = match p.strip_suffix('/') {
                Some(p) => (true, p),
                None => (false, p),
            };
            rules.push(Rule {
                pattern: p.trim_start_matches("./").to_string(),
                negate,
                dir_only,
            });
        }
        IgnoreRules { rules }
    }

    /// Whether `path` (relative, `/`-separated) is ignored. Chart.yaml is never ignored.
    pub fn ignored(&self, path: &str, is_dir: bool) -> bool {
        if path == "Chart.yaml" {
            return false;
        }
        // Helm's default rule: hidden files directly under templates/ are never templates.
        if let Some(rest) = path.strip_prefix("templates/")
            && rest.starts_with('.')
            && !rest.contains('/')
        {
            return true;
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        let mut ignored = false;
        for r in &self.rules {
            if r.dir_only && !is_dir {
                continue;
            }
            let hit = if r.pattern.contains('/') {
                glob_match(r.pattern.trim_start_matches('/'), path)
            } else {
                glob_match(&r.pattern, base)
            };
            if hit {
                ignored = !r.negate;
            }
        }
        ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helmignore_matches_basenames_dirs_and_negations() {
        let r = IgnoreRules::parse("# c\n*.bak\n.git/\n!keep.bak\n");
        assert!(r.ignored("a/b.bak", false));
        assert!(!r.ignored("keep.bak", false));
        assert!(r.ignored(".git", true));
        assert!(!r.ignored(".git", false));
        assert!(!r.ignored("Chart.yaml", false));
        assert!(IgnoreRules::default().ignored("templates/.swp", false));
    }
}
