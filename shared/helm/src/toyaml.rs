//! YAML output as Helm's `toYaml` prints it (sigs.k8s.io/yaml over go-yaml v2): keys sorted in
//! go-yaml's natural order, 2-space indentation, sequences not indented under keys, go-yaml's
//! quoting rules, literal blocks for multi-line strings and folding of long lines at 80 columns.

use serde_json::Value;

const BEST_WIDTH: usize = 80;
const MAX_DEPTH: usize = 1000;

/// Marshals `v` like `yaml.Marshal` in Helm; the result ends with a newline.
pub fn to_yaml(v: &Value) -> String {
    emit(v, false)
}

/// Like [`to_yaml`] but with sequences indented under their keys, as Helm's `toYamlPretty`.
pub fn to_yaml_pretty(v: &Value) -> String {
    emit(v, true)
}

fn emit(v: &Value, indent_sequences: bool) -> String {
    let mut e = Emitter {
        out: String::new(),
        indent_sequences,
    };
    e.node(v, 0, Ctx::Top, 0);
    // A keep-chomped literal already ended its last line; go-yaml still closes the document.
    e.out.push('\n');
    e.out
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Top,
    /// A value after `key: ` or `- `; `inline` tells whether we are already on the line.
    Value,
}

struct Emitter {
    out: String,
    indent_sequences: bool,
}

impl Emitter {
    fn column(&self) -> usize {
        match self.out.rfind('\n') {
            Some(i) => self.out[i + 1..].chars().count(),
            None => self.out.chars().count(),
        }
    }

    fn newline_indent(&mut self, indent: usize) {
        self.out.push('\n');
        self.out.extend(std::iter::repeat_n(' ', indent));
    }

