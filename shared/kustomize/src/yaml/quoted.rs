//! Quoted scalars holding raw U+0085, U+2028 or U+2029, read as kustomize's go-yaml v3 reads
//! them. libyaml (which go-yaml ports) counts those three as line breaks and folds the blanks
//! around them; yaml-rust2 follows YAML 1.2 and keeps them as ordinary characters, so for such
//! scalars the value is re-read from the source text here.

/// Whether `text` holds a character libyaml treats as a line break and yaml-rust2 does not.
pub(super) fn has_libyaml_only_breaks(text: &str) -> bool {
    text.contains(['\u{85}', '\u{2028}', '\u{2029}'])
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `read_line`: CR LF, CR, LF and NEL become `\n`; LS and PS are kept as they are.
/// Returns the break and the index after it.
fn read_line(src: &[char], i: usize) -> (char, usize) {
    match src[i] {
        '\r' if src.get(i + 1) == Some(&'\n') => ('\n', i + 2),
        '\r' | '\n' | '\u{85}' => ('\n', i + 1),
        c => (c, i + 1),
    }
}

/// The value of the quoted scalar whose opening quote is `src[start]`, as go-yaml v3's
/// `yaml_parser_scan_flow_scalar` reads it; `None` when there is no quoted scalar there or it is
/// malformed (the caller keeps yaml-rust2's reading).
pub(super) fn read(src: &[char], start: usize) -> Option<String> {
    let quote = *src.get(start)?;
    let single = match quote {
        '\'' => true,
        '"' => false,
        _ => return None,
    };
    let mut i = start + 1;
    let mut s = String::new();
    loop {
        let mut leading_blanks = false;
        while let Some(&c) = src.get(i) {
            if is_blank(c) || is_break(c) {
                break;
            }
            if single && c == '\'' && src.get(i + 1) == Some(&'\'') {
                s.push('\'');
                i += 2;
            } else if c == quote {
                break;
            } else if !single && c == '\\' && src.get(i + 1).is_some_and(|&b| is_break(b)) {
                // An escaped line break joins the lines without a space.
                i = read_line(src, i + 1).1;
                leading_blanks = true;
                break;
            } else if !single && c == '\\' {
                let (ch, next) = escape(src, i + 1)?;
                s.push(ch);
                i = next;
            } else {
                s.push(c);
                i += 1;
            }
        }
        let c = *src.get(i)?;
        if c == quote {
            return Some(s);
        }
        let (mut whitespaces, mut leading_break, mut trailing_breaks) =
            (String::new(), None, String::new());
        while let Some(&c) = src.get(i) {
            if is_blank(c) {
                if !leading_blanks {
                    whitespaces.push(c);
                }
                i += 1;
            } else if is_break(c) {
                let (b, next) = read_line(src, i);
                if leading_blanks {
                    trailing_breaks.push(b);
                } else {
                    whitespaces.clear();
                    leading_break = Some(b);
                    leading_blanks = true;
                }
                i = next;
            } else {
                break;
            }
        }
        if !leading_blanks {
            s.push_str(&whitespaces);
        } else if leading_break == Some('\n') {
            // One line break folds into a space; n of them into n-1 newlines.
            if trailing_breaks.is_empty() {
                s.push(' ');
            } else {
                s.push_str(&trailing_breaks);
            }
        } else {
            // LS and PS (or an escaped break) are kept, and so are the breaks after them.
            s.extend(leading_break);
            s.push_str(&trailing_breaks);
        }
    }
}

/// A double-quoted escape whose letter is `src[i]`: the character and the index after it.
fn escape(src: &[char], i: usize) -> Option<(char, usize)> {
    let c = match *src.get(i)? {
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\u{b}',
        'f' => '\u{c}',
        'r' => '\r',
        'e' => '\u{1b}',
        ' ' => ' ',
        '"' => '"',
        '/' => '/',
        '\'' => '\'',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        x @ ('x' | 'u' | 'U') => {
            let len = match x {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let digits: String = src.get(i + 1..i + 1 + len)?.iter().collect();
            let code = u32::from_str_radix(&digits, 16).ok()?;
            return Some((char::from_u32(code)?, i + 1 + len));
        }
        _ => return None,
    };
    Some((c, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(src: &str) -> Option<String> {
        read(&src.chars().collect::<Vec<_>>(), 0)
    }

    #[test]
    fn nel_is_a_line_break_folded_with_the_blanks_around_it() {
        assert_eq!(value("\"one\u{85}two\"").as_deref(), Some("one two"));
        assert_eq!(value("\"a \u{85} b\"").as_deref(), Some("a b"));
        assert_eq!(
            value("\"x\n    y\u{85}\n    z\"").as_deref(),
            Some("x y\nz")
        );
    }

    #[test]
    fn line_and_paragraph_separators_are_kept_with_the_breaks_after_them() {
        assert_eq!(value("'p\u{2028}\n    q'").as_deref(), Some("p\u{2028}\nq"));
        assert_eq!(value("\"p \u{2029}  q\"").as_deref(), Some("p\u{2029}q"));
    }

    #[test]
    fn escapes_and_doubled_quotes_read_as_in_yaml() {
        assert_eq!(
            value(
                r#""a\u0085b\L\x41\"\
  c""#
            )
            .as_deref(),
            Some("a\u{85}b\u{2028}A\"c")
        );
        assert_eq!(value("'it''s'").as_deref(), Some("it's"));
        assert_eq!(value("plain"), None);
        assert_eq!(value("\"unterminated"), None);
    }
}
