//! The template language, checked against Go text/template's documented behaviour.

use flux_gotemplate::{MissingKey, Template, Value};

fn data() -> Value {
    Value::from(serde_json::json!({
        "name": "web",
        "replicas": 3,
        "tags": ["a", "b"],
        "m": {"z": 1, "a": 2},
        "empty": "",
        "nothing": null,
        "nested": {"inner": {"leaf": "x"}},
    }))
}

fn render(src: &str) -> String {
    render_with(src, &data())
}

fn render_with(src: &str, data: &Value) -> String {
    let mut t = Template::new("t");
    t.parse("t", src)
        .unwrap_or_else(|e| panic!("parse {src:?}: {e}"));
    t.execute("t", data)
        .unwrap_or_else(|e| panic!("exec {src:?}: {e}"))
}

fn exec_err(src: &str) -> String {
    let mut t = Template::new("t");
    t.parse("t", src)
        .unwrap_or_else(|e| panic!("parse {src:?}: {e}"));
    t.execute("t", &data())
        .expect_err("expected an execution error")
        .to_string()
}

fn parse_err(src: &str) -> String {
    let mut t = Template::new("t");
    t.parse("t", src)
        .expect_err("expected a parse error")
        .to_string()
}

#[test]
fn text_and_fields_render() {
    assert_eq!(render("hello {{.name}}!"), "hello web!");
    assert_eq!(render("{{.nested.inner.leaf}}"), "x");
    assert_eq!(render("{{.replicas}}"), "3");
}

#[test]
fn missing_key_prints_no_value_by_default() {
    assert_eq!(render("{{.missing}}"), "<no value>");
    assert_eq!(render("{{.missing.deeper}}"), "<no value>");
    assert_eq!(render("{{.nothing}}"), "<no value>");
}

#[test]
fn missingkey_zero_makes_fields_of_missing_keys_fail_like_helm() {
    let mut t = Template::new("t");
    t.option_missingkey(MissingKey::Zero);
    t.parse("t", "{{.missing.deeper}}").unwrap();
    let err = t.execute("t", &data()).unwrap_err().to_string();
    assert_eq!(
        err,
        "template: t:1:2: executing \"t\" at <.missing.deeper>: nil pointer evaluating interface {}.deeper"
    );
}

#[test]
fn calling_an_undefined_function_is_a_parse_error() {
    assert_eq!(
        parse_err("x\n{{ nope 1 }}"),
        "template: t:2: function \"nope\" not defined"
    );
}

#[test]
fn comparing_int_with_float_is_an_error() {
    assert_eq!(
        exec_err("{{ eq 1 1.0 }}"),
        "template: t:1:3: executing \"t\" at <eq 1 1.0>: error calling eq: incompatible types for comparison"
    );
}
