//! The parser: tokens to trees, following Go's text/template/parse/parse.go, including its
//! error messages (`unexpected EOF`, `function "x" not defined`, `undefined variable "$x"`).

use crate::ast::{Arg, Branch, Command, Node, Pipe};
use crate::error::Error;
use crate::lex::{Keyword, Tok, Token, lex, unquote};
use crate::value::Value;

/// The result of parsing one text: its top-level list and the templates it defines
/// (`define` and `block`), in source order.
pub(crate) struct Parsed {
    pub root: Vec<Node>,
    pub defines: Vec<(String, Vec<Node>)>,
}

pub(crate) fn parse(
    name: &str,
    src: &str,
    has_func: &dyn Fn(&str) -> bool,
) -> Result<Parsed, Error> {
    let toks = lex(src).map_err(|e| {
        // Go names the action's first line when the error is on a later one.
        let message = match e.action_line {
            Some(start) if start != e.line => {
                if e.message.ends_with(" action") {
                    format!("{} started at {name}:{start}", e.message)
                } else {
                    format!("{} in action started at {name}:{start}", e.message)
                }
            }
            _ => e.message,
        };
        Error::Parse {
            name: name.to_string(),
            line: e.line,
            message,
        }
    })?;
    let mut p = Parser {
        name,
        toks,
        i: 0,
        vars: vec!["$".to_string()],
        range_depth: 0,
        has_func,
        defines: Vec::new(),
        depth: 0,
    };
    let root = p.parse_top()?;
    Ok(Parsed {
        root,
        defines: p.defines,
    })
}

/// Parses a Go number or char literal into the value Go's template gives an untyped constant:
/// `int` for integers, `float64` for anything with a point or exponent.
pub(crate) fn parse_number(text: &str) -> Option<Value> {
    if text.starts_with('\'') {
        let body = text.get(1..text.len().checked_sub(1)?)?;
        let s = unquote(body, '\'')?;
        let mut cs = s.chars();
        let c = cs.next()?;
        if cs.next().is_some() {
            return None;
        }
        return Some(Value::Int(i64::from(c as u32)));
    }
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let is_hex = lower.starts_with("0x");
    let looks_float = if is_hex {
        lower.contains('.') || lower.contains('p')
    } else {
        lower.contains('.') || lower.contains('e')
    };
    if !looks_float {
        let digits = body.replace('_', "");
        let (radix, ds) = if let Some(r) = lower.strip_prefix("0x") {
            (16, r.replace('_', ""))
        } else if let Some(r) = lower.strip_prefix("0o") {
            (8, r.replace('_', ""))
        } else if let Some(r) = lower.strip_prefix("0b") {
            (2, r.replace('_', ""))
        } else if digits.len() > 1 && digits.starts_with('0') {
            (8, digits[1..].to_string())
        } else {
            (10, digits)
        };
        if ds.is_empty() {
            return None;
        }
        let mag = u64::from_str_radix(&ds, radix).ok()?;
        let v = if neg {
            0i64.checked_sub_unsigned(mag)?
        } else {
            i64::try_from(mag).ok()?
        };
        return Some(Value::Int(v));
    }
    if is_hex {
        return parse_hex_float(&lower[2..].replace('_', ""))
            .map(|f| Value::Float(if neg { -f } else { f }));
    }
    let clean = body.replace('_', "");
    if !clean
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let f: f64 = clean.parse().ok()?;
    Some(Value::Float(if neg { -f } else { f }))
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => return None,
    };
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    let mut v = 0f64;
    for c in int_part.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

struct Parser<'a> {
    name: &'a str,
    toks: Vec<Token>,
    i: usize,
    vars: Vec<String>,
    range_depth: usize,
    has_func: &'a dyn Fn(&str) -> bool,
    defines: Vec<(String, Vec<Node>)>,
    /// Nesting of parenthesised pipelines and control blocks (Go's maxStackDepth).
    depth: usize,
}

/// Go's limit on nested expressions and blocks.
const MAX_STACK_DEPTH: usize = 10_000;

