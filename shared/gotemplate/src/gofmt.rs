//! Go's `fmt` for template values: `%v` printing of maps, slices and floats, `Sprint`,
//! `Sprintln`, and `Sprintf` with verbs, flags, width, precision and Go's `%!verb(type=value)`
//! error forms.

use std::fmt::Write as _;

use crate::value::{MAX_VALUE_DEPTH, Value};

/// `%v` of a value as a new string.
pub fn format_v(v: &Value) -> String {
    let mut s = String::new();
    write_v(v, &mut s);
    s
}

/// Appends `%v` of a value.
pub fn write_v(v: &Value, out: &mut String) {
    let mut p = Printer { out };
    p.print_value(v, 'v', &Spec::default(), 0);
}

/// Go's `fmt.Sprint`: operands printed with `%v`, with a space between two operands when neither
/// is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, Value::String(_)) && !matches!(args[i - 1], Value::String(_)) {
            out.push(' ');
        }
        write_v(a, &mut out);
    }
    out
}

/// Go's `fmt.Sprintln`: operands separated by spaces, ending with a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_v(a, &mut out);
    }
    out.push('\n');
    out
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        quote_char_into(c, '"', &mut out);
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteToASCII` (`%+q`).
fn quote_ascii(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c.is_ascii() {
            quote_char_into(c, '"', &mut out);
        } else if (c as u32) < 0x10000 {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
    out.push('"');
    out
}

fn quote_char_into(c: char, q: char, out: &mut String) {
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == q => {
            out.push('\\');
            out.push(c);
        }
        c if (c as u32) < 0x20 || c == '\x7f' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if is_go_printable(c) => out.push(c),
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

fn is_go_printable(c: char) -> bool {
    !c.is_control() && !matches!(c as u32, 0xAD | 0x2028 | 0x2029 | 0xFEFF | 0xE000..=0xF8FF)
}

/// Formatting flags, width and precision of one verb.
#[derive(Default, Clone)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Go's `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let mut argi = 0usize;
    let mut reordered = false;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        // Flags.
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = !spec.minus,
                _ => break,
            }
            chars.next();
        }
        // Argument index, width.
        let mut bad_index = false;
        if let Some(n) = parse_arg_index(&mut chars, &mut bad_index) {
            argi = n;
            reordered = true;
            bad_index |= n >= args.len();
        }
        if chars.peek().map(|x| x.1) == Some('*') {
            chars.next();
            match args.get(argi) {
                Some(Value::Int(w)) => {
                    if *w < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.width = Some(usize::try_from(w.unsigned_abs()).unwrap_or(0).min(1 << 20));
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            argi += 1;
        } else {
            spec.width = parse_num(&mut chars);
        }
        // Precision.
        if chars.peek().map(|x| x.1) == Some('.') {
            chars.next();
            if let Some(n) = parse_arg_index(&mut chars, &mut bad_index) {
                argi = n;
                reordered = true;
                bad_index |= n >= args.len();
            }
            if chars.peek().map(|x| x.1) == Some('*') {
                chars.next();
                match args.get(argi) {
                    Some(Value::Int(p)) if *p >= 0 => {
                        spec.prec = Some(usize::try_from(*p).unwrap_or(0).min(1 << 20));
                    }
                    _ => out.push_str("%!(BADPREC)"),
                }
                argi += 1;
            } else {
                spec.prec = Some(parse_num(&mut chars).unwrap_or(0));
            }
        }
        if let Some(n) = parse_arg_index(&mut chars, &mut bad_index) {
            argi = n;
            reordered = true;
            bad_index |= n >= args.len();
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        if bad_index {
            let _ = write!(out, "%!{verb}(BADINDEX)");
            continue;
        }
        let Some(arg) = args.get(argi) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        argi += 1;
        let mut p = Printer { out: &mut out };
        if verb == 'T' {
            let t = arg.type_name();
            p.pad_str(&t, &spec);
            continue;
        }
        p.print_value(arg, verb, &spec, 0);
    }
    if !reordered && argi < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args[argi..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match a {
                Value::Nil => out.push_str("<nil>"),
                a => {
                    let _ = write!(out, "{}={}", a.type_name(), format_v(a));
                }
            }
        }
        out.push(')');
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

fn parse_num(chars: &mut Chars<'_>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(&(_, d)) = chars.peek() {
        let Some(v) = d.to_digit(10) else { break };
        n = Some((n.unwrap_or(0) * 10 + v as usize).min(1 << 20));
        chars.next();
    }
    n
}

/// `[n]` explicit argument index (1-based), returned 0-based.
fn parse_arg_index(chars: &mut Chars<'_>, bad: &mut bool) -> Option<usize> {
    if chars.peek().map(|x| x.1) != Some('[') {
        return None;
    }
    chars.next();
    let n = parse_num(chars);
    if chars.peek().map(|x| x.1) != Some(']') {
        *bad = true;
        // Skip to the closing bracket if any.
        for (_, c) in chars.by_ref() {
            if c == ']' {
                break;
            }
        }
        return None;
    }
    chars.next();
    match n {
        Some(n) if n >= 1 => Some(n - 1),
        _ => {
            *bad = true;
            None
        }
    }
}

struct Printer<'o> {
    out: &'o mut String,
}