    /// Emits `v`. For collections in `Value` context the caller has written `key:` and nothing else;
    /// for scalars it has written `key:` and we add ` value`.
    fn node(&mut self, v: &Value, indent: usize, ctx: Ctx, depth: usize) {
        if depth > MAX_DEPTH {
            self.out.push_str("null");
            return;
        }
        match v {
            Value::Object(m) if !m.is_empty() => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort_by(|a, b| natural_cmp(a, b));
                for (i, k) in keys.into_iter().enumerate() {
                    if (i > 0 || ctx == Ctx::Value) && !(i == 0 && self.out.is_empty()) {
                        self.newline_indent(indent);
                    }
                    // go-yaml writes keys over 128 bytes or spanning lines as `? key` / `: value`.
                    if k.len() > 128 || k.contains('\n') {
                        self.out.push_str("? ");
                        self.scalar_string(k, indent + 2, false);
                        self.newline_indent(indent);
                    } else {
                        self.scalar_string(k, indent, true);
                    }
                    self.out.push(':');
                    let child = &m[k];
                    match child {
                        Value::Object(cm) if !cm.is_empty() => {
                            self.node(child, indent + 2, Ctx::Value, depth + 1)
                        }
                        // go-yaml v2 does not indent a sequence under its key.
                        Value::Array(a) if !a.is_empty() => {
                            let i = if self.indent_sequences {
                                indent + 2
                            } else {
                                indent
                            };
                            self.node(child, i, Ctx::Value, depth + 1)
                        }
                        _ => {
                            self.out.push(' ');
                            self.node(child, indent + 2, Ctx::Value, depth + 1);
                        }
                    }
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, item) in a.iter().enumerate() {
                    if i > 0 || ctx == Ctx::Value {
                        self.newline_indent(indent);
                    }
                    self.out.push_str("- ");
                    match item {
                        Value::Object(m) if !m.is_empty() => {
                            self.node(item, indent + 2, Ctx::Top, depth + 1)
                        }
                        Value::Array(l) if !l.is_empty() => {
                            self.node(item, indent + 2, Ctx::Top, depth + 1)
                        }
                        _ => self.node(item, indent + 2, Ctx::Value, depth + 1),
                    }
                }
            }
            Value::Object(_) => self.out.push_str("{}"),
            Value::Array(_) => self.out.push_str("[]"),
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => self.out.push_str(&yaml_number(n)),
            Value::String(s) => self.scalar_string(s, indent, false),
        }
    }

    fn scalar_string(&mut self, s: &str, indent: usize, simple_key: bool) {
        let a = analyze(s);
        let needs_quote = resolves_to_non_string(s);
        if s.contains('\n') && !simple_key && a.block_allowed {
            self.literal(s, indent);
            return;
        }
        if !needs_quote && a.plain_allowed && !s.contains('\n') {
            self.plain(s, indent, simple_key);
        } else if !needs_quote && a.single_allowed && !s.contains('\n') {
            self.single(s, indent, simple_key);
        } else {
            self.double(s, indent, simple_key);
        }
    }

    fn plain(&mut self, s: &str, indent: usize, simple_key: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        let mut col = self.column();
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if !simple_key
                    && !spaces
                    && col > BEST_WIDTH
                    && chars.get(i + 1).is_some_and(|n| *n != ' ')
                {
                    self.newline_indent(indent);
                    col = indent;
                } else {
                    self.out.push(c);
                    col += 1;
                }
                spaces = true;
            } else {
                self.out.push(c);
                col += 1;
                spaces = false;
            }
        }
    }

    fn single(&mut self, s: &str, indent: usize, simple_key: bool) {
        let chars: Vec<char> = s.chars().collect();
        self.out.push('\'');
        let mut col = self.column();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if !simple_key
                    && !spaces
                    && col > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                    && chars.get(i + 1).is_some_and(|n| *n != ' ')
                {
                    self.newline_indent(indent);
                    col = indent;
                } else {
                    self.out.push(' ');
                    col += 1;
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.out.push('\'');
                    col += 1;
                }
                self.out.push(c);
                col += 1;
                spaces = false;
            }
        }
        self.out.push('\'');
    }

    fn double(&mut self, s: &str, indent: usize, simple_key: bool) {
        let chars: Vec<char> = s.chars().collect();
        self.out.push('"');
        let mut col = self.column();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            let printable = is_printable(c) && c != '\u{feff}';
            if !printable || c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' {
                let esc = match c {
                    '\0' => "\\0".to_string(),
                    '\u{7}' => "\\a".to_string(),
                    '\u{8}' => "\\b".to_string(),
                    '\t' => "\\t".to_string(),
                    '\n' => "\\n".to_string(),
                    '\u{b}' => "\\v".to_string(),
                    '\u{c}' => "\\f".to_string(),
                    '\r' => "\\r".to_string(),
                    '\u{1b}' => "\\e".to_string(),
                    '"' => "\\\"".to_string(),
                    '\\' => "\\\\".to_string(),
                    '\u{85}' => "\\N".to_string(),
                    '\u{a0}' => "\\_".to_string(),
                    '\u{2028}' => "\\L".to_string(),
                    '\u{2029}' => "\\P".to_string(),
                    c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
                    c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
                    c => format!("\\U{:08X}", c as u32),
                };
                col += esc.len();
                self.out.push_str(&esc);
                spaces = false;
            } else if c == ' ' {
                if !simple_key && !spaces && col > BEST_WIDTH && i != 0 && i != chars.len() - 1 {
                    self.newline_indent(indent);
                    col = indent;
                    if chars.get(i + 1) == Some(&' ') {
                        self.out.push('\\');
                        col += 1;
                    }
                } else {
                    self.out.push(' ');
                    col += 1;
                }
                spaces = true;
            } else {
                self.out.push(c);
                col += 1;
                spaces = false;
            }
        }
        self.out.push('"');
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.out.push('|');
        if s.starts_with(' ') || s.starts_with('\n') {
            self.out.push('2');
        }
        let chomp = if !s.ends_with('\n') {
            "-"
        } else if s == "\n" || s.ends_with("\n\n") {
            "+"
        } else {
            ""
        };
        self.out.push_str(chomp);
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            self.out.push('\n');
            if !line.is_empty() {
                self.out.extend(std::iter::repeat_n(' ', indent));
                self.out.push_str(line);
            }
        }
    }
}

/// go-yaml v2's map key order: rune by rune, letters after non-letters, digit runs numerically.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// A number as it comes out of JSON → go-yaml: integers as written, other floats in `%g`.
fn yaml_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        return format!("{}", f as i64);
    }
    go_format_g(f)
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
pub fn go_format_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{:e}", f);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if neg { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let (h, t) = digits.split_at(1);
        let frac = if t.is_empty() {
            String::new()
        } else {
            format!(".{t}")
        };
        return format!(
            "{sign}{h}{frac}e{}{:02}",
            if exp < 0 { "-" } else { "+" },
            exp.abs()
        );
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = exp as usize + 1;
    if digits.len() <= point {
        format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    }
}

struct Analysis {
    plain_allowed: bool,
    single_allowed: bool,
    block_allowed: bool,
}

fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{85}')
        || ('\u{20}'..='\u{7e}').contains(&c)
        || ('\u{a0}'..='\u{d7ff}').contains(&c)
        || ('\u{e000}'..='\u{fffd}').contains(&c) && c != '\u{feff}'
        || ('\u{10000}'..='\u{10ffff}').contains(&c)
}

