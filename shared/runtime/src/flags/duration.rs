//! Go-style durations (`30s`, `1m30s`, `500ms`) as Flux's flags accept them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("invalid duration {0:?}: empty string")]
    Empty(String),
    #[error(
        "invalid duration {0:?}: expected a number followed by a unit (ns, us, ms, s, m, h), e.g. 30s or 1m30s"
    )]
    Malformed(String),
    #[error(
        "invalid duration {input:?}: missing unit after {number}; valid units are ns, us, ms, s, m, h"
    )]
    MissingUnit { input: String, number: String },
    #[error(
        "invalid duration {input:?}: unknown unit {unit:?}; valid units are ns, us, ms, s, m, h"
    )]
    UnknownUnit { input: String, unit: String },
    #[error("invalid duration {0:?}: negative durations are not allowed")]
    Negative(String),
    #[error("invalid duration {0:?}: value is too large")]
    Overflow(String),
}

/// A non-negative duration parsed and printed the way Go's `time.Duration` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GoDuration(pub Duration);

impl GoDuration {
    pub const fn from_secs(secs: u64) -> Self {
        GoDuration(Duration::from_secs(secs))
    }

    pub const fn as_duration(&self) -> Duration {
        self.0
    }
}

impl From<GoDuration> for Duration {
    fn from(d: GoDuration) -> Self {
        d.0
    }
}

/// Parses a duration with Go's `time.ParseDuration` grammar: an optional sign, then one or
/// more decimal numbers each followed by a unit. A bare `0` is accepted, as in Go.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty(input.to_string()));
    }
    let (negative, mut rest) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(DurationError::Malformed(input.to_string()));
    }
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..num_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(DurationError::Malformed(input.to_string()));
        }
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        if unit.is_empty() {
            return Err(DurationError::MissingUnit {
                input: input.to_string(),
                number: number.to_string(),
            });
        }
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            other => {
                return Err(DurationError::UnknownUnit {
                    input: input.to_string(),
                    unit: other.to_string(),
                });
            }
        };
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let overflow = || DurationError::Overflow(input.to_string());
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| overflow())?
        };
        let mut value = whole.checked_mul(unit_nanos).ok_or_else(overflow)?;
        // Fractions are scaled digit by digit so that `1.5h` stays exact.
        let mut scale = unit_nanos;
        for digit in frac.bytes() {
            scale /= 10;
            if scale == 0 {
                break;
            }
            value += u128::from(digit - b'0') * scale;
        }
        total_nanos = total_nanos.checked_add(value).ok_or_else(overflow)?;
        // Go's Duration is an int64 of nanoseconds.
        if total_nanos > i64::MAX as u128 {
            return Err(overflow());
        }
    }
    if negative && total_nanos > 0 {
        return Err(DurationError::Negative(input.to_string()));
    }
    let secs = (total_nanos / 1_000_000_000) as u64;
    let nanos = (total_nanos % 1_000_000_000) as u32;
    Ok(Duration::new(secs, nanos))
}

impl FromStr for GoDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s).map(GoDuration)
    }
}

/// Formats like Go's `Duration.String()`: `1h0m0s`, `1m30s`, `750ms`, `0s`.
impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        if nanos == 0 {
            return f.write_str("0s");
        }
        if nanos < 1_000_000_000 {
            let (unit, div) = if nanos < 1_000 {
                ("ns", 1u128)
            } else if nanos < 1_000_000 {
                ("µs", 1_000)
            } else {
                ("ms", 1_000_000)
            };
            return write!(f, "{}{unit}", trim_fraction(nanos, div));
        }
        let hours = nanos / 3_600_000_000_000;
        let minutes = (nanos / 60_000_000_000) % 60;
        let sec_nanos = nanos % 60_000_000_000;
        if hours > 0 {
            write!(f, "{hours}h{minutes}m")?;
        } else if minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        write!(f, "{}s", trim_fraction(sec_nanos, 1_000_000_000))
    }
}

/// `value / div` with the fractional part printed without trailing zeros.
fn trim_fraction(value: u128, div: u128) -> String {
    let whole = value / div;
    let frac = value % div;
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Duration {
        parse_duration(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_single_and_compound_units() {
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("1h2m3s4ms5us6ns"), Duration::new(3723, 4_005_006));
        assert_eq!(ok("2µs"), Duration::from_micros(2));
        assert_eq!(ok("+5m"), Duration::from_secs(300));
    }

    #[test]
    fn parses_fractions_exactly() {
        assert_eq!(ok("1.5h"), Duration::from_secs(5400));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("0.75s"), Duration::from_millis(750));
    }

    #[test]
    fn bare_zero_is_zero_like_go() {
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("-0"), Duration::ZERO);
    }

    #[test]
    fn number_without_unit_is_rejected_with_hint() {
        let err = parse_duration("30").unwrap_err();
        assert!(matches!(err, DurationError::MissingUnit { .. }));
        assert!(err.to_string().contains("missing unit"), "{err}");
    }

    #[test]
    fn unknown_unit_is_named_in_the_error() {
        let err = parse_duration("5d").unwrap_err();
        assert_eq!(
            err,
            DurationError::UnknownUnit {
                input: "5d".into(),
                unit: "d".into()
            }
        );
    }

    #[test]
    fn garbage_and_empty_are_rejected() {
        assert!(matches!(parse_duration(""), Err(DurationError::Empty(_))));
        assert!(matches!(
            parse_duration("s"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("1..2s"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("-"),
            Err(DurationError::Malformed(_))
        ));
    }

    #[test]
    fn negative_durations_are_rejected() {
        assert!(matches!(
            parse_duration("-5s"),
            Err(DurationError::Negative(_))
        ));
    }

    #[test]
    fn values_beyond_go_int64_overflow() {
        assert!(matches!(
            parse_duration("9999999999999h"),
            Err(DurationError::Overflow(_))
        ));
    }

    #[test]
    fn displays_like_go_duration_string() {
        let show = |s: &str| GoDuration(ok(s)).to_string();
        assert_eq!(show("0s"), "0s");
        assert_eq!(show("750ms"), "750ms");
        assert_eq!(show("1m"), "1m0s");
        assert_eq!(show("15m"), "15m0s");
        assert_eq!(show("1h"), "1h0m0s");
        assert_eq!(show("1m30.5s"), "1m30.5s");
        assert_eq!(show("1.5ms"), "1.5ms");
        assert_eq!(show("35s"), "35s");
    }
}
