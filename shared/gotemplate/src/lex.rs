//! The lexer: splits template text into text runs and action tokens, following Go's
//! text/template/parse/lex.go (trim markers, comments, quoted/raw strings, chars, numbers).

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Text(String),
    LeftDelim,
    RightDelim,
    Space,
    /// `.Name` (the name without the dot).
    Field(String),
    /// `$name` or `$`.
    Variable(String),
    Identifier(String),
    Keyword(Keyword),
    Bool(bool),
    /// Original text of a number or char literal.
    Number(String),
    Char(String),
    /// Original (quoted) text and the unquoted value.
    Str {
        raw: String,
        value: String,
    },
    Dot,
    Nil,
    Pipe,
    LeftParen,
    RightParen,
    Declare,
    Assign,
    Comma,
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offset in the source.
    pub pos: usize,
    /// 1-based line of the token's start.
    pub line: usize,
}

/// A lexing error with the line it happened on.
#[derive(Debug)]
pub(crate) struct LexError {
    pub line: usize,
    pub message: String,
    /// The line the enclosing action started on, when the error is inside an action.
    pub action_line: Option<usize>,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

pub(crate) fn lex(src: &str) -> Result<Vec<Token>, LexError> {
    let mut lx = Lexer {
        src,
        b: src.as_bytes(),
        pos: 0,
        line: 1,
        out: Vec::new(),
        paren_depth: 0,
        action_line: None,
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    line: usize,
    out: Vec<Token>,
    paren_depth: usize,
    action_line: Option<usize>,
}

impl Lexer<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            line: self.line,
            message: message.into(),
            action_line: self.action_line,
        })
    }

    fn emit(&mut self, tok: Tok, pos: usize, line: usize) {
        self.out.push(Token { tok, pos, line });
    }

    fn advance_to(&mut self, to: usize) {
        self.line += self.b[self.pos..to].iter().filter(|&&c| c == b'\n').count();
        self.pos = to;
    }

    /// Whether a left delimiter at `at` carries a trim marker (`{{- `).
    fn left_trim_at(&self, at: usize) -> bool {
        let after = at + LEFT.len();
        self.b.get(after) == Some(&b'-') && self.b.get(after + 1).is_some_and(|&c| is_space(c))
    }

    fn run(&mut self) -> Result<(), LexError> {
        loop {
            // Text up to the next left delimiter.
            let rest = &self.src[self.pos..];
            let Some(off) = rest.find(LEFT) else {
                if !rest.is_empty() {
                    let (p, l) = (self.pos, self.line);
                    self.emit(Tok::Text(rest.to_string()), p, l);
                    self.advance_to(self.b.len());
                }
                let (p, l) = (self.pos, self.line);
                self.emit(Tok::Eof, p, l);
                return Ok(());
            };
            let delim = self.pos + off;
            let trim = self.left_trim_at(delim);
            let mut text_end = delim;
            if trim {
                while text_end > self.pos && is_space(self.b[text_end - 1]) {
                    text_end -= 1;
                }
            }
            if text_end > self.pos {
                let (p, l) = (self.pos, self.line);
                self.emit(Tok::Text(self.src[self.pos..text_end].to_string()), p, l);
            }
            self.advance_to(delim);
            self.lex_action(trim)?;
        }
    }

    /// Lexes one `{{ ... }}` starting at the left delimiter.
    fn lex_action(&mut self, trim: bool) -> Result<(), LexError> {
        let (start, start_line) = (self.pos, self.line);
        let mut p = self.pos + LEFT.len();
        if trim {
            p += 2;
        }
        // Comment: must follow the delimiter (and trim marker) directly.
        if self.src[p..].starts_with("/*") {
            let Some(end) = self.src[p + 2..].find("*/") else {
                self.advance_to(p);
                return self.err("unclosed comment");
            };
            let after = p + 2 + end + 2;
            self.advance_to(after);
            let (right_trim, close_len) = self.right_delim_at(self.pos);
            if close_len == 0 {
                return self.err("comment ends before closing delimiter");
            }
            self.pos += close_len;
            if right_trim {
                self.skip_space_after();
            }
            return Ok(());
        }
        self.emit(Tok::LeftDelim, start, start_line);
        self.pos = p;
        self.paren_depth = 0;
        self.action_line = Some(start_line);
        loop {
            let (right_trim, close_len) = self.right_delim_at(self.pos);
            if close_len > 0 && self.paren_depth == 0 {
                let (pp, l) = (self.pos, self.line);
                self.emit(Tok::RightDelim, pp, l);
                self.pos += close_len;
                if right_trim {
                    self.skip_space_after();
                }
                self.action_line = None;
                return Ok(());
            }
            if close_len > 0 {
                return self.err("unclosed left paren");
            }
            self.lex_inside()?;
        }
    }

    /// Whether a right delimiter (optionally ` -}}`) starts at `at`: (trims, length).
    fn right_delim_at(&self, at: usize) -> (bool, usize) {
        let rest = &self.b[at..];
        if rest.len() >= 2 + RIGHT.len()
            && is_space(rest[0])
            && rest[1] == b'-'
            && rest[2..].starts_with(RIGHT.as_bytes())
        {
            return (true, 2 + RIGHT.len());
        }
        if rest.starts_with(RIGHT.as_bytes()) {
            return (false, RIGHT.len());
        }
        (false, 0)
    }

    fn skip_space_after(&mut self) {
        let mut e = self.pos;
        while e < self.b.len() && is_space(self.b[e]) {
            e += 1;
        }
        self.advance_to(e);
    }

    fn lex_inside(&mut self) -> Result<(), LexError> {
        let (start, line) = (self.pos, self.line);
        let Some(c) = self.src[self.pos..].chars().next() else {
            return self.err("unclosed action");
        };
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                let mut e = self.pos;
                // Stop before a " -}}" so the trim marker is seen.
                while e < self.b.len() && is_space(self.b[e]) {
                    if self.right_delim_at(e).1 > 0 && self.right_delim_at(e).0 {
                        break;
                    }
                    e += 1;
                }
                if e == self.pos {
                    // A space that starts " -}}" is consumed by right_delim_at.
                    e += 1;
                }
                self.advance_to(e);
                self.emit(Tok::Space, start, line);
            }
            '=' => {
                self.pos += 1;
                self.emit(Tok::Assign, start, line);
            }
            ':' => {
                if self.b.get(self.pos + 1) != Some(&b'=') {
                    return self.err("expected :=");
                }
                self.pos += 2;
                self.emit(Tok::Declare, start, line);
            }
            '|' => {
                self.pos += 1;
                self.emit(Tok::Pipe, start, line);
            }
            ',' => {
                self.pos += 1;
                self.emit(Tok::Comma, start, line);
            }
            '(' => {
                self.pos += 1;
                self.paren_depth += 1;
                self.emit(Tok::LeftParen, start, line);
            }
            ')' => {
                if self.paren_depth == 0 {
                    return self.err("unexpected right paren");
                }
                self.pos += 1;
                self.paren_depth -= 1;
                self.emit(Tok::RightParen, start, line);
            }
            '"' => self.lex_quote()?,
            '`' => self.lex_raw()?,
            '\'' => self.lex_char()?,
            '$' => {
                let e = self.scan_alnum(self.pos + 1);
                let name = self.src[self.pos..e].to_string();
                self.pos = e;
                self.check_terminator()?;
                self.emit(Tok::Variable(name), start, line);
            }
            '.' => {
                if self.b.get(self.pos + 1).is_some_and(|c| c.is_ascii_digit()) {
                    return self.lex_number();
                }
                let e = self.scan_alnum(self.pos + 1);
                if e == self.pos + 1 {
                    self.pos += 1;
                    self.check_terminator()?;
                    self.emit(Tok::Dot, start, line);
                } else {
                    let name = self.src[self.pos + 1..e].to_string();
                    self.pos = e;
                    self.check_terminator()?;
                    self.emit(Tok::Field(name), start, line);
                }
            }
            '+' | '-' | '0'..='9' => self.lex_number()?,
            c if is_alnum(c) => {
                let e = self.scan_alnum(self.pos);
                let word = &self.src[self.pos..e];
                let tok = match word {
                    "block" => Tok::Keyword(Keyword::Block),
                    "break" => Tok::Keyword(Keyword::Break),
                    "continue" => Tok::Keyword(Keyword::Continue),
                    "define" => Tok::Keyword(Keyword::Define),
                    "else" => Tok::Keyword(Keyword::Else),
                    "end" => Tok::Keyword(Keyword::End),
                    "if" => Tok::Keyword(Keyword::If),
                    "range" => Tok::Keyword(Keyword::Range),
                    "template" => Tok::Keyword(Keyword::Template),
                    "with" => Tok::Keyword(Keyword::With),
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    "nil" => Tok::Nil,
                    _ => Tok::Identifier(word.to_string()),
                };
                self.pos = e;
                self.check_terminator()?;
                self.emit(tok, start, line);
            }
            other => {
                return self.err(format!("unexpected {} in command", go_quote_rune(other)));
            }
        }
        Ok(())
    }

    fn scan_alnum(&self, from: usize) -> usize {
        let mut e = from;
        for c in self.src[from..].chars() {
            if !is_alnum(c) {
                break;
            }
            e += c.len_utf8();
        }
        e
    }

    /// After an identifier Go requires a space, delimiter or punctuation.
    fn check_terminator(&self) -> Result<(), LexError> {
        let Some(c) = self.src[self.pos..].chars().next() else {
            return Ok(());
        };
        if matches!(
            c,
            ' ' | '\t' | '\r' | '\n' | '.' | ',' | '|' | ':' | ')' | '(' | '='
        ) || self.src[self.pos..].starts_with(RIGHT)
        {
            return Ok(());
        }
        self.err(format!(
            "bad character U+{:04X} {}",
            c as u32,
            go_quote_rune(c)
        ))
    }

    fn lex_number(&mut self) -> Result<(), LexError> {
        let (start, line) = (self.pos, self.line);
        let mut e = self.pos;
        if matches!(self.b.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        // Scan anything number-like, then validate by parsing.
        while e < self.b.len() {
            let c = self.b[e];
            let exp_sign =
                matches!(c, b'+' | b'-') && matches!(self.b[e - 1], b'e' | b'E' | b'p' | b'P');
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || exp_sign {
                e += 1;
            } else {
                break;
            }
        }
        let text = &self.src[start..e];
        if crate::parse::parse_number(text).is_none() {
            return self.err(format!("bad number syntax: {text:?}"));
        }
        self.pos = e;
        self.emit(Tok::Number(text.to_string()), start, line);
        Ok(())
    }

    fn lex_quote(&mut self) -> Result<(), LexError> {
        let (start, line) = (self.pos, self.line);
        let mut e = self.pos + 1;
        loop {
            match self.b.get(e) {
                None | Some(b'\n') => return self.err("unterminated quoted string"),
                Some(b'\\') => e += 2,
                Some(b'"') => break,
                Some(_) => e += 1,
            }
        }
        let raw = self.src.get(start..=e).unwrap_or_default().to_string();
        let value = unquote(&raw[1..raw.len() - 1], '"').ok_or_else(|| LexError {
            line,
            message: "invalid syntax".to_string(),
            action_line: self.action_line,
        })?;
        self.pos = e + 1;
        self.emit(Tok::Str { raw, value }, start, line);
        Ok(())
    }

    fn lex_raw(&mut self) -> Result<(), LexError> {
        let (start, line) = (self.pos, self.line);
        let Some(end) = self.src[self.pos + 1..].find('`') else {
            return self.err("unterminated raw quoted string");
        };
        let e = self.pos + 1 + end;
        let raw = self.src[start..=e].to_string();
        let value = raw[1..raw.len() - 1].replace('\r', "");
        self.advance_to(e + 1);
        self.emit(Tok::Str { raw, value }, start, line);
        Ok(())
    }

    fn lex_char(&mut self) -> Result<(), LexError> {
        let (start, line) = (self.pos, self.line);
        let mut e = self.pos + 1;
        loop {
            match self.b.get(e) {
                None | Some(b'\n') => return self.err("unterminated character constant"),
                Some(b'\\') => e += 2,
                Some(b'\'') => break,
                Some(_) => e += 1,
            }
        }
        let raw = self.src.get(start..=e).unwrap_or_default().to_string();
        self.pos = e + 1;
        self.emit(Tok::Char(raw), start, line);
        Ok(())
    }
}