impl Printer<'_> {
    fn bad_verb(&mut self, verb: char, v: &Value) {
        match v {
            Value::Nil => {
                let _ = write!(self.out, "%!{verb}(<nil>)");
            }
            v => {
                let _ = write!(self.out, "%!{verb}({}={})", v.type_name(), format_v(v));
            }
        }
    }

    /// `%#v`: Go syntax (`[]interface {}{1, "a"}`, `map[string]interface {}{"k":1}`).
    fn go_syntax(&mut self, v: &Value, depth: usize) {
        if depth > MAX_VALUE_DEPTH {
            self.out.push_str("...");
            return;
        }
        match v {
            Value::Nil if depth == 0 => self.out.push_str("<nil>"),
            Value::Nil => self.out.push_str("interface {}(nil)"),
            Value::String(s) => self.out.push_str(&quote(s)),
            Value::List(l) => {
                self.out.push_str("[]interface {}{");
                for (i, e) in l.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.go_syntax(e, depth + 1);
                }
                self.out.push('}');
            }
            Value::Map(m) => {
                self.out.push_str("map[string]interface {}{");
                for (i, (k, e)) in m.read().iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.out.push_str(&quote(k));
                    self.out.push(':');
                    self.go_syntax(e, depth + 1);
                }
                self.out.push('}');
            }
            Value::Object(o) => self.go_syntax(&o.data(), depth + 1),
            other => self.print_value(other, 'v', &Spec::default(), depth),
        }
    }

    fn print_value(&mut self, v: &Value, verb: char, spec: &Spec, depth: usize) {
        if depth > MAX_VALUE_DEPTH {
            self.out.push_str("...");
            return;
        }
        if verb == 'v' && spec.sharp {
            let mut buf = String::new();
            Printer { out: &mut buf }.go_syntax(v, depth);
            self.pad_str(
                &buf,
                &Spec {
                    sharp: false,
                    ..spec.clone()
                },
            );
            return;
        }
        match v {
            Value::Nil => match verb {
                'v' => self.pad_str("<nil>", spec),
                _ => self.bad_verb(verb, v),
            },
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad_str(if *b { "true" } else { "false" }, spec),
                _ => self.bad_verb(verb, v),
            },
            Value::Int(i) => self.fmt_int(*i, verb, spec, v),
            Value::Float(f) => self.fmt_float(*f, verb, spec, v),
            Value::String(s) => self.fmt_string(s, verb, spec, v),
            Value::List(l) => {
                self.out.push('[');
                for (i, e) in l.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    self.print_value(e, verb, spec, depth + 1);
                }
                self.out.push(']');
            }
            Value::Map(m) => {
                self.out.push_str("map[");
                for (i, (k, e)) in m.read().iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    self.fmt_string(k, verb, spec, &Value::String(k.clone()));
                    self.out.push(':');
                    self.print_value(e, verb, spec, depth + 1);
                }
                self.out.push(']');
            }
            Value::Object(o) => match o.data() {
                Value::Nil => {
                    let _ = write!(self.out, "{{{}}}", o.type_name());
                }
                d => self.print_value(&d, verb, spec, depth + 1),
            },
        }
    }

    /// Pads `s` to the width with spaces (or zeros with the `0` flag), left or right.
    fn pad_str(&mut self, s: &str, spec: &Spec) {
        let n = s.chars().count();
        let w = spec.width.unwrap_or(0);
        if n >= w {
            self.out.push_str(s);
            return;
        }
        let fill = w - n;
        if spec.minus {
            self.out.push_str(s);
            self.out.extend(std::iter::repeat_n(' ', fill));
        } else {
            let c = if spec.zero { '0' } else { ' ' };
            self.out.extend(std::iter::repeat_n(c, fill));
            self.out.push_str(s);
        }
    }

    /// Pads a number: zero padding goes after the sign.
    fn pad_num(&mut self, s: &str, spec: &Spec, allow_zero: bool) {
        let w = spec.width.unwrap_or(0);
        let n = s.chars().count();
        if spec.zero && allow_zero && !spec.minus && n < w {
            let (sign, digits) = match s.as_bytes().first() {
                Some(b'+' | b'-' | b' ') => s.split_at(1),
                _ => ("", s),
            };
            self.out.push_str(sign);
            self.out.extend(std::iter::repeat_n('0', w - n));
            self.out.push_str(digits);
            return;
        }
        let no_zero = Spec {
            zero: false,
            ..spec.clone()
        };
        self.pad_str(s, &no_zero);
    }

    fn fmt_int(&mut self, i: i64, verb: char, spec: &Spec, v: &Value) {
        let neg = i < 0;
        let mag = i.unsigned_abs();
        let (digits, prefix) = match verb {
            'd' | 'v' => (mag.to_string(), ""),
            'b' => (format!("{mag:b}"), if spec.sharp { "0b" } else { "" }),
            'o' => (format!("{mag:o}"), if spec.sharp { "0" } else { "" }),
            'O' => (format!("{mag:o}"), "0o"),
            'x' => (format!("{mag:x}"), if spec.sharp { "0x" } else { "" }),
            'X' => (format!("{mag:X}"), if spec.sharp { "0X" } else { "" }),
            'c' => {
                let c = u32::try_from(i)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                self.pad_str(&c.to_string(), spec);
                return;
            }
            'q' => {
                let c = u32::try_from(i)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                let mut q = String::from("'");
                quote_char_into(c, '\'', &mut q);
                q.push('\'');
                self.pad_str(&q, spec);
                return;
            }
            'U' => {
                let mut s = format!("U+{mag:04X}");
                if spec.sharp
                    && let Some(c) = u32::try_from(i).ok().and_then(char::from_u32)
                    && is_go_printable(c)
                {
                    let _ = write!(s, " '{c}'");
                }
                self.pad_str(&s, spec);
                return;
            }
            _ => {
                self.bad_verb(verb, v);
                return;
            }
        };
        let mut digits = digits;
        if let Some(p) = spec.prec {
            if p == 0 && mag == 0 {
                digits.clear();
            } else if digits.len() < p {
                digits = format!("{}{digits}", "0".repeat(p - digits.len()));
            }
        }
        let sign = if neg {
            "-"
        } else if spec.plus {
            "+"
        } else if spec.space {
            " "
        } else {
            ""
        };
        let body = format!("{prefix}{digits}");
        // With an explicit precision Go pads with spaces, never zeros.
        let allow_zero = spec.prec.is_none();
        if allow_zero && spec.zero && !spec.minus {
            let w = spec.width.unwrap_or(0);
            let n = sign.len() + body.len();
            if n < w {
                self.out.push_str(sign);
                self.out.push_str(prefix);
                self.out.extend(std::iter::repeat_n('0', w - n));
                self.out.push_str(&digits);
                return;
            }
        }
        self.pad_num(&format!("{sign}{body}"), spec, false);
    }

    fn fmt_float(&mut self, f: f64, verb: char, spec: &Spec, v: &Value) {
        let s = match verb {
            'v' | 'g' | 'G' => format_g(f, spec.prec, verb == 'G'),
            'e' | 'E' => format_e(f, spec.prec.unwrap_or(6), verb == 'E'),
            'f' | 'F' => format_f(f, spec.prec.unwrap_or(6)),
            _ => {
                self.bad_verb(verb, v);
                return;
            }
        };
        let mut s = s;
        if !s.starts_with('-') && !s.starts_with('+') {
            if spec.plus {
                s.insert(0, '+');
            } else if spec.space {
                s.insert(0, ' ');
            }
        }
        self.pad_num(&s, spec, f.is_finite());
    }

    fn fmt_string(&mut self, s: &str, verb: char, spec: &Spec, v: &Value) {
        let s = match spec.prec {
            Some(p) if matches!(verb, 's' | 'v' | 'q' | 'x' | 'X') => {
                let end = s.char_indices().nth(p).map_or(s.len(), |(i, _)| i);
                &s[..end]
            }
            _ => s,
        };
        match verb {
            's' | 'v' => self.pad_str(s, spec),
            'q' => {
                if spec.sharp && !s.contains('`') && !s.chars().any(|c| c.is_control() && c != '\t')
                {
                    self.pad_str(&format!("`{s}`"), spec);
                } else if spec.plus {
                    self.pad_str(&quote_ascii(s), spec);
                } else {
                    self.pad_str(&quote(s), spec);
                }
            }
            'x' | 'X' => {
                let mut h = String::new();
                for (i, b) in s.bytes().enumerate() {
                    if spec.space && i > 0 {
                        h.push(' ');
                    }
                    if spec.sharp && (spec.space || i == 0) {
                        h.push_str(if verb == 'x' { "0x" } else { "0X" });
                    }
                    if verb == 'x' {
                        let _ = write!(h, "{b:02x}");
                    } else {
                        let _ = write!(h, "{b:02X}");
                    }
                }
                self.pad_str(&h, spec);
            }
            _ => self.bad_verb(verb, v),
        }
    }
}

