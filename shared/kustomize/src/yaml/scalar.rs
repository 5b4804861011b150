//! Scalar typing rules: how go-yaml reads a plain scalar and which strings it must quote.

use super::Node;

/// What yaml.v3 makes of an untagged plain scalar when kustomize reads a resource.
pub(crate) fn resolve_plain(s: &str) -> Node {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Node::Null,
        "true" | "True" | "TRUE" => return Node::Bool(true),
        "false" | "False" | "FALSE" => return Node::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Node::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Node::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Node::Float(f64::NAN),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
        if let Some(ts) = parse_timestamp(s) {
            return Node::Str(ts);
        }
        let plain: String = s.chars().filter(|c| *c != '_').collect();
        if let Some(n) = go_parse_int(&plain) {
            return n;
        }
        if is_yaml_float(&plain)
            && let Ok(f) = plain.parse::<f64>()
        {
            return Node::Float(f);
        }
    }
    Node::Str(s.to_string())
}

/// Go's strconv.ParseInt/ParseUint with base 0 (sign, 0x, 0o, 0b, leading-0 octal).
fn go_parse_int(s: &str) -> Option<Node> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) =
        if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, r)
        } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, r)
        } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, r)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u128::from_str_radix(digits, radix).ok()?;
    if neg {
        if mag <= (i64::MAX as u128) + 1 {
            return Some(Node::Int((-(mag as i128)) as i64));
        }
        return None;
    }
    if mag <= i64::MAX as u128 {
        Some(Node::Int(mag as i64))
    } else if mag <= u64::MAX as u128 {
        Some(Node::Uint(mag as u64))
    } else {
        None
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() && i - st < 2 {
            i += 1;
        }
        let n = i - st;
        if n == 0 || (n == 2 && b[st] > b'5') {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// Whether the go-yaml encoder kustomize prints with would read `s` back as something other
/// than a string, so it must be double-quoted.
pub(crate) fn needs_quotes(s: &str) -> bool {
    match s {
        "" | "~" | "null" | "Null" | "NULL" | "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N"
        | "no" | "No" | "NO" | "on" | "On" | "ON" | "off" | "Off" | "OFF" | "true" | "True"
        | "TRUE" | "false" | "False" | "FALSE" | ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf"
        | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" => return true,
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
        if parse_timestamp(s).is_some() {
            return true;
        }
        let plain: String = s.chars().filter(|c| *c != '_').collect();
        if go_parse_int(&plain).is_some() || is_yaml_float(&plain) {
            return true;
        }
        if let Some(r) = plain.strip_prefix("-0b")
            && !r.is_empty()
            && r.chars().all(|c| c == '0' || c == '1')
        {
            return true;
        }
        if is_base60_float(s) {
            return true;
        }
    }
    false
}

/// Parses the YAML timestamp forms go-yaml accepts, returning Go's RFC3339Nano rendering.
fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    // Date part: YYYY-M-D (month and day may be one digit).
    let mut i = 0;
    let num = |i: &mut usize, min: usize, max: usize| -> Option<u32> {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - st < max {
            *i += 1;
        }
        if *i - st < min {
            return None;
        }
        s[st..*i].parse().ok()
    };
    let year = num(&mut i, 4, 4)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i += 1;
    let month = num(&mut i, 1, 2)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i += 1;
    let day = num(&mut i, 1, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if i == b.len() {
        return Some(format!("{date}T00:00:00Z"));
    }
    if !matches!(b[i], b'T' | b't') {
        return None;
    }
    i += 1;
    let h = num(&mut i, 1, 2)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let m = num(&mut i, 1, 2)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let sec = num(&mut i, 1, 2)?;
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let mut frac = String::new();
    if b.get(i) == Some(&b'.') {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == st || i - st > 9 {
            return None;
        }
        let f = s[st..i].trim_end_matches('0');
        if !f.is_empty() {
            frac = format!(".{f}");
        }
    }
    let zone = match b.get(i) {
        Some(b'Z') if i + 1 == b.len() => "Z".to_string(),
        Some(b'+') | Some(b'-') => {
            let z = &s[i..];
            let zb = z.as_bytes();
            if zb.len() != 6
                || zb[3] != b':'
                || !zb[1..3].iter().chain(&zb[4..6]).all(u8::is_ascii_digit)
            {
                return None;
            }
            if &z[1..] == "00:00" {
                "Z".to_string()
            } else {
                z.to_string()
            }
        }
        _ => return None,
    };
    Some(format!("{date}T{h:02}:{m:02}:{sec:02}{frac}{zone}"))
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
pub fn go_float_g(f: f64) -> String {
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
    let (neg, digits, exp) = shortest_digits(f);
    // exp is the decimal exponent of the first digit (d.ddd x 10^exp).
    let sign = if neg { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let mut out = String::from(sign);
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
        return out;
    }
    format!("{sign}{}", fixed(&digits, exp))
}

fn shortest_digits(f: f64) -> (bool, String, i32) {
    let s = format!("{:e}", f.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    (f < 0.0, digits, exp)
}

fn fixed(digits: &str, exp: i32) -> String {
    let nd = digits.len() as i32;
    if exp < 0 {
        let mut s = String::from("0.");
        for _ in 0..(-exp - 1) {
            s.push('0');
        }
        s.push_str(digits);
        s
    } else if exp + 1 >= nd {
        let mut s = digits.to_string();
        for _ in 0..(exp + 1 - nd) {
            s.push('0');
        }
        s
    } else {
        let p = (exp + 1) as usize;
        format!("{}.{}", &digits[..p], &digits[p..])
    }
}

/// Go's encoding/json rendering of a float64.
pub fn go_json_float(f: f64) -> String {
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        // Go's 'e' format, with a two-digit minimum exponent trimmed to one.
        let (neg, digits, exp) = shortest_digits(f);
        let mut out = String::from(if neg { "-" } else { "" });
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&exp.unsigned_abs().to_string());
        return out;
    }
    if f == 0.0 {
        return "0".into();
    }
    let (neg, digits, exp) = shortest_digits(f);
    format!("{}{}", if neg { "-" } else { "" }, fixed(&digits, exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_like_yaml_v3() {
        assert_eq!(resolve_plain("0123"), Node::Int(83));
        assert_eq!(resolve_plain("0x1F"), Node::Int(31));
        assert_eq!(resolve_plain("1_000"), Node::Int(1000));
        assert_eq!(resolve_plain("yes"), Node::Str("yes".into()));
        assert_eq!(resolve_plain("1:20"), Node::Str("1:20".into()));
        assert_eq!(
            resolve_plain("2001-01-01"),
            Node::Str("2001-01-01T00:00:00Z".into())
        );
        assert_eq!(
            resolve_plain("12345678901234567890"),
            Node::Uint(12345678901234567890)
        );
    }

    #[test]
    fn strings_that_read_as_other_types_need_quotes() {
        for s in [
            "y",
            "off",
            "1.0",
            "+1",
            ".5",
            "1_000",
            "0o17",
            "0b101",
            "1:20",
            "2001-01-01",
            "1e3",
        ] {
            assert!(needs_quotes(s), "{s}");
        }
        for s in ["12e", "0x", "infinity", "<<", "a,b", "hello"] {
            assert!(!needs_quotes(s), "{s}");
        }
    }

    #[test]
    fn floats_format_like_go() {
        assert_eq!(go_float_g(1.5e20), "1.5e+20");
        assert_eq!(go_float_g(1e-6), "1e-06");
        assert_eq!(go_float_g(1.23456789), "1.23456789");
        assert_eq!(go_float_g(1234567.5), "1.2345675e+06");
        assert_eq!(go_float_g(0.5), "0.5");
        assert_eq!(go_json_float(1e23), "1e+23");
        assert_eq!(go_json_float(1.5e20), "150000000000000000000");
        assert_eq!(go_json_float(1e-7), "1e-7");
    }
}