/// go-yaml's `yaml_emitter_analyze_scalar`, block context.
fn analyze(s: &str) -> Analysis {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return Analysis {
            plain_allowed: false,
            single_allowed: true,
            block_allowed: false,
        };
    }
    let blank =
        |c: Option<&char>| matches!(c, None | Some(' ') | Some('\t') | Some('\n') | Some('\r'));
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut special = false;
    let (
        mut line_breaks,
        mut leading_space,
        mut leading_break,
        mut trailing_space,
        mut trailing_break,
    ) = (false, false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    if (s.starts_with("---") || s.starts_with("...")) && blank(chars.get(3)) {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1);
        let followed_by_whitespace = blank(next);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == '\n' || c == '\r' || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}' {
            line_breaks = true;
        }
        let is_space = c == ' ';
        let is_break = matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if is_space {
            if i == 0 {
                leading_space = true;
            }
            if i == chars.len() - 1 {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break {
            if i == 0 {
                leading_break = true;
            }
            if i == chars.len() - 1 {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_whitespace = blank(Some(&c));
    }
    let _ = flow_indicators;
    let mut plain = true;
    let mut single = true;
    let mut block = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        plain = false;
    }
    if trailing_space {
        block = false;
    }
    if break_space {
        plain = false;
        single = false;
    }
    if space_break || special {
        plain = false;
        single = false;
        block = false;
    }
    if line_breaks {
        plain = false;
    }
    if block_indicators {
        plain = false;
    }
    Analysis {
        plain_allowed: plain,
        single_allowed: single,
        block_allowed: block,
    }
}

/// Whether go-yaml v2 would read the plain scalar `s` as something other than a string
/// (null, bool, int, float, timestamp, merge key, base-60 float), so it must be quoted.
fn resolves_to_non_string(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    if SPECIAL.contains(&s) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if !(first.is_ascii_digit() || matches!(first, '-' | '+' | '.')) {
        return false;
    }
    let plain = s.replace('_', "");
    let (neg, body) = match plain.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
    };
    let _ = neg;
    let is_int = if let Some(h) = body.strip_prefix("0x") {
        !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit())
    } else if let Some(b) = body.strip_prefix("0b") {
        !b.is_empty() && b.chars().all(|c| c == '0' || c == '1')
    } else if let Some(o) = body.strip_prefix("0o") {
        !o.is_empty() && o.chars().all(|c| ('0'..='7').contains(&c))
    } else if body.len() > 1 && body.starts_with('0') {
        body.chars().all(|c| ('0'..='7').contains(&c))
    } else {
        !body.is_empty() && body.chars().all(|c| c.is_ascii_digit())
    };
    if is_int {
        return true;
    }
    if is_yaml_float(&plain) || is_base60_float(s) || is_timestamp(s) {
        return true;
    }
    false
}

fn is_yaml_float(s: &str) -> bool {
    // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
    let b = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mant, exp) = match b.find(['e', 'E']) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let mant_ok = if let Some(f) = mant.strip_prefix('.') {
        !f.is_empty() && f.chars().all(|c| c.is_ascii_digit())
    } else {
        let (i, f) = mant.split_once('.').unwrap_or((mant, ""));
        !i.is_empty()
            && i.chars().all(|c| c.is_ascii_digit())
            && f.chars().all(|c| c.is_ascii_digit())
    };
    let exp_ok = match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
        }
    };
    mant_ok && exp_ok
}

fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let b = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (main, frac) = b.split_once('.').unwrap_or((b, ""));
    if !frac.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return false;
    }
    let mut parts = main.split(':');
    let Some(head) = parts.next() else {
        return false;
    };
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    !rest.is_empty()
        && rest.iter().all(|p| {
            let p = p.as_bytes();
            match p.len() {
                1 => p[0].is_ascii_digit(),
                2 => (b'0'..=b'5').contains(&p[0]) && p[1].is_ascii_digit(),
                _ => false,
            }
        })
}