/// Go's `%q` of a rune, for error messages.
pub(crate) fn go_quote_rune(c: char) -> String {
    let mut s = String::from("'");
    match c {
        '\'' => s.push_str("\\'"),
        '\\' => s.push_str("\\\\"),
        '\n' => s.push_str("\\n"),
        '\t' => s.push_str("\\t"),
        '\r' => s.push_str("\\r"),
        c if c.is_control() => s.push_str(&format!("\\x{:02x}", c as u32)),
        c => s.push(c),
    }
    s.push('\'');
    s
}

/// Interprets Go escape sequences in the body of a quoted string or char literal.
pub(crate) fn unquote(body: &str, quote: char) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut bytes: Vec<u8> = Vec::new();
    let mut it = body.chars().peekable();
    // Octal and \x escapes produce raw bytes; collect them and validate UTF-8 at the end.
    let flush = |bytes: &mut Vec<u8>, out: &mut String| -> Option<()> {
        if !bytes.is_empty() {
            out.push_str(&String::from_utf8(std::mem::take(bytes)).ok()?);
        }
        Some(())
    };
    while let Some(c) = it.next() {
        if c != '\\' {
            flush(&mut bytes, &mut out)?;
            if c == quote {
                return None;
            }
            out.push(c);
            continue;
        }
        let e = it.next()?;
        let simple = match e {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' => Some('\\'),
            '"' if quote == '"' => Some('"'),
            '\'' if quote == '\'' => Some('\''),
            _ => None,
        };
        if let Some(s) = simple {
            flush(&mut bytes, &mut out)?;
            out.push(s);
            continue;
        }
        match e {
            'x' => {
                let h: String = [it.next()?, it.next()?].iter().collect();
                bytes.push(u8::from_str_radix(&h, 16).ok()?);
            }
            '0'..='7' => {
                let o: String = [e, it.next()?, it.next()?].iter().collect();
                let v = u16::from_str_radix(&o, 8).ok()?;
                bytes.push(u8::try_from(v).ok()?);
            }
            'u' | 'U' => {
                let n = if e == 'u' { 4 } else { 8 };
                let mut h = String::new();
                for _ in 0..n {
                    h.push(it.next()?);
                }
                let v = u32::from_str_radix(&h, 16).ok()?;
                flush(&mut bytes, &mut out)?;
                out.push(char::from_u32(v)?);
            }
            _ => return None,
        }
    }
    flush(&mut bytes, &mut out)?;
    Some(out)
}