/// What ended an item list.
enum End {
    End,
    Else,
}

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, Error> {
        let line = self
            .toks
            .get(self.i.saturating_sub(1))
            .map_or(1, |t| t.line);
        Err(Error::Parse {
            name: self.name.to_string(),
            line,
            message: message.into(),
        })
    }

    fn peek(&self) -> &Token {
        // The lexer always ends with Eof, and `next` never moves past it.
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        } else {
            self.i = self.toks.len();
        }
        t
    }

    fn backup(&mut self) {
        self.i = self.i.saturating_sub(1);
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.tok != Tok::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn describe(t: &Tok) -> String {
        match t {
            Tok::Eof => "EOF".into(),
            Tok::Text(s) => go_quote_short(s),
            Tok::LeftDelim => "\"{{\"".into(),
            Tok::RightDelim => "\"}}\"".into(),
            Tok::Space => "\" \"".into(),
            Tok::Field(f) => go_quote_short(&format!(".{f}")),
            Tok::Variable(v) | Tok::Identifier(v) | Tok::Number(v) | Tok::Char(v) => {
                go_quote_short(v)
            }
            Tok::Keyword(k) => format!("<{}>", keyword_name(*k)),
            Tok::Bool(b) => go_quote_short(&b.to_string()),
            Tok::Str { raw, .. } => go_quote_short(raw),
            Tok::Dot => "\".\"".into(),
            Tok::Nil => "\"nil\"".into(),
            Tok::Pipe => "\"|\"".into(),
            Tok::LeftParen => "\"(\"".into(),
            Tok::RightParen => "\")\"".into(),
            Tok::Declare => "\":=\"".into(),
            Tok::Assign => "\"=\"".into(),
            Tok::Comma => "\",\"".into(),
        }
    }

    fn unexpected<T>(&self, t: &Token, context: &str) -> Result<T, Error> {
        if t.tok == Tok::Eof {
            return self.err(format!("unexpected EOF in {context}"));
        }
        self.err(format!(
            "unexpected {} in {context}",
            Self::describe(&t.tok)
        ))
    }

    fn parse_top(&mut self) -> Result<Vec<Node>, Error> {
        let mut root = Vec::new();
        while self.peek().tok != Tok::Eof {
            if self.peek().tok == Tok::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space().tok == Tok::Keyword(Keyword::Define) {
                    self.parse_definition()?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End => return self.err("unexpected {{end}}"),
                Item::Else => return self.err("unexpected {{else}}"),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> Result<(), Error> {
        let context = "define clause";
        let t = self.next_non_space();
        let name = match t.tok {
            Tok::Str { value, .. } => value,
            _ => return self.unexpected(&t, context),
        };
        let t = self.next_non_space();
        if t.tok != Tok::RightDelim {
            return self.unexpected(&t, context);
        }
        let saved = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        if let End::Else = end {
            return self.err(format!("unexpected {{{{else}}}} in {context}"));
        }
        self.add_define(name, list)
    }

    /// Go's `Tree.add` within one parse: a second non-empty definition is an error.
    fn add_define(&mut self, name: String, list: Vec<Node>) -> Result<(), Error> {
        let empty = |l: &[Node]| {
            l.iter()
                .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
        };
        if let Some(i) = self.defines.iter().position(|(n, _)| *n == name) {
            if empty(&self.defines[i].1) {
                self.defines[i].1 = list;
                return Ok(());
            }
            if !empty(&list) {
                return self.err(format!(
                    "template: multiple definition of template {}",
                    crate::gofmt::quote(&name)
                ));
            }
            return Ok(());
        }
        self.defines.push((name, list));
        Ok(())
    }

    fn item_list(&mut self) -> Result<(Vec<Node>, End), Error> {
        let mut list = Vec::new();
        while self.peek_non_space().tok != Tok::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                Item::End => return Ok((list, End::End)),
                Item::Else => return Ok((list, End::Else)),
            }
        }
        self.err("unexpected EOF")
    }

    fn text_or_action(&mut self) -> Result<Item, Error> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Text(s) => Ok(Item::Node(Node::Text(s))),
            Tok::LeftDelim => self.action(),
            _ => self.unexpected(&t, "input"),
        }
    }

    fn action(&mut self) -> Result<Item, Error> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Keyword(Keyword::Block) => return self.block_control().map(Item::Node),
            // A function named break/continue takes precedence over the keyword, as in Go.
            Tok::Keyword(Keyword::Break) if !(self.has_func)("break") => {
                return self.loop_control(t.pos, true).map(Item::Node);
            }
            Tok::Keyword(Keyword::Continue) if !(self.has_func)("continue") => {
                return self.loop_control(t.pos, false).map(Item::Node);
            }
            Tok::Keyword(Keyword::Else) => {
                let peek = self.peek_non_space();
                if matches!(peek.tok, Tok::Keyword(Keyword::If | Keyword::With)) {
                    return Ok(Item::Else);
                }
                let e = self.next_non_space();
                if e.tok != Tok::RightDelim {
                    return self.unexpected(&e, "else");
                }
                return Ok(Item::Else);
            }
            Tok::Keyword(Keyword::End) => {
                let e = self.next_non_space();
                if e.tok != Tok::RightDelim {
                    return self.unexpected(&e, "end");
                }
                return Ok(Item::End);
            }
            Tok::Keyword(Keyword::If) => return self.if_control().map(Item::Node),
            Tok::Keyword(Keyword::Range) => return self.range_control().map(Item::Node),
            Tok::Keyword(Keyword::With) => return self.with_control().map(Item::Node),
            Tok::Keyword(Keyword::Template) => return self.template_control().map(Item::Node),
            _ => {}
        }
        self.backup();
        let pipe = self.pipeline("command", &Tok::RightDelim)?;
        Ok(Item::Node(Node::Action(pipe)))
    }

    fn loop_control(&mut self, pos: usize, is_break: bool) -> Result<Node, Error> {
        let word = if is_break { "break" } else { "continue" };
        let t = self.next_non_space();
        if t.tok != Tok::RightDelim {
            return self.unexpected(&t, &format!("{{{{{word}}}}}"));
        }
        if self.range_depth == 0 {
            return self.err(format!("{{{{{word}}}}} outside {{{{range}}}}"));
        }
        let _ = pos;
        Ok(if is_break {
            Node::Break
        } else {
            Node::Continue
        })
    }

    fn if_control(&mut self) -> Result<Node, Error> {
        Ok(Node::If(self.parse_control("if")?))
    }
    fn with_control(&mut self) -> Result<Node, Error> {
        Ok(Node::With(self.parse_control("with")?))
    }
    fn range_control(&mut self) -> Result<Node, Error> {
        Ok(Node::Range(self.parse_control("range")?))
    }

    fn parse_control(&mut self, context: &str) -> Result<Branch, Error> {
        if self.depth >= MAX_STACK_DEPTH {
            return self.err("max expression depth exceeded");
        }
        let mark = self.vars.len();
        self.depth += 1;
        let result =
            stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.parse_control_inner(context));
        self.depth -= 1;
        self.vars.truncate(mark);
        result
    }

    fn parse_control_inner(&mut self, context: &str) -> Result<Branch, Error> {
        let pipe = self.pipeline(context, &Tok::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let listed = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, end) = listed?;
        let else_list = match end {
            End::End => None,
            End::Else => {
                let peek = self.peek_non_space();
                if context == "if" && peek.tok == Tok::Keyword(Keyword::If) {
                    self.next_non_space();
                    Some(vec![self.if_control()?])
                } else if context == "with" && peek.tok == Tok::Keyword(Keyword::With) {
                    self.next_non_space();
                    Some(vec![self.with_control()?])
                } else {
                    let (l, e) = self.item_list()?;
                    if let End::Else = e {
                        return self.err("expected end; found {{else}}");
                    }
                    Some(l)
                }
            }
        };
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn template_control(&mut self) -> Result<Node, Error> {
        let context = "template clause";
        let t = self.next_non_space();
        let name = match t.tok {
            Tok::Str { ref value, .. } => value.clone(),
            _ => return self.unexpected(&t, context),
        };
        let pipe = if self.next_non_space().tok != Tok::RightDelim {
            self.backup();
            Some(self.pipeline(context, &Tok::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template {
            pos: t.pos,
            name,
            pipe,
        })
    }

    fn block_control(&mut self) -> Result<Node, Error> {
        let context = "block clause";
        let t = self.next_non_space();
        let name = match t.tok {
            Tok::Str { ref value, .. } => value.clone(),
            _ => return self.unexpected(&t, context),
        };
        let pipe = self.pipeline(context, &Tok::RightDelim)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let body = self.item_list();
        self.vars = saved;
        self.range_depth = saved_depth;
        let (list, end) = body?;
        if let End::Else = end {
            return self.err(format!("unexpected {{{{else}}}} in {context}"));
        }
        self.add_define(name.clone(), list)?;
        Ok(Node::Template {
            pos: t.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: &Tok) -> Result<Pipe, Error> {
        if self.depth >= MAX_STACK_DEPTH {
            return self.err("max expression depth exceeded");
        }
        self.depth += 1;
        let r = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.pipeline_inner(context, end));
        self.depth -= 1;
        r
    }

    fn pipeline_inner(&mut self, context: &str, end: &Tok) -> Result<Pipe, Error> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        // Declarations: `$x :=`, `$x =`, `$i, $e :=`.
        'decls: loop {
            let v = self.peek_non_space();
            let Tok::Variable(name) = v.tok else { break };
            let save = self.i;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.tok {
                Tok::Declare | Tok::Assign => {
                    self.next_non_space();
                    // Go checks assignments (`=`) only when executing.
                    pipe.is_assign = next.tok == Tok::Assign;
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    break 'decls;
                }
                Tok::Comma => {
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    if context == "range" && pipe.decl.len() < 2 {
                        let after = self.peek_non_space();
                        if matches!(after.tok, Tok::Variable(_)) {
                            continue 'decls;
                        }
                        if matches!(after.tok, Tok::RightDelim | Tok::RightParen) {
                            // `{{range $k,}}`: reported below as a missing value.
                            break 'decls;
                        }
                        return self.err("range can only initialize variables");
                    }
                    return self.err(format!("too many declarations in {context}"));
                }
                _ => {
                    self.i = save;
                    break 'decls;
                }
            }
        }
        if pipe.decl.len() == 2 && (pipe.cmds.is_empty()) {
            // `$i, $e :=` must end with a declaration operator (checked in the loop above).
        }
        loop {
            let t = self.next_non_space();
            if &t.tok == end {
                if pipe.cmds.is_empty() {
                    return self.err(format!("missing value for {context}"));
                }
                for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                    if matches!(
                        c.args.first(),
                        Some(
                            Arg::Bool(..)
                                | Arg::Dot(_)
                                | Arg::Nil(_)
                                | Arg::Number { .. }
                                | Arg::Str { .. }
                        )
                    ) {
                        return self.err(format!(
                            "non executable command in pipeline stage {}",
                            i + 1
                        ));
                    }
                }
                return Ok(pipe);
            }
            match t.tok {
                Tok::Bool(_)
                | Tok::Char(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Identifier(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::Str { .. }
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                Tok::Keyword(k @ (Keyword::Break | Keyword::Continue))
                    if (self.has_func)(keyword_name(k)) =>
                {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return self.unexpected(&t, context),
            }
        }
    }

    fn command(&mut self) -> Result<Command, Error> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Command {
            pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match t.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.backup(),
                Tok::Pipe => {}
                _ => return self.unexpected(&t, "operand"),
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.err("empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Result<Option<Arg>, Error> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if !matches!(self.peek().tok, Tok::Field(_)) {
            return Ok(Some(node));
        }
        let mut fields = Vec::new();
        while let Tok::Field(f) = &self.peek().tok {
            fields.push(f.clone());
            self.next();
        }
        Ok(Some(match node {
            Arg::Field { pos, mut idents } => {
                idents.extend(fields);
                Arg::Field { pos, idents }
            }
            Arg::Variable { pos, mut idents } => {
                idents.extend(fields);
                Arg::Variable { pos, idents }
            }
            Arg::Bool(..) | Arg::Str { .. } | Arg::Number { .. } | Arg::Nil(_) | Arg::Dot(_) => {
                return self.err(format!("unexpected . after term {:?}", node.to_string()));
            }
            other => Arg::Chain {
                pos: other.pos(),
                node: Box::new(other),
                fields,
            },
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>, Error> {
        let t = self.next_non_space();
        let pos = t.pos;
        Ok(Some(match t.tok {
            Tok::Identifier(name) => {
                if !(self.has_func)(&name) {
                    return self.err(format!("function {name:?} not defined"));
                }
                Arg::Ident { pos, name }
            }
            Tok::Keyword(k @ (Keyword::Break | Keyword::Continue))
                if (self.has_func)(keyword_name(k)) =>
            {
                Arg::Ident {
                    pos,
                    name: keyword_name(k).to_string(),
                }
            }
            Tok::Dot => Arg::Dot(pos),
            Tok::Nil => Arg::Nil(pos),
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return self.err(format!("undefined variable {name:?}"));
                }
                Arg::Variable {
                    pos,
                    idents: vec![name],
                }
            }
            Tok::Field(f) => Arg::Field {
                pos,
                idents: vec![f],
            },
            Tok::Bool(b) => Arg::Bool(pos, b),
            Tok::Number(text) | Tok::Char(text) => {
                let Some(value) = parse_number(&text) else {
                    return self.err(format!("illegal number syntax: {text:?}"));
                };
                Arg::Number { pos, text, value }
            }
            Tok::LeftParen => {
                let p = self.pipeline("parenthesized pipeline", &Tok::RightParen)?;
                Arg::Pipe(Box::new(p))
            }
            Tok::Str { raw, value } => Arg::Str { pos, raw, value },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

enum Item {
    Node(Node),
    End,
    Else,
}

fn keyword_name(k: Keyword) -> &'static str {
    match k {
        Keyword::Block => "block",
        Keyword::Break => "break",
        Keyword::Continue => "continue",
        Keyword::Define => "define",
        Keyword::Else => "else",
        Keyword::End => "end",
        Keyword::If => "if",
        Keyword::Range => "range",
        Keyword::Template => "template",
        Keyword::With => "with",
    }
}

/// Go's `%q` of a token value, shortened like the lexer's item String (`%.10q...`).
fn go_quote_short(s: &str) -> String {
    if s.chars().count() > 10 {
        let short: String = s.chars().take(10).collect();
        format!("{}...", crate::gofmt::quote(&short))
    } else {
        crate::gofmt::quote(s)
    }
}
