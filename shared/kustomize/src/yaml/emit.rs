//! Emitter reproducing the bytes kustomize prints: go-yaml's encoder (a libyaml port) in block
//! style, keys sorted, 2-space indent, sequences not indented under their key, 80-column folding.

use std::borrow::Cow;

use super::keyorder::go_yaml_key_cmp;
use super::scalar::needs_quotes;
use super::{Node, go_float_g, go_json_float};

const BEST_WIDTH: usize = 80;
const BEST_INDENT: usize = 2;

/// Renders several documents separated by `---` as `kubectl kustomize` prints them.
pub fn emit_documents<'a>(docs: impl IntoIterator<Item = &'a Node>) -> String {
    let mut out = String::new();
    for (i, d) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        emit_into(&mut out, d);
    }
    out
}

/// Renders one document.
pub fn emit_document(doc: &Node) -> String {
    let mut out = String::new();
    emit_into(&mut out, doc);
    out
}

fn emit_into(out: &mut String, doc: &Node) {
    let mut e = Emitter {
        out: std::mem::take(out),
        column: 0,
        whitespace: true,
        indention: true,
        open_ended: false,
    };
    match doc {
        Node::Map(m) if !m.is_empty() => e.emit_map(m, 0),
        Node::Seq(s) if !s.is_empty() => e.emit_seq(s, 0),
        other => e.emit_value(other, 0),
    }
    e.write_indent(0);
    if e.open_ended {
        e.write_indicator("...", true, false, false);
        e.write_indent(0);
    }
    *out = e.out;
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

/// The facts libyaml's `analyze_scalar` gathers about a string.
struct Analysis {
    multiline: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain: true,
            single_quoted: true,
            block: false,
        };
    }
    let chars: Vec<char> = value.chars().collect();
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
        (false, false, false, false);
    let mut line_breaks = false;
    let mut special = false;
    let mut preceded_by_ws = true;
    let n = chars.len();
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_ws =
            i + 1 >= n || matches!(chars[i + 1], ' ' | '\t') || is_break(chars[i + 1]);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) || c == '\u{FEFF}' {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == n {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == n {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t') || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain: true,
        single_quoted: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.block_plain = false;
        a.single_quoted = false;
    }
    if space_break || special {
        a.block_plain = false;
        a.single_quoted = false;
        a.block = false;
    }
    if line_breaks {
        a.block_plain = false;
    }
    if block_indicators {
        a.block_plain = false;
    }
    a
}

fn choose_style(value: &str, requested: Style, simple_key: bool) -> Style {
    let a = analyze(value);
    let mut style = requested;
    if style == Style::Plain && (!a.block_plain || (value.is_empty() && simple_key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block || simple_key) {
        style = Style::Double;
    }
    if simple_key && a.multiline && style != Style::Double {
        style = Style::Double;
    }
    style
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in ind.chars() {
            self.put(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn emit_map(&mut self, m: &super::Map, indent: usize) {
        let mut entries: Vec<(Cow<'_, str>, &Node)> =
            m.iter().map(|(k, v)| (fold_nel(k), v)).collect();
        entries.sort_by(|a, b| go_yaml_key_cmp(&a.0, &b.0));
        for (k, v) in entries {
            self.write_indent(indent);
            // libyaml writes keys longer than 128 bytes or spanning lines as `? key` / `: value`.
            if k.len() > 128 || analyze(&k).multiline {
                self.write_indicator("?", true, false, true);
                self.emit_string(&k, indent + BEST_INDENT, false);
                self.write_indent(indent);
                self.write_indicator(":", true, false, true);
                match v {
                    Node::Map(cm) if !cm.is_empty() => self.emit_map(cm, indent + BEST_INDENT),
                    Node::Seq(cs) if !cs.is_empty() => self.emit_seq(cs, indent + BEST_INDENT),
                    other => self.emit_value(other, indent + BEST_INDENT),
                }
                continue;
            }
            self.emit_string(&k, indent + BEST_INDENT, true);
            self.write_indicator(":", false, false, false);
            match v {
                Node::Map(cm) if !cm.is_empty() => self.emit_map(cm, indent + BEST_INDENT),
                Node::Seq(cs) if !cs.is_empty() => self.emit_seq(cs, indent),
                other => self.emit_value(other, indent + BEST_INDENT),
            }
        }
    }

    fn emit_seq(&mut self, s: &[Node], indent: usize) {
        for item in s {
            self.write_indent(indent);
            self.write_indicator("-", true, false, true);
            match item {
                Node::Map(cm) if !cm.is_empty() => self.emit_map(cm, indent + BEST_INDENT),
                Node::Seq(cs) if !cs.is_empty() => self.emit_seq(cs, indent + BEST_INDENT),
                other => self.emit_value(other, indent + BEST_INDENT),
            }
        }
    }

    /// A scalar or an empty collection, whose content indent is `indent`.
    fn emit_value(&mut self, v: &Node, indent: usize) {
        match v {
            Node::Map(_) => {
                self.write_indicator("{", true, true, false);
                self.write_indicator("}", false, false, false);
            }
            Node::Seq(_) => {
                self.write_indicator("[", true, true, false);
                self.write_indicator("]", false, false, false);
            }
            Node::Null => self.write_plain("null", indent, true),
            Node::Bool(b) => self.write_plain(if *b { "true" } else { "false" }, indent, true),
            Node::Int(i) => self.write_plain(&i.to_string(), indent, true),
            Node::Uint(u) => self.write_plain(&u.to_string(), indent, true),
            Node::Float(f) => {
                // kustomize goes through JSON: a float with an integral JSON form comes back an int.
                let j = go_json_float(*f);
                let text = if j.parse::<i64>().is_ok() || j.parse::<u64>().is_ok() {
                    j
                } else {
                    go_float_g(*f)
                };
                self.write_plain(&text, indent, true)
            }
            Node::Str(s) => self.emit_string(s, indent, false),
        }
    }

    fn emit_string(&mut self, s: &str, indent: usize, simple_key: bool) {
        let s = &*fold_nel(s);
        let requested = if s.contains('\n') {
            Style::Literal
        } else if needs_quotes_str(s) {
            Style::Double
        } else {
            Style::Plain
        };
        let allow_breaks = !simple_key;
        match choose_style(s, requested, simple_key) {
            Style::Plain => self.write_plain(s, indent, allow_breaks),
            Style::Single => self.write_single(s, indent, allow_breaks),
            Style::Double => self.write_double(s, indent, allow_breaks),
            Style::Literal => self.write_literal(s, indent),
        }
    }

    fn write_plain(&mut self, value: &str, indent: usize, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_space {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_single(&mut self, value: &str, indent: usize, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let n = chars.len();
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < n
                    && !next_space
                {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, value: &str, indent: usize, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let n = chars.len();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let v = c as u32;
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let (ch, w) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(ch);
                        for k in (0..w).rev() {
                            let d = (v >> (k * 4)) & 0xF;
                            self.put(
                                std::char::from_digit(d, 16)
                                    .unwrap_or('0')
                                    .to_ascii_uppercase(),
                            );
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < n {
                    self.write_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &str, indent: usize) {
        self.write_indicator("|", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        if chars.first().is_some_and(|c| *c == ' ' || is_break(*c)) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        self.open_ended = false;
        let n = chars.len();
        let chomp = if n == 0 || !is_break(chars[n - 1]) {
            Some("-")
        } else if n == 1 || is_break(chars[n - 2]) {
            Some("+")
        } else {
            None
        };
        if let Some(h) = chomp {
            self.write_indicator(h, false, false, false);
            if h == "+" {
                self.open_ended = true;
            }
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// kustomize prints through JSON, which leaves U+0085 (NEL) raw; go-yaml then reads it back
/// as a line break inside a quoted scalar and folds it, with the blanks around it, into a space
/// (n consecutive ones into n-1 newlines).
fn fold_nel(s: &str) -> Cow<'_, str> {
    if !s.contains('\u{85}') {
        return Cow::Borrowed(s);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\u{85}' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        while out.ends_with([' ', '\t']) {
            out.pop();
        }
        let mut breaks = 0;
        while i < chars.len() && matches!(chars[i], '\u{85}' | ' ' | '\t') {
            if chars[i] == '\u{85}' {
                breaks += 1;
            }
            i += 1;
        }
        if breaks == 1 {
            out.push(' ');
        } else {
            out.extend(std::iter::repeat_n('\n', breaks - 1));
        }
    }
    Cow::Owned(out)
}

fn needs_quotes_str(s: &str) -> bool {
    needs_quotes(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Map;

    fn map(pairs: &[(&str, Node)]) -> Node {
        let mut m = Map::new();
        for (k, v) in pairs {
            m.insert(k.to_string(), v.clone());
        }
        Node::Map(m)
    }

    #[test]
    fn sequences_under_keys_are_not_indented_and_keys_sorted() {
        let doc = map(&[
            (
                "b",
                Node::Seq(vec![Node::Str("x".into()), Node::Str("y".into())]),
            ),
            ("a", map(&[("k", Node::Int(1))])),
        ]);
        assert_eq!(emit_document(&doc), "a:\n  k: 1\nb:\n- x\n- \"y\"\n");
    }

    #[test]
    fn multi_line_strings_become_literal_blocks_with_chomping() {
        let doc = map(&[
            ("a", Node::Str("x\ny".into())),
            ("b", Node::Str("x\n".into())),
        ]);
        assert_eq!(emit_document(&doc), "a: |-\n  x\n  y\nb: |\n  x\n");
    }

    #[test]
    fn long_plain_strings_fold_after_column_80() {
        let long = "word ".repeat(20).trim_end().to_string();
        let out = emit_document(&map(&[("k", Node::Str(long))]));
        assert!(out.lines().count() == 2, "{out}");
        assert!(out.lines().nth(1).is_some_and(|l| l.starts_with("  word")));
    }
}