/// Decimal digits and decimal-point position of `f` (> 0, finite): shortest round-trip digits
/// when `sig` is None, else rounded to `sig` significant digits (trailing zeros removed).
fn decimal_digits(f: f64, sig: Option<usize>) -> (String, i32) {
    // Every f64 is exact within 1100 significant digits; the rest are zeros, which the layout
    // functions pad (Rust's formatter refuses precisions above 65535).
    let s = match sig {
        None => format!("{f:e}"),
        Some(n) => format!("{:.*e}", n.saturating_sub(1).min(EXACT_DIGITS), f),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    (digits, exp + 1)
}

/// Go's `%e` layout from digits: d.ddde±XX with at least two exponent digits.
fn layout_e(neg: bool, digits: &str, dp: i32, frac: usize, upper: bool) -> String {
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let mut ds = digits.chars();
    s.push(ds.next().unwrap_or('0'));
    if frac > 0 {
        s.push('.');
        for _ in 0..frac {
            s.push(ds.next().unwrap_or('0'));
        }
    }
    let exp = if digits == "0" { 0 } else { dp - 1 };
    s.push(if upper { 'E' } else { 'e' });
    s.push(if exp < 0 { '-' } else { '+' });
    let _ = write!(s, "{:02}", exp.unsigned_abs());
    s
}

/// Go's `%f` layout from digits with `frac` decimals (digits already rounded as needed).
fn layout_f(neg: bool, digits: &str, dp: i32, frac: usize) -> String {
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let d: Vec<char> = digits.chars().collect();
    if dp > 0 {
        for i in 0..usize::try_from(dp).unwrap_or(0) {
            s.push(*d.get(i).unwrap_or(&'0'));
        }
    } else {
        s.push('0');
    }
    if frac > 0 {
        s.push('.');
        for i in 0..frac {
            let idx = i64::from(dp) + i as i64;
            let c = if idx < 0 {
                '0'
            } else {
                *d.get(usize::try_from(idx).unwrap_or(usize::MAX))
                    .unwrap_or(&'0')
            };
            s.push(c);
        }
    }
    s
}

fn special(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("NaN".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        })
    } else {
        None
    }
}

