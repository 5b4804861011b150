//! Sprig math: integer functions convert with `cast.ToInt64` and return int64; the `f` variants
//! work in decimal like Sprig's shopspring/decimal (so `addf 0.1 0.2` is 0.3).

use super::args::{arity, arity_at_least, int, reg, to_f64, to_i64};
use crate::func::{FuncError, FuncMap};
use crate::value::Value;

pub(crate) fn register(m: &mut FuncMap) {
    reg(m, "add1", |a| {
        arity(a, 1)?;
        Ok(Value::Int(to_i64(&a[0]).wrapping_add(1)))
    });
    reg(m, "add", |a| {
        Ok(Value::Int(
            a.iter().map(to_i64).fold(0i64, i64::wrapping_add),
        ))
    });
    reg(m, "sub", |a| {
        arity(a, 2)?;
        Ok(Value::Int(to_i64(&a[0]).wrapping_sub(to_i64(&a[1]))))
    });
    reg(m, "mul", |a| {
        arity_at_least(a, 1)?;
        Ok(Value::Int(
            a.iter().map(to_i64).fold(1i64, i64::wrapping_mul),
        ))
    });
    reg(m, "div", |a| {
        arity(a, 2)?;
        let d = to_i64(&a[1]);
        if d == 0 {
            return Err(FuncError::failed("runtime error: integer divide by zero"));
        }
        Ok(Value::Int(to_i64(&a[0]).wrapping_div(d)))
    });
    reg(m, "mod", |a| {
        arity(a, 2)?;
        let d = to_i64(&a[1]);
        if d == 0 {
            return Err(FuncError::failed("runtime error: integer divide by zero"));
        }
        Ok(Value::Int(to_i64(&a[0]).wrapping_rem(d)))
    });
    reg(m, "max", |a| {
        arity_at_least(a, 1)?;
        Ok(Value::Int(a.iter().map(to_i64).max().unwrap_or(0)))
    });
    reg(m, "biggest", |a| {
        arity_at_least(a, 1)?;
        Ok(Value::Int(a.iter().map(to_i64).max().unwrap_or(0)))
    });
    reg(m, "min", |a| {
        arity_at_least(a, 1)?;
        Ok(Value::Int(a.iter().map(to_i64).min().unwrap_or(0)))
    });
    reg(m, "maxf", |a| {
        arity_at_least(a, 1)?;
        Ok(Value::Float(
            a.iter().map(to_f64).fold(f64::NEG_INFINITY, f64::max),
        ))
    });
    reg(m, "minf", |a| {
        arity_at_least(a, 1)?;
        Ok(Value::Float(
            a.iter().map(to_f64).fold(f64::INFINITY, f64::min),
        ))
    });
    reg(m, "randInt", |a| {
        arity(a, 2)?;
        let (lo, hi) = (int(a, 0)?, int(a, 1)?);
        if hi <= lo {
            return Err(FuncError::failed("invalid argument to Intn"));
        }
        Ok(Value::Int(fastrand::i64(lo..hi)))
    });
    reg(m, "add1f", |a| {
        arity(a, 1)?;
        Ok(Value::Float(dec_op(to_f64(&a[0]), 1.0, Op::Add)))
    });
    reg(m, "addf", |a| Ok(Value::Float(fold(0.0, a, Op::Add))));
    reg(m, "subf", |a| {
        arity_at_least(a, 1)?;
        Ok(Value::Float(fold(to_f64(&a[0]), &a[1..], Op::Sub)))
    });
    reg(m, "mulf", |a| {
        arity_at_least(a, 1)?;
        Ok(Value::Float(fold(to_f64(&a[0]), &a[1..], Op::Mul)))
    });
    reg(m, "divf", |a| {
        arity_at_least(a, 1)?;
        let mut acc = to_f64(&a[0]);
        for v in &a[1..] {
            let d = to_f64(v);
            if d == 0.0 {
                return Err(FuncError::failed("decimal division by 0"));
            }
            acc = round_places(acc / d, 16);
        }
        Ok(Value::Float(acc))
    });
    reg(m, "ceil", |a| {
        arity(a, 1)?;
        Ok(Value::Float(to_f64(&a[0]).ceil()))
    });
    reg(m, "floor", |a| {
        arity(a, 1)?;
        Ok(Value::Float(to_f64(&a[0]).floor()))
    });
    reg(m, "round", |a| {
        arity_at_least(a, 2)?;
        let round_on = a.get(2).map_or(0.5, to_f64);
        let val = to_f64(&a[0]);
        let pow = 10f64.powi(i32::try_from(int(a, 1)?).unwrap_or(0));
        let digit = pow * val;
        let frac = digit.fract();
        let r = if frac >= round_on {
            digit.ceil()
        } else {
            digit.floor()
        };
        Ok(Value::Float(r / pow))
    });
    reg(m, "int64", |a| {
        arity(a, 1)?;
        Ok(Value::Int(to_i64(&a[0])))
    });
    reg(m, "int", |a| {
        arity(a, 1)?;
        Ok(Value::Int(to_i64(&a[0])))
    });
    reg(m, "float64", |a| {
        arity(a, 1)?;
        Ok(Value::Float(to_f64(&a[0])))
    });
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
}

fn fold(start: f64, rest: &[Value], op: Op) -> f64 {
    rest.iter().fold(start, |acc, v| dec_op(acc, to_f64(v), op))
}

/// A float as an exact decimal `mantissa * 10^-scale`, from its shortest representation.
fn to_decimal(f: f64) -> Option<(i128, u32)> {
    if !f.is_finite() {
        return None;
    }
    let s = format!("{f}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    if frac.len() > 30 || int.trim_start_matches('-').len() > 30 {
        return None;
    }
    let scale = u32::try_from(frac.len()).ok()?;
    let digits = format!("{int}{frac}");
    Some((digits.parse::<i128>().ok()?, scale))
}

/// Decimal arithmetic on the shortest decimal forms, falling back to f64 when out of range.
fn dec_op(x: f64, y: f64, op: Op) -> f64 {
    let fallback = match op {
        Op::Add => x + y,
        Op::Sub => x - y,
        Op::Mul => x * y,
    };
    let (Some((mx, sx)), Some((my, sy))) = (to_decimal(x), to_decimal(y)) else {
        return fallback;
    };
    let r = match op {
        Op::Add | Op::Sub => {
            let scale = sx.max(sy);
            let ax = 10i128
                .checked_pow(scale - sx)
                .and_then(|p| mx.checked_mul(p));
            let ay = 10i128
                .checked_pow(scale - sy)
                .and_then(|p| my.checked_mul(p));
            let (Some(ax), Some(ay)) = (ax, ay) else {
                return fallback;
            };
            let m = if matches!(op, Op::Add) {
                ax.checked_add(ay)
            } else {
                ax.checked_sub(ay)
            };
            m.map(|m| (m, scale))
        }
        Op::Mul => mx.checked_mul(my).map(|m| (m, sx + sy)),
    };
    match r {
        Some((m, scale)) => format!("{}e-{}", m, scale).parse().unwrap_or(fallback),
        None => fallback,
    }
}

fn round_places(f: f64, places: usize) -> f64 {
    format!("{f:.places$}").parse().unwrap_or(f)
}
