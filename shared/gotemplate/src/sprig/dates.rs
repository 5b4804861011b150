//! Sprig date functions with Go's reference-time layouts (`2006-01-02T15:04:05Z07:00`) and Go
//! duration strings. Times are `time.Time` objects; only UTC and the local zone are known.

use std::sync::Arc;

use chrono::{DateTime, Datelike, FixedOffset, Local, NaiveDateTime, TimeZone, Timelike, Utc};

use super::args::{arity, reg, string, to_i64};
use crate::func::{FuncError, FuncMap};
use crate::value::{Object, Value};

/// A Go `time.Time`.
#[derive(Debug, Clone)]
pub struct GoTime(pub DateTime<FixedOffset>);

impl Object for GoTime {
    fn type_name(&self) -> &str {
        "time.Time"
    }
    fn field(&self, name: &str) -> Option<Result<Value, FuncError>> {
        let t = &self.0;
        Some(Ok(match name {
            "Unix" => Value::Int(t.timestamp()),
            "UnixNano" => Value::Int(t.timestamp_nanos_opt().unwrap_or(0)),
            "Year" => Value::Int(i64::from(t.year())),
            "Month" => Value::Int(i64::from(t.month())),
            "Day" => Value::Int(i64::from(t.day())),
            "Hour" => Value::Int(i64::from(t.hour())),
            "Minute" => Value::Int(i64::from(t.minute())),
            "Second" => Value::Int(i64::from(t.second())),
            "UTC" => Value::Object(Arc::new(GoTime(t.with_timezone(&Utc).fixed_offset()))),
            _ => return None,
        }))
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        match (name, args) {
            ("Format", [Value::String(l)]) => Some(Ok(Value::String(format_go(&self.0, l)))),
            _ => None,
        }
    }
    fn data(&self) -> Value {
        Value::String(format_go(
            &self.0,
            "2006-01-02 15:04:05.999999999 -0700 MST",
        ))
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

fn time_value(t: DateTime<FixedOffset>) -> Value {
    Value::Object(Arc::new(GoTime(t)))
}

fn now() -> DateTime<FixedOffset> {
    Local::now().fixed_offset()
}

/// The time a date argument stands for, as Sprig's `dateInZone` reads it: a time, or Unix
/// seconds as an integer; anything else is "now".
fn as_time(v: &Value) -> DateTime<FixedOffset> {
    match v {
        Value::Object(o) => match o.as_any().and_then(|x| x.downcast_ref::<GoTime>()) {
            Some(t) => t.0,
            None => now(),
        },
        Value::Int(secs) => Utc
            .timestamp_opt(*secs, 0)
            .single()
            .map(|t| t.with_timezone(&Local).fixed_offset())
            .unwrap_or_else(now),
        _ => now(),
    }
}

fn in_zone(t: DateTime<FixedOffset>, zone: &str) -> DateTime<FixedOffset> {
    zoned(t, zone).0
}

/// The time in a named zone with the zone's abbreviation ("EST"), as Go's LoadLocation finds
/// it in the system tzdata; unknown zones fall back to UTC like Sprig does.
fn zoned(t: DateTime<FixedOffset>, zone: &str) -> (DateTime<FixedOffset>, Option<String>) {
    match zone {
        "Local" => (t.with_timezone(&Local).fixed_offset(), None),
        "" | "UTC" => (t.with_timezone(&Utc).fixed_offset(), None),
        name => {
            let found = jiff::tz::TimeZone::get(name).ok().and_then(|tz| {
                let ts = jiff::Timestamp::from_second(t.timestamp()).ok()?;
                let info = tz.to_offset_info(ts);
                let off = FixedOffset::east_opt(info.offset().seconds())?;
                Some((t.with_timezone(&off), info.abbreviation().to_string()))
            });
            match found {
                Some((t, abbrev)) => (t, Some(abbrev)),
                None => (t.with_timezone(&Utc).fixed_offset(), None),
            }
        }
    }
}

fn format_in_zone(t: DateTime<FixedOffset>, zone: &str, layout: &str) -> String {
    let (t, abbrev) = zoned(t, zone);
    format_go_abbrev(&t, layout, abbrev.as_deref())
}

pub(crate) fn register(m: &mut FuncMap) {
    reg(m, "now", |a| {
        arity(a, 0)?;
        Ok(time_value(now()))
    });
    reg(m, "date", |a| {
        arity(a, 2)?;
        let t = in_zone(as_time(&a[1]), "Local");
        Ok(Value::String(format_go(&t, string(a, 0)?)))
    });
    reg(m, "dateInZone", |a| {
        arity(a, 3)?;
        Ok(Value::String(format_in_zone(
            as_time(&a[1]),
            string(a, 2)?,
            string(a, 0)?,
        )))
    });
    reg(m, "date_in_zone", |a| {
        arity(a, 3)?;
        Ok(Value::String(format_in_zone(
            as_time(&a[1]),
            string(a, 2)?,
            string(a, 0)?,
        )))
    });
    reg(m, "htmlDate", |a| {
        arity(a, 1)?;
        Ok(Value::String(format_go(
            &in_zone(as_time(&a[0]), "Local"),
            "2006-01-02",
        )))
    });
    reg(m, "htmlDateInZone", |a| {
        arity(a, 2)?;
        Ok(Value::String(format_in_zone(
            as_time(&a[0]),
            string(a, 1)?,
            "2006-01-02",
        )))
    });
    reg(m, "unixEpoch", |a| {
        arity(a, 1)?;
        Ok(Value::String(as_time(&a[0]).timestamp().to_string()))
    });
    for (name, must) in [
        ("dateModify", false),
        ("date_modify", false),
        ("mustDateModify", true),
        ("must_date_modify", true),
    ] {
        reg(m, name, move |a| {
            arity(a, 2)?;
            let t = as_time(&a[1]);
            match parse_duration(string(a, 0)?) {
                Some(ns) => t
                    .checked_add_signed(chrono::Duration::nanoseconds(ns))
                    .map(time_value)
                    .ok_or_else(|| FuncError::failed("time out of range")),
                None if must => Err(FuncError::failed(format!(
                    "time: invalid duration {}",
                    crate::gofmt::quote(string(a, 0)?)
                ))),
                None => Ok(time_value(t)),
            }
        });
    }
    reg(m, "duration", |a| {
        arity(a, 1)?;
        let secs = match &a[0] {
            Value::String(s) => s.parse::<i64>().unwrap_or(0),
            Value::Int(i) => *i,
            _ => 0,
        };
        Ok(Value::String(format_duration(
            i128::from(secs) * 1_000_000_000,
        )))
    });
    reg(m, "ago", |a| {
        arity(a, 1)?;
        let t = as_time(&a[0]);
        let secs = (now() - t).num_milliseconds();
        let rounded = (secs as f64 / 1000.0).round() as i128;
        Ok(Value::String(format_duration(rounded * 1_000_000_000)))
    });
    for (name, must) in [("toDate", false), ("mustToDate", true)] {
        reg(m, name, move |a| {
            arity(a, 2)?;
            match parse_go(string(a, 0)?, string(a, 1)?) {
                Some(t) => Ok(time_value(t)),
                None if must => Err(FuncError::failed(format!(
                    "parsing time {} as {}: cannot parse",
                    crate::gofmt::quote(string(a, 1)?),
                    crate::gofmt::quote(string(a, 0)?)
                ))),
                None => Ok(time_value(
                    Utc.timestamp_opt(-62_135_596_800, 0)
                        .single()
                        .unwrap_or_default()
                        .fixed_offset(),
                )),
            }
        });
    }
    reg(m, "durationRound", |a| {
        arity(a, 1)?;
        let ns: i128 = match &a[0] {
            Value::String(s) => parse_duration(s).map_or(0, i128::from),
            Value::Object(o) => match o.as_any().and_then(|x| x.downcast_ref::<GoTime>()) {
                Some(t) => i128::from((now() - t.0).num_nanoseconds().unwrap_or(0)),
                None => 0,
            },
            other => i128::from(to_i64(other)),
        };
        Ok(Value::String(duration_round(ns)))
    });
}

/// Sprig's durationRound: the largest unit only ("2h", "3mo", "1y").
fn duration_round(ns: i128) -> String {
    let u = ns.unsigned_abs();
    let sign = if ns < 0 { "-" } else { "" };
    const SEC: u128 = 1_000_000_000;
    const MIN: u128 = 60 * SEC;
    const HOUR: u128 = 60 * MIN;
    const DAY: u128 = 24 * HOUR;
    const MONTH: u128 = 30 * DAY;
    const YEAR: u128 = 365 * DAY;
    let (n, unit) = if u >= YEAR {
        (u / YEAR, "y")
    } else if u >= MONTH {
        (u / MONTH, "mo")
    } else if u >= DAY {
        (u / DAY, "d")
    } else if u >= HOUR {
        (u / HOUR, "h")
    } else if u >= MIN {
        (u / MIN, "m")
    } else if u >= SEC {
        (u / SEC, "s")
    } else {
        return "0s".into();
    };
    format!("{sign}{n}{unit}")
}

/// Go layout elements, longest first where prefixes overlap.
const TOKENS: &[(&str, &str)] = &[
    ("January", "%B"),
    ("Jan", "%b"),
    ("Monday", "%A"),
    ("Mon", "%a"),
    ("MST", "%Z"),
    ("2006", "%Y"),
    ("-07:00:00", "%::z"),
    ("-0700", "%z"),
    ("-07:00", "%:z"),
    ("-07", "%:::z"),
    ("Z07:00", "Z:"),
    ("Z0700", "Z"),
    ("002", "%j"),
    ("01", "%m"),
    ("02", "%d"),
    ("03", "%I"),
    ("04", "%M"),
    ("05", "%S"),
    ("06", "%y"),
    ("_2", "%e"),
    ("15", "%H"),
    ("1", "%-m"),
    ("2", "%-d"),
    ("3", "%-I"),
    ("4", "%-M"),
    ("5", "%-S"),
    ("PM", "%p"),
    ("pm", "%P"),
];

/// Formats with a Go layout.
pub fn format_go(t: &DateTime<FixedOffset>, layout: &str) -> String {
    format_go_abbrev(t, layout, None)
}

/// Formats with a Go layout; `MST` prints `abbrev` when the zone's abbreviation is known.
fn format_go_abbrev(t: &DateTime<FixedOffset>, layout: &str, abbrev: Option<&str>) -> String {
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        // Fractional seconds: .000 / .999 (and comma forms).
        if rest.starts_with(['.', ',']) {
            let digits: String = rest[1..]
                .chars()
                .take_while(|c| *c == '0' || *c == '9')
                .collect();
            let after = rest[1 + digits.len()..].chars().next();
            let uniform = !digits.is_empty()
                && (digits.chars().all(|c| c == '0') || digits.chars().all(|c| c == '9'));
            if uniform && !after.is_some_and(|c| c.is_ascii_digit()) {
                let ns = format!("{:09}", t.nanosecond() % 1_000_000_000);
                let mut frac = ns[..digits.len().min(9)].to_string();
                if digits.starts_with('9') {
                    while frac.ends_with('0') {
                        frac.pop();
                    }
                    if !frac.is_empty() {
                        out.push_str(&rest[..1]);
                        out.push_str(&frac);
                    }
                } else {
                    out.push_str(&rest[..1]);
                    out.push_str(&frac);
                }
                rest = &rest[1 + digits.len()..];
                continue;
            }
        }
        for (tok, spec) in TOKENS {
            if let Some(r) = rest.strip_prefix(tok) {
                // "Jan" must not be the start of a longer lower-case word (Go's startsWithLowerCase).
                if matches!(*tok, "Mon" | "Jan" | "Monday" | "January")
                    && r.chars().next().is_some_and(|c| c.is_lowercase())
                {
                    continue;
                }
                match *spec {
                    "Z:" | "Z" => {
                        if t.offset().local_minus_utc() == 0 {
                            out.push('Z');
                        } else {
                            let f = if *spec == "Z:" { "%:z" } else { "%z" };
                            out.push_str(&t.format(f).to_string());
                        }
                    }
                    "%Z" => {
                        if let Some(a) = abbrev {
                            out.push_str(a);
                        } else if t.offset().local_minus_utc() == 0 {
                            out.push_str("UTC");
                        } else {
                            out.push_str(&t.format("%:::z").to_string());
                        }
                    }
                    s => out.push_str(&t.format(s).to_string()),
                }
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Parses with a Go layout (in the local zone unless the layout has an offset).
fn parse_go(layout: &str, value: &str) -> Option<DateTime<FixedOffset>> {
    let mut fmt = String::new();
    let mut rest = layout;
    let mut has_zone = false;
    'outer: while !rest.is_empty() {
        if rest.starts_with(['.', ',']) {
            let digits: String = rest[1..]
                .chars()
                .take_while(|c| *c == '0' || *c == '9')
                .collect();
            if !digits.is_empty() {
                fmt.push_str("%.f");
                rest = &rest[1 + digits.len()..];
                continue;
            }
        }
        for (tok, spec) in TOKENS {
            if let Some(r) = rest.strip_prefix(tok) {
                let spec = match *spec {
                    "Z:" | "%:::z" | "%::z" => {
                        has_zone = true;
                        "%:z"
                    }
                    "Z" | "%z" => {
                        has_zone = true;
                        "%z"
                    }
                    "%-m" => "%m",
                    "%-d" => "%d",
                    "%-I" => "%I",
                    "%-M" => "%M",
                    "%-S" => "%S",
                    s => s,
                };
                fmt.push_str(spec);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        if c == '%' {
            fmt.push_str("%%");
        } else {
            fmt.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    // Go accepts "Z" for a Z07:00 offset.
    let value_fixed = value.replace('Z', "+00:00");
    if has_zone {
        return DateTime::parse_from_str(&value_fixed, &fmt)
            .or_else(|_| DateTime::parse_from_str(value, &fmt))
            .ok();
    }
    let naive = NaiveDateTime::parse_from_str(value, &fmt)
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(value, &fmt)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Local
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.fixed_offset())
}

/// Parses a Go duration ("1h30m", "-1.5h", "300ms") into nanoseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * unit;
    }
    if total > i64::MAX as f64 {
        return None;
    }
    Some(if neg { -(total as i64) } else { total as i64 })
}

/// Go's `time.Duration.String()`.
pub fn format_duration(ns: i128) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac_str(u, div));
        out.push_str(unit);
    } else {
        let secs_total = u / 1_000_000_000;
        let h = secs_total / 3600;
        let mnt = (secs_total / 60) % 60;
        let sec_ns = u % 60_000_000_000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || mnt > 0 {
            out.push_str(&format!("{mnt}m"));
        }
        out.push_str(&frac_str(sec_ns, 1_000_000_000));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

fn frac_str(v: u128, div: u128) -> String {
    let whole = v / div;
    let frac = v % div;
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let f = format!("{frac:0width$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}