/// Go's `%g` and `%v` for floats: shortest digits without a precision, exponent form when the
/// exponent is below -4 or at least the precision (6 for shortest, which is why `%v` of
/// 1000000.0 is `1e+06`).
pub(crate) fn format_g(f: f64, prec: Option<usize>, upper: bool) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    let neg = f.is_sign_negative();
    let a = f.abs();
    if a == 0.0 {
        return if neg { "-0".into() } else { "0".into() };
    }
    let prec = prec.map(|p| p.max(1));
    let (digits, dp) = decimal_digits(a, prec);
    let nd = digits.len() as i32;
    let mut eprec = match prec {
        Some(p) => p as i32,
        None => nd,
    };
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if prec.is_none() {
        eprec = 6;
    }
    let exp = dp - 1;
    let p = prec.map_or(nd, |p| p as i32);
    if exp < -4 || exp >= eprec {
        let p = p.min(nd);
        return layout_e(neg, &digits, dp, usize::try_from(p - 1).unwrap_or(0), upper);
    }
    let p = if p > dp { nd } else { p };
    layout_f(
        neg,
        &digits,
        dp,
        usize::try_from((p - dp).max(0)).unwrap_or(0),
    )
}

/// Go's `%.Ne`.
pub(crate) fn format_e(f: f64, prec: usize, upper: bool) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    let neg = f.is_sign_negative();
    let a = f.abs();
    if a == 0.0 {
        return layout_e(neg, "0", 1, prec, upper);
    }
    let (digits, dp) = decimal_digits(a, Some(prec + 1));
    layout_e(neg, &digits, dp, prec, upper)
}

/// Decimal places beyond which an f64 has only zeros.
const EXACT_DIGITS: usize = 1100;

/// Go's `%.Nf`.
pub(crate) fn format_f(f: f64, prec: usize) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    let mut s = format!("{:.*}", prec.min(EXACT_DIGITS), f);
    s.extend(std::iter::repeat_n('0', prec.saturating_sub(EXACT_DIGITS)));
    if f == 0.0 && f.is_sign_negative() && !s.starts_with('-') {
        return format!("-{s}");
    }
    s
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest digits, never an exponent.
pub fn format_f_shortest(f: f64) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    let neg = f.is_sign_negative();
    let a = f.abs();
    if a == 0.0 {
        return if neg { "-0".into() } else { "0".into() };
    }
    let (digits, dp) = decimal_digits(a, None);
    let frac = (digits.len() as i32 - dp).max(0);
    layout_f(neg, &digits, dp, usize::try_from(frac).unwrap_or(0))
}
