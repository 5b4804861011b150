//! Go's fmt verbs as printf in templates uses them (expected strings are Go's documented output).

use flux_gotemplate::Value;
use flux_gotemplate::gofmt::{sprint, sprintf};

fn f(fmt: &str, args: &[Value]) -> String {
    sprintf(fmt, args)
}

fn i(n: i64) -> Value {
    Value::Int(n)
}
fn fl(x: f64) -> Value {
    Value::Float(x)
}
fn s(x: &str) -> Value {
    Value::from(x)
}

#[test]
fn integers_with_bases_flags_width_and_precision() {
    assert_eq!(
        f(
            "%d|%5d|%-5d|%05d|%+d|% d",
            &[i(42), i(42), i(42), i(-42), i(42), i(42)]
        ),
        "42|   42|42   |-0042|+42| 42"
    );
    assert_eq!(
        f(
            "%x|%X|%#x|%o|%#o|%O|%b|%#b",
            &[i(255), i(255), i(255), i(8), i(8), i(8), i(5), i(5)]
        ),
        "ff|FF|0xff|10|010|0o10|101|0b101"
    );
    assert_eq!(
        f(
            "%.3d|%8.3d|%c|%q|%U|%#U",
            &[i(7), i(-7), i(65), i(65), i(0x1F600), i(65)]
        ),
        "007|    -007|A|'A'|U+1F600|U+0041 'A'"
    );
    assert_eq!(f("%x", &[i(-255)]), "-ff");
}

#[test]
fn floats_like_strconv() {
    assert_eq!(
        f(
            "%v|%v|%v|%v|%v",
            &[fl(1.0), fl(1e6), fl(123456.0), fl(1e-5), fl(0.0001)]
        ),
        "1|1e+06|123456|1e-05|0.0001"
    );
    assert_eq!(
        f(
            "%f|%.2f|%8.3f|%-8.1f|%08.3f",
            &[
                fl(1.23456),
                fl(1.23456),
                fl(1.23456),
                fl(2.25),
                fl(-1.23456)
            ]
        ),
        "1.234560|1.23|   1.235|2.2     |-001.235"
    );
    assert_eq!(
        f(
            "%e|%E|%.2e|%g|%G|%.3g|%g",
            &[
                fl(1234.5678),
                fl(1234.5678),
                fl(0.000123),
                fl(100000000.0),
                fl(1e-7),
                fl(1234.5678),
                fl(0.5)
            ]
        ),
        "1.234568e+03|1.234568E+03|1.23e-04|1e+08|1E-07|1.23e+03|0.5"
    );
    assert_eq!(
        f(
            "%v|%v|%v|%+.1f",
            &[
                fl(f64::INFINITY),
                fl(f64::NEG_INFINITY),
                fl(f64::NAN),
                fl(2.0)
            ]
        ),
        "+Inf|-Inf|NaN|+2.0"
    );
    assert_eq!(f("%v|%v", &[fl(1.5e300), fl(-0.1)]), "1.5e+300|-0.1");
}

#[test]
fn strings_quoting_hex_and_truncation() {
    assert_eq!(
        f(
            "%s|%10s|%-10s|%.2s|%q|%x|%X|% x",
            &[
                s("go"),
                s("go"),
                s("go"),
                s("golang"),
                s("a\"b\n"),
                s("hi"),
                s("hi"),
                s("hi")
            ]
        ),
        "go|        go|go        |go|\"a\\\"b\\n\"|6869|6869|68 69"
    );
    assert_eq!(
        f("%#q|%q", &[s("back`tick"), s("é\u{1}")]),
        "\"back`tick\"|\"é\\x01\""
    );
    assert_eq!(f("%5.1s|", &[s("héllo")]), "    h|");
}

#[test]
fn bools_nil_and_composites() {
    assert_eq!(
        f(
            "%t|%v|%v|%s",
            &[
                Value::Bool(true),
                Value::Nil,
                Value::list(vec![s("a"), i(1)]),
                Value::list(vec![s("a"), s("b")])
            ]
        ),
        "true|<nil>|[a 1]|[a b]"
    );
    let m = Value::map_from([("b", i(2)), ("a", Value::list(vec![]))]);
    assert_eq!(
        f("%v|%d", &[m.clone(), Value::list(vec![i(1), i(2)])]),
        "map[a:[] b:2]|[1 2]"
    );
    assert_eq!(f("%03d", &[Value::list(vec![i(1), i(22)])]), "[001 022]");
    assert_eq!(
        f("%T %T %T %T %T", &[i(1), fl(1.0), s(""), Value::Nil, m]),
        "int float64 string <nil> map[string]interface {}"
    );
}

#[test]
fn bad_verbs_missing_and_extra_arguments() {
    assert_eq!(f("%d", &[s("foo")]), "%!d(string=foo)");
    assert_eq!(f("%d", &[fl(80.0)]), "%!d(float64=80)");
    assert_eq!(f("%s", &[i(3)]), "%!s(int=3)");
    assert_eq!(f("%s", &[Value::Nil]), "%!s(<nil>)");
    assert_eq!(f("%z", &[i(1)]), "%!z(int=1)");
    assert_eq!(f("%d %d", &[i(1)]), "1 %!d(MISSING)");
    assert_eq!(
        f("%d", &[i(1), s("x"), Value::Nil]),
        "1%!(EXTRA string=x, <nil>)"
    );
    assert_eq!(f("100%%", &[]), "100%");
    assert_eq!(f("%", &[]), "%!(NOVERB)");
    assert_eq!(f("%t", &[i(1)]), "%!t(int=1)");
}

#[test]
fn star_width_and_explicit_argument_indexes() {
    assert_eq!(
        f(
            "%*d|%-*d|%.*f",
            &[i(5), i(42), i(4), i(7), i(2), fl(1.23456)]
        ),
        "   42|7   |1.23"
    );
    assert_eq!(f("%[2]d %[1]d", &[i(1), i(2)]), "2 1");
    assert_eq!(f("%[3]d", &[i(1)]), "%!d(BADINDEX)");
}

#[test]
fn sprint_spaces_only_between_non_strings() {
    assert_eq!(sprint(&[i(1), i(2), s("a"), s("b"), i(3)]), "1 2ab3");
    assert_eq!(sprint(&[fl(3.0), Value::Bool(false)]), "3 false");
}

#[test]
fn very_large_precisions_pad_with_zeros() {
    let s = f("%.70000f", &[fl(0.5)]);
    assert_eq!(s.len(), 70002);
    assert!(s.starts_with("0.5000") && s.ends_with("000"));
    let e = f("%.2000e", &[fl(1.0)]);
    assert!(
        e.starts_with("1.000") && e.ends_with("e+00"),
        "{}",
        &e[e.len() - 8..]
    );
}

#[test]
fn go_syntax_and_ascii_quoting() {
    let l = Value::list(vec![i(1), s("a"), Value::Nil, fl(1.5)]);
    let m = Value::map_from([("k", Value::list(vec![]))]);
    assert_eq!(
        f("%#v|%#v|%#v|%#v", &[l, m, s("x"), Value::Nil]),
        r#"[]interface {}{1, "a", interface {}(nil), 1.5}|map[string]interface {}{"k":[]interface {}{}}|"x"|<nil>"#
    );
    assert_eq!(
        f("%+q|%q", &[s("héllo☺"), s("héllo")]),
        r#""h\u00e9llo\u263a"|"héllo""#
    );
}