fn is_timestamp(s: &str) -> bool {
    // go-yaml v2 layouts: 2006-1-2, 2006-1-2 15:4:5.999999999, 2006-1-2T15:4:5.999999999Z07:00.
    fn digits(s: &str, min: usize, max: usize) -> Option<(&str, &str)> {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (min..=max).contains(&n).then(|| s.split_at(n))
    }
    fn date(s: &str) -> Option<&str> {
        let (_, r) = digits(s, 4, 4)?;
        let (_, r) = digits(r.strip_prefix('-')?, 1, 2)?;
        let (_, r) = digits(r.strip_prefix('-')?, 1, 2)?;
        Some(r)
    }
    fn time(s: &str) -> Option<&str> {
        let (_, r) = digits(s, 1, 2)?;
        let (_, r) = digits(r.strip_prefix(':')?, 1, 2)?;
        let (_, r) = digits(r.strip_prefix(':')?, 1, 2)?;
        match r.strip_prefix('.') {
            Some(f) => digits(f, 1, 9).map(|(_, r)| r),
            None => Some(r),
        }
    }
    fn zone(s: &str) -> bool {
        if s == "Z" {
            return true;
        }
        let Some(r) = s.strip_prefix(['+', '-']) else {
            return false;
        };
        matches!(digits(r, 2, 2), Some((_, rest)) if matches!(rest.strip_prefix(':').map(|m| digits(m, 2, 2)), Some(Some((_, ""))) ))
    }
    let Some(rest) = date(s) else { return false };
    if rest.is_empty() {
        return true;
    }
    if let Some(t) = rest.strip_prefix(' ') {
        return time(t) == Some("");
    }
    match rest.strip_prefix(['T', 't']).and_then(time) {
        Some(z) => zone(z),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_sort_keys_and_sequences_are_not_indented() {
        let v = json!({"b": [1, 2], "a": {"y": "x", "c": []}, "z": {}});
        // go-yaml v2 reads a plain `y` as a bool, so the key is quoted.
        assert_eq!(
            to_yaml(&v),
            "a:\n  c: []\n  \"y\": x\nb:\n- 1\n- 2\nz: {}\n"
        );
    }

    #[test]
    fn pretty_output_indents_sequences_under_keys() {
        let v = json!({"a": {"b": [1, {"c": 2}]}});
        assert_eq!(to_yaml_pretty(&v), "a:\n  b:\n    - 1\n    - c: 2\n");
    }

    #[test]
    fn long_and_multi_line_keys_use_explicit_entries() {
        let long = "k".repeat(130);
        let v = json!({ long.clone(): 1, "a\nb": {"c": 2} });
        let y = to_yaml(&v);
        assert_eq!(y, format!("? |-\n  a\n  b\n:\n  c: 2\n? {long}\n: 1\n"));
        let back = crate::yaml::parse_yaml(&y).unwrap();
        assert_eq!(back[long.as_str()], json!(1.0));
        assert_eq!(back["a\nb"], json!({"c": 2.0}));
    }

    #[test]
    fn lists_of_maps_and_lists() {
        let v = json!([{"a": 1, "b": [true]}, ["x", null]]);
        assert_eq!(to_yaml(&v), "- a: 1\n  b:\n  - true\n- - x\n  - null\n");
    }

    #[test]
    fn strings_that_look_like_other_types_are_double_quoted() {
        let v = json!({"a": "true", "b": "80", "c": "", "d": "1.5", "e": "yes", "f": "null", "g": "0755", "h": "2001-12-14"});
        assert_eq!(
            to_yaml(&v),
            "a: \"true\"\nb: \"80\"\nc: \"\"\nd: \"1.5\"\ne: \"yes\"\nf: \"null\"\ng: \"0755\"\nh: \"2001-12-14\"\n"
        );
    }

    #[test]
    fn strings_with_indicators_are_single_quoted() {
        let v = json!({"a": "*star", "b": "a: b", "c": "- x", "d": " lead", "e": "it's #", "f": "a #b", "g": "it's"});
        assert_eq!(
            to_yaml(&v),
            "a: '*star'\nb: 'a: b'\nc: '- x'\nd: ' lead'\ne: 'it''s #'\nf: 'a #b'\ng: it's\n"
        );
    }

    #[test]
    fn multi_line_strings_use_literal_blocks() {
        let v = json!({"a": "x\ny\n", "b": "x\ny", "c": "x\n\n"});
        assert_eq!(
            to_yaml(&v),
            "a: |\n  x\n  y\nb: |-\n  x\n  y\nc: |+\n  x\n\n"
        );
    }

    #[test]
    fn timestamps_in_go_yaml_layouts_are_quoted() {
        for ts in [
            "2001-12-14",
            "2001-1-2",
            "2001-12-14 21:59:43.10",
            "2001-12-14T21:59:43.1Z",
            "2001-12-14t21:59:43+05:00",
        ] {
            assert!(is_timestamp(ts), "{ts}");
        }
        for not in ["2001-12-14x", "2001-12-14T21:59", "2001-123-1", "1.2.3"] {
            assert!(!is_timestamp(not), "{not}");
        }
    }

    #[test]
    fn floats_print_like_go() {
        let v = json!({"a": 2.5, "b": 1000000.0, "c": 0.00001, "d": 12345678.5});
        assert_eq!(
            to_yaml(&v),
            "a: 2.5\nb: 1000000\nc: 1e-05\nd: 1.23456785e+07\n"
        );
    }

    #[test]
    fn long_plain_strings_fold_at_eighty_columns() {
        let long = "word ".repeat(20).trim_end().to_string();
        let out = to_yaml(&json!({ "k": long }));
        assert!(out.starts_with("k: word"));
        assert!(out.contains("\n  word"), "{out}");
    }

    #[test]
    fn natural_key_order_compares_digit_runs_numerically() {
        let mut keys = vec!["a10", "a2", "B", "a", "_x", "1"];
        keys.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(keys, vec!["_x", "1", "B", "a", "a2", "a10"]);
    }
}
