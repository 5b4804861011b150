//! Go's `path.Match` glob: `*` and `?` never cross `/`, `[...]` classes with `^`/`!` and ranges.

/// Matches `name` against `pattern` like Go's `filepath.Match` (malformed patterns never match).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches(&p, &n)
}

fn matches(p: &[char], n: &[char]) -> bool {
    // Iterative wildcard matching with a single backtrack point per `*` segment.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, len)) = class(&p[pi..], n[ni]) {
                        if ok && n[ni] != '/' {
                            pi += len;
                            ni += 1;
                            continue;
                        }
                    } else {
                        return false;
                    }
                }
                '\\' if pi + 1 < p.len() && p[pi + 1] == n[ni] => {
                    pi += 2;
                    ni += 1;
                    continue;
                }
                c if c == n[ni] && c != '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) if n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Evaluates a `[...]` class at the start of `p` against `c`: (matched, pattern length).
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(1), Some('^') | Some('!'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        let mut lo = p[i];
        if lo == '\\' {
            i += 1;
            lo = *p.get(i)?;
        }
        let mut hi = lo;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|x| *x != ']') {
            hi = p[i + 2];
            i += 2;
        }
        if lo <= c && c <= hi {
            hit = true;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_does_not_cross_slashes() {
        assert!(glob_match(
            "templates/subdir/role*",
            "templates/subdir/rolebinding.yaml"
        ));
        assert!(!glob_match("templates/*", "templates/subdir/role.yaml"));
        assert!(glob_match("*.yaml", "a.yaml"));
    }

    #[test]
    fn classes_and_question_marks() {
        assert!(glob_match("file[0-9].txt", "file3.txt"));
        assert!(!glob_match("file[^0-9].txt", "file3.txt"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "a/c"));
    }
}

/// gobwas/glob with `/` as separator, as `.Files.Glob` uses: `**` also crosses `/`.
pub fn files_glob_match(pattern: &str, name: &str) -> bool {
    if !pattern.contains("**") {
        return glob_match(pattern, name);
    }
    // Split on `**`; each piece is a `/`-respecting glob, pieces may be separated by anything.
    let pieces: Vec<&str> = pattern.split("**").collect();
    fn rec(pieces: &[&str], name: &str, first: bool) -> bool {
        let Some((head, rest)) = pieces.split_first() else {
            return name.is_empty();
        };
        if rest.is_empty() {
            // Last piece must match a suffix of name.
            if first {
                return glob_match(head, name);
            }
            return name
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(name.len()))
                .any(|i| glob_match(head, &name[i..]));
        }
        let starts: Vec<usize> = if first {
            vec![0]
        } else {
            name.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(name.len()))
                .collect()
        };
        for s in starts {
            let tail = &name[s..];
            for e in tail
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(tail.len()))
            {
                if glob_match(head, &tail[..e]) && rec(rest, &tail[e..], false) {
                    return true;
                }
            }
        }
        false
    }
    rec(&pieces, name, true)
}

#[cfg(test)]
mod files_tests {
    use super::*;

    #[test]
    fn double_star_crosses_directories() {
        assert!(files_glob_match("files/**", "files/a/b.txt"));
        assert!(files_glob_match("**.yaml", "a/b/c.yaml"));
        assert!(!files_glob_match("files/*", "files/a/b.txt"));
        assert!(files_glob_match("files/*", "files/b.txt"));
    }
}
