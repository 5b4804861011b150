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

#[test]
fn trim_markers_remove_adjacent_whitespace() {
    assert_eq!(render("a  \n {{- .name -}} \n  b"), "awebb");
    assert_eq!(render("{{ 23 -}} < {{- 45 }}"), "23<45");
    // A minus without a following space is a negative number, not a trim marker.
    assert_eq!(render("x {{-3}}"), "x -3");
}

#[test]
fn comments_produce_nothing_and_may_trim() {
    assert_eq!(render("a {{/* note */}} b"), "a  b");
    assert_eq!(render("a {{- /* note */ -}} b"), "ab");
}

#[test]
fn if_else_if_else_chooses_first_true_branch() {
    let src = "{{if .empty}}E{{else if .missing}}M{{else if .name}}N{{else}}X{{end}}";
    assert_eq!(render(src), "N");
    assert_eq!(render("{{if not .empty}}yes{{end}}"), "yes");
}

#[test]
fn with_rebinds_dot_and_else_with_is_supported() {
    assert_eq!(render("{{with .nested.inner}}{{.leaf}}{{end}}"), "x");
    assert_eq!(
        render("{{with .missing}}a{{else with .name}}{{.}}{{end}}"),
        "web"
    );
    assert_eq!(render("{{with .empty}}a{{else}}none{{end}}"), "none");
}

#[test]
fn range_over_lists_maps_and_integers() {
    assert_eq!(render("{{range .tags}}<{{.}}>{{end}}"), "<a><b>");
    assert_eq!(
        render("{{range $i, $t := .tags}}{{$i}}={{$t}};{{end}}"),
        "0=a;1=b;"
    );
    // Maps iterate in sorted key order.
    assert_eq!(render("{{range $k, $v := .m}}{{$k}}{{$v}}{{end}}"), "a2z1");
    assert_eq!(render("{{range 3}}{{.}}{{end}}"), "012");
    assert_eq!(render("{{range .missing}}x{{else}}empty{{end}}"), "empty");
}

#[test]
fn range_break_and_continue() {
    assert_eq!(
        render("{{range $i, $e := .tags}}{{if eq $i 1}}{{break}}{{end}}{{$e}}{{end}}"),
        "a"
    );
    assert_eq!(
        render("{{range .tags}}{{if eq . \"a\"}}{{continue}}{{end}}{{.}}{{end}}"),
        "b"
    );
}

#[test]
fn variables_are_scoped_to_their_block_and_assignable() {
    assert_eq!(render("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}"), "2");
    assert_eq!(
        parse_err("{{if true}}{{$y := 1}}{{end}}{{$y}}"),
        "template: t:1: undefined variable \"$y\""
    );
    assert_eq!(render("{{with .nested}}{{$.name}}{{end}}"), "web");
}

#[test]
fn define_template_and_block() {
    let src = r#"{{define "greet"}}hi {{.}}{{end}}{{template "greet" .name}}|{{block "b" .}}default{{end}}"#;
    assert_eq!(render(src), "hi web|default");
    let mut t = Template::new("t");
    t.parse("t", r#"{{block "b" .}}default{{end}}"#).unwrap();
    t.parse("override", r#"{{define "b"}}custom{{end}}"#)
        .unwrap();
    assert_eq!(t.execute("t", &data()).unwrap(), "custom");
    // An empty redefinition does not replace a non-empty one.
    t.parse("again", r#"{{define "b"}}  {{end}}"#).unwrap();
    assert_eq!(t.execute("t", &data()).unwrap(), "custom");
    assert!(t.lookup("b"));
    assert_eq!(t.defined_templates(), vec!["again", "b", "override", "t"]);
}

#[test]
fn and_or_return_deciding_operand_and_short_circuit() {
    assert_eq!(render("{{and 1 0 (index .tags 99)}}"), "0");
    assert_eq!(render("{{or .empty .name}}"), "web");
    assert_eq!(render("{{or 0 \"\"}}"), "");
    assert_eq!(render("{{and 1 2}}"), "2");
}

#[test]
fn literals_strings_chars_numbers() {
    assert_eq!(render(r#"{{"a\tb\u00e9\x41"}}"#), "a\tbéA");
    assert_eq!(render("{{`raw\\n`}}"), "raw\\n");
    assert_eq!(render("{{'a'}}"), "97");
    assert_eq!(
        render("{{0x1F}} {{0o17}} {{0b101}} {{017}} {{1_000}}"),
        "31 15 5 15 1000"
    );
    assert_eq!(render("{{1.5}} {{1e3}} {{-2}}"), "1.5 1000 -2");
    assert_eq!(render("{{true}} {{false}}"), "true false");
}

#[test]
fn pipelines_pass_value_as_last_argument() {
    assert_eq!(
        render("{{.name | printf \"%s-%d\" | printf \"[%s]\"}}"),
        "[web-%!d(MISSING)]"
    );
    assert_eq!(
        render("{{3 | printf \"%d-%s\" \"x\"}}"),
        "%!d(string=x)-%!s(int=3)"
    );
    assert_eq!(render("{{(len .tags) | printf \"%03d\"}}"), "002");
}

#[test]
fn parenthesised_pipelines_and_chained_fields() {
    assert_eq!(render("{{(.nested).inner.leaf}}"), "x");
    assert_eq!(render("{{(index .nested \"inner\").leaf}}"), "x");
}

#[test]
fn builtin_index_slice_len() {
    assert_eq!(render("{{index .tags 1}}"), "b");
    assert_eq!(render("{{index .m \"z\"}}"), "1");
    assert_eq!(render("{{index .m \"nope\"}}"), "<no value>");
    assert_eq!(render("{{slice .tags 1}}"), "[b]");
    assert_eq!(render("{{slice \"hello\" 1 3}}"), "el");
    assert_eq!(render("{{len .m}} {{len .name}}"), "2 3");
    assert_eq!(
        exec_err("{{index .tags 5}}"),
        "template: t:1:2: executing \"t\" at <index .tags 5>: error calling index: index out of range: 5"
    );
}

#[test]
fn comparisons() {
    assert_eq!(render("{{eq .name \"x\" \"web\"}}"), "true");
    assert_eq!(
        render("{{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}}"),
        "true true true true false"
    );
    assert_eq!(render("{{eq .missing \"x\"}}"), "false");
}

#[test]
fn print_functions_follow_fmt() {
    assert_eq!(render("{{print 1 2 \"a\" 3}}"), "1 2a3");
    assert_eq!(render("{{println 1 \"a\"}}"), "1 a\n");
    assert_eq!(render("{{print .tags .m nil}}"), "[a b] map[a:2 z:1] <nil>");
    assert_eq!(
        render("{{html \"<a href='x'>&\\\"\"}}"),
        "&lt;a href=&#39;x&#39;&gt;&amp;&#34;"
    );
    assert_eq!(render("{{js \"it's <b>\"}}"), "it\\'s \\u003Cb\\u003E");
    assert_eq!(render("{{urlquery \"a b&c=d/é\"}}"), "a+b%26c%3Dd%2F%C3%A9");
}

#[test]
fn map_and_list_values_print_like_go() {
    assert_eq!(render("{{.m}}"), "map[a:2 z:1]");
    assert_eq!(render("{{.tags}}"), "[a b]");
    let floats = Value::from_json_floats(serde_json::json!({"n": 1000000, "f": 1.5, "i": 3}));
    assert_eq!(render_with("{{.n}} {{.f}} {{.i}}", &floats), "1e+06 1.5 3");
}

#[test]
fn exec_errors_name_template_line_column_and_node() {
    assert_eq!(
        exec_err("line1\n  {{.nothing.x}}"),
        "template: t:2:4: executing \"t\" at <.nothing.x>: nil pointer evaluating interface {}.x"
    );
    assert_eq!(
        exec_err("{{.name.x}}"),
        "template: t:1:2: executing \"t\" at <.name.x>: can't evaluate field x in type interface {}"
    );
    assert_eq!(
        exec_err("{{template \"nope\"}}"),
        "template: t:1:11: executing \"t\" at <{{template \"nope\"}}>: template \"nope\" not defined"
    );
    assert_eq!(
        exec_err("{{nil}}").to_string(),
        "template: t:1:2: executing \"t\" at <nil>: nil is not a command"
    );
}

#[test]
fn missingkey_error_reports_the_key() {
    let mut t = Template::new("t");
    t.option_missingkey(MissingKey::Error);
    t.parse("t", "{{.missing}}").unwrap();
    assert_eq!(
        t.execute("t", &data()).unwrap_err().to_string(),
        "template: t:1:2: executing \"t\" at <.missing>: map has no entry for key \"missing\""
    );
}

#[test]
fn parse_errors_like_go() {
    assert_eq!(parse_err("{{if .x}}a"), "template: t:1: unexpected EOF");
    assert_eq!(parse_err("{{end}}"), "template: t:1: unexpected {{end}}");
    assert_eq!(parse_err("a\nb{{.x"), "template: t:2: unclosed action");
    assert_eq!(
        parse_err("{{break}}"),
        "template: t:1: {{break}} outside {{range}}"
    );
    assert_eq!(
        parse_err("{{if}}{{end}}"),
        "template: t:1: missing value for if"
    );
    assert_eq!(
        parse_err("{{\"abc}}"),
        "template: t:1: unterminated quoted string"
    );
}

#[test]
fn recursive_templates_stop_at_the_depth_limit() {
    let mut t = Template::new("t");
    t.max_depth(50);
    t.parse(
        "t",
        r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}"#,
    )
    .unwrap();
    let err = t.execute("t", &data()).unwrap_err().to_string();
    assert!(
        err.contains("exceeded maximum template depth (50)"),
        "{err}"
    );
}

#[test]
fn deep_recursion_at_default_limit_does_not_overflow_the_stack() {
    let mut t = Template::new("t");
    t.parse(
        "t",
        r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}"#,
    )
    .unwrap();
    let err = t.execute("t", &data()).unwrap_err().to_string();
    assert!(err.contains("exceeded maximum template depth"), "{err}");
}

#[test]
fn lexer_errors_name_the_bad_character() {
    assert_eq!(
        parse_err("{{ .Values.foo-bar }}"),
        "template: t:1: bad character U+002D '-'"
    );
    assert_eq!(parse_err(r#"{{ "\z" }}"#), "template: t:1: invalid syntax");
    assert_eq!(parse_err("{{ (1 }}"), "template: t:1: unclosed left paren");
}

/// A host object like Helm's `.Files`: a method with arguments and a field.
#[derive(Debug)]
struct Files;

impl flux_gotemplate::Object for Files {
    fn type_name(&self) -> &str {
        "chart.Files"
    }
    fn field(&self, name: &str) -> Option<Result<Value, flux_gotemplate::FuncError>> {
        (name == "Count").then(|| Ok(Value::Int(2)))
    }
    fn call_method(
        &self,
        name: &str,
        args: &[Value],
    ) -> Option<Result<Value, flux_gotemplate::FuncError>> {
        match (name, args) {
            ("Get", [Value::String(p)]) => Some(Ok(Value::from(format!("content of {p}")))),
            _ => None,
        }
    }
    fn data(&self) -> Value {
        Value::list(vec![Value::from("a.txt"), Value::from("b.txt")])
    }
}

#[test]
fn host_objects_expose_methods_fields_and_data() {
    let data = Value::map_from([("Files", Value::Object(std::sync::Arc::new(Files)))]);
    assert_eq!(
        render_with(r#"{{ .Files.Get "a.txt" }}"#, &data),
        "content of a.txt"
    );
    assert_eq!(
        render_with(r#"{{ "b.txt" | .Files.Get }}"#, &data),
        "content of b.txt"
    );
    assert_eq!(
        render_with("{{ .Files.Count }} {{ len .Files }} {{ .Files }}", &data),
        "2 2 [a.txt b.txt]"
    );
    assert_eq!(
        render_with("{{ range .Files }}<{{ . }}>{{ end }}", &data),
        "<a.txt><b.txt>"
    );
    let mut t = Template::new("t");
    t.parse("t", "{{ .Files.Nope }}").unwrap();
    assert_eq!(
        t.execute("t", &data).unwrap_err().to_string(),
        "template: t:1:3: executing \"t\" at <.Files.Nope>: can't evaluate field Nope in type chart.Files"
    );
}

#[test]
fn functions_can_execute_templates_through_the_context() {
    use flux_gotemplate::{FuncError, context_func};
    let mut t = Template::new("t");
    t.func(
        "include",
        context_func(|ctx, args| {
            let name = args[0]
                .as_str()
                .ok_or_else(|| FuncError::failed("name"))?
                .to_string();
            Ok(Value::String(ctx.execute_template(&name, &args[1])?))
        }),
    );
    t.func(
        "tpl",
        context_func(|ctx, args| {
            let text = args[0]
                .as_str()
                .ok_or_else(|| FuncError::failed("text"))?
                .to_string();
            let name = ctx.root_name().to_string();
            Ok(Value::String(ctx.execute_text(&name, &text, &args[1])?))
        }),
    );
    t.parse(
        "t",
        r#"{{ define "h" }}[{{ . }}]{{ end }}{{ include "h" .name | printf "%s!" }} {{ tpl "{{ include \"h\" .name }}{{ define \"local\" }}L{{ end }}{{ template \"local\" }}" . }}"#,
    )
    .unwrap();
    assert_eq!(t.execute("t", &data()).unwrap(), "[web]! [web]L");
    // Defines made inside tpl text stay local to that call.
    assert!(!t.lookup("local"));
    // Errors inside tpl text are located in the text named after the set, as Helm's `gotpl`.
    let mut failing = t.clone();
    failing
        .parse("f", r#"{{ tpl "{{ .nothing.x }}" . }}"#)
        .unwrap();
    assert_eq!(
        failing.execute("f", &data()).unwrap_err().to_string(),
        "template: f:1:3: executing \"f\" at <tpl \"{{ .nothing.x }}\" .>: error calling tpl: template: t:1:3: executing \"t\" at <.nothing.x>: nil pointer evaluating interface {}.x"
    );
    let mut bad = t.clone();
    bad.parse("b", r#"{{ include "nope" . }}"#).unwrap();
    assert_eq!(
        bad.execute("b", &data()).unwrap_err().to_string(),
        "template: b:1:3: executing \"b\" at <include \"nope\" .>: error calling include: template: t: no template \"nope\" associated with template \"t\""
    );
}

#[test]
fn nested_template_errors_locate_the_innermost_node() {
    // Go's TestExecError.
    let src = "line 1\nline 2\nline 3\n{{template \"one\" .}}\n{{define \"one\"}}{{template \"two\" .}}{{end}}\n{{define \"two\"}}{{template \"three\" .}}{{end}}\n{{define \"three\"}}{{index \"hi\" $}}{{end}}";
    let mut t = Template::new("top");
    t.parse("top", src).unwrap();
    assert_eq!(
        t.execute("top", &Value::Int(5)).unwrap_err().to_string(),
        "template: top:7:20: executing \"three\" at <index \"hi\" $>: error calling index: index out of range: 5"
    );
}

#[test]
fn unterminated_raw_string_reports_its_opening_line() {
    assert_eq!(
        parse_err("hello\n\n{{`unterminated\n\n\n\n}}\n some more\n\n"),
        "template: t:3: unterminated raw quoted string"
    );
}

#[test]
fn escapers_print_missing_values_as_no_value() {
    assert_eq!(render("{{html .missing}}"), "&lt;no value&gt;");
    assert_eq!(render("{{print .missing}}"), "<nil>");
    assert_eq!(
        render("{{\"http://www.example.org/\"|urlquery}}"),
        "http%3A%2F%2Fwww.example.org%2F"
    );
    assert_eq!(
        render("{{js \"Go \\\"jump\\\" \\\\\"}}"),
        "Go \\\"jump\\\" \\\\"
    );
}

#[test]
fn go_exec_test_cases_for_literals_and_booleans() {
    let cases = [
        (
            "{{print 12_34}} {{print 0b_1_0_1}} {{print 0377}} {{print 0X123ABC}}",
            "1234 5 255 1194684",
        ),
        (
            "{{print 0_0_1_2_3.4}} {{print +0x1.ep+2}} {{print 1234 0x0_1.e_0p+02}}",
            "123.4 7.5 1234 7.5",
        ),
        (
            "{{printf `%T` 0xef}} {{printf \"%04x\" 127}} {{printf \"%g\" 3.5}}",
            "int 007f 3.5",
        ),
        (
            "{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}",
            "false 0 0 1",
        ),
        (
            "{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}",
            "0 1 true 1",
        ),
        (
            "{{1 | and 1}} {{0 | and 1}} {{1 | or 0}} {{0 | or 0}}",
            "1 0 1 0",
        ),
        (
            "{{and 1 .Unknown}} {{or 0 .Unknown}}",
            "<no value> <no value>",
        ),
        ("{{if true | not | and 1}}TRUE{{else}}FALSE{{end}}", "FALSE"),
        (
            "{{eq 3 4 5 6 3}} {{eq (index `x` 0) 'x'}} {{\"aaa\"|printf }}",
            "true true aaa",
        ),
        (
            "{{$x := 1}}{{if true}}{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{end}}{{$x}}",
            "1",
        ),
        (
            "{{$i := 0}}{{$x := 0}}{{range $i = .tags}}{{end}}{{$i}}",
            "b",
        ),
        (
            "{{$k := 0}}{{$v := 0}}{{range $k, $v = .tags}}{{$k}}={{$v}} {{end}}",
            "0=a 1=b ",
        ),
        (
            "{{range $v := 5}}{{printf \"%T%d\" $v $v}}{{end}}",
            "int0int1int2int3int4",
        ),
        (
            "{{with 0}}{{.}}{{else with false}}{{.}}{{else with `notempty`}}{{.}}{{end}}",
            "notempty",
        ),
        (
            "{{range .tags}}-{{.}}-{{break}}NOTREACHED{{else}}EMPTY{{end}}",
            "-a-",
        ),
        (
            "{{ (.)  }}",
            "map[empty: m:map[a:2 z:1] name:web nested:map[inner:map[leaf:x]] nothing:<nil> replicas:3 tags:[a b]]",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(render(src), want, "{src}");
    }
    for bad in [
        "{{1 2}}",
        "{{(1) 2}}",
        "{{$x := 1}}{{3 | $x}}",
        "{{true|printf}}",
        "{{index .m nil}}",
        "{{slice \"xyz\" 1 2 2}}",
        "{{len 3}}",
        "{{lt true true}}",
        "{{eq 2 2.0}}",
        "{{eq `xy` 1}}",
        "{{call}}",
    ] {
        let mut t = Template::new("t");
        t.parse("t", bad).unwrap();
        assert!(t.execute("t", &data()).is_err(), "{bad} should fail");
    }
}

#[test]
fn go_parse_error_tests_report_the_same_problems() {
    // Go's text/template/parse TestErrors: (name, input, substring of the error).
    let cases = [
        ("unclosed1", "line1\n{{", "unclosed1:2: unclosed action"),
        (
            "unclosed2",
            "line1\n{{define `x`}}line2\n{{",
            "unclosed2:3: unclosed action",
        ),
        (
            "unclosed3",
            "line1\n{{\"x\"\n\"y\"\n",
            "unclosed3:4: unclosed action started at unclosed3:2",
        ),
        (
            "unclosed4",
            "{{\n\n\n\n\n",
            "unclosed4:6: unclosed action started at unclosed4:1",
        ),
        (
            "var1",
            "line1\n{{\nx\n}}",
            "var1:3: function \"x\" not defined",
        ),
        ("function", "{{foo}}", "function \"foo\" not defined"),
        ("comment1", "{{/*}}", "comment1:1: unclosed comment"),
        (
            "comment2",
            "{{/*\nhello\n}}",
            "comment2:1: unclosed comment",
        ),
        ("lparen", "{{.X (1 2 3}}", "unclosed left paren"),
        ("rparen", "{{.X 1 2 3 ) }}", "unexpected right paren"),
        ("rparen2", "{{(.X 1 2 3", "unclosed action"),
        ("space", "{{`x`3}}", "in operand"),
        ("idchar", "{{a#}}", "'#'"),
        ("charconst", "{{'a}}", "unterminated character constant"),
        ("stringconst", "{{\"a}}", "unterminated quoted string"),
        ("rawstringconst", "{{`a}}", "unterminated raw quoted string"),
        ("number", "{{0xi}}", "number syntax"),
        (
            "multidefine",
            "{{define `a`}}a{{end}}{{define `a`}}b{{end}}",
            "multiple definition of template",
        ),
        ("eof", "{{range .X}}", "unexpected EOF"),
        (
            "variable",
            "{{$x := 23}}{{with $x.y := 3}}{{$x 23}}{{end}}",
            "unexpected \":=\"",
        ),
        ("multidecl", "{{$a,$b,$c := 23}}", "too many declarations"),
        ("undefvar", "{{$a}}", "undefined variable"),
        ("wrongdot", "{{true.any}}", "unexpected . after term"),
        (
            "wrongpipeline",
            "{{12|false}}",
            "non executable command in pipeline",
        ),
        (
            "emptypipeline",
            "{{ ( ) }}",
            "missing value for parenthesized pipeline",
        ),
        (
            "multilinerawstring",
            "{{ $v := `\n` }} {{",
            "multilinerawstring:2: unclosed action",
        ),
        ("rangeundefvar", "{{range $k}}{{end}}", "undefined variable"),
        (
            "rangeundefvars",
            "{{range $k, $v}}{{end}}",
            "undefined variable",
        ),
        (
            "rangemissingvalue1",
            "{{range $k,}}{{end}}",
            "missing value for range",
        ),
        (
            "rangemissingvalue2",
            "{{range $k, $v := }}{{end}}",
            "missing value for range",
        ),
        (
            "rangenotvariable1",
            "{{range $k, .}}{{end}}",
            "range can only initialize variables",
        ),
        (
            "rangenotvariable2",
            "{{range $k, 123 := .}}{{end}}",
            "range can only initialize variables",
        ),
    ];
    for (name, src, want) in cases {
        let mut t = Template::new(name);
        let err = t.parse(name, src).expect_err(name).to_string();
        assert!(err.contains(want), "{name}: {err:?} lacks {want:?}");
    }
    // Go's TestParse inputs that must fail to parse.
    for src in [
        "hello{{range",
        "{{else}}",
        "{{if .X}}hello{{end}}{{else}}",
        "{{if .X}}1{{else}}2{{else}}3{{end}}",
        "hello{{range .x}}{{else}}",
        "{{with $x := 4}}{{end}}{{$x}}",
        "{{template $v}}",
        "{{template .X}}",
        "{{printf 3, 4}}",
        "{{with $v, $u := 3}}{{end}}",
        "{{range $u, $v, $w := 3}}{{end}}",
        "{{printf (printf .).}}",
        "{{printf 3`x`}}",
        "{{printf `x`.}}",
        "{{if .X}}a{{else if .Y}}b{{end}}{{end}}",
        "{{range .}}{{end}} {{break}}",
        "{{range .}}{{else}}{{break}}{{end}}",
        "{{range .}}{{else}}{{continue}}{{end}}",
        "{{$x += 1}}{{$x}}",
        "{{$x ! 2}}{{$x}}",
        "{{$x % 3}}{{$x}}",
        "{{range $x := $y := 3}}{{end}}",
        "{{$x:=.}}{{$x!2}}",
        "{{$x:=.}}{{$x+2}}",
        "{{1.E}}",
        "{{0.1.E}}",
        "{{'a'.any}}",
        "{{\"hello\".guys}}",
        "{{..E}}",
        "{{nil.E}}",
        "{{12|.}}",
        "{{.|12|printf}}",
        "{{.|printf|\"error\"}}",
        "{{12|printf|'e'}}",
        "{{.|true}}",
        "{{'c'|nil}}",
        "{{printf \"%d\" ( ) }}",
        "{{block \"foo\"}}hello{{end}}",
    ] {
        assert!(
            Template::new("t").parse("t", src).is_err(),
            "{src} should not parse"
        );
    }
    for src in [
        "{{$x:=.}}{{$x +2}}",
        "{{range $x := 0}}{{$x}}{{end}}",
        "{{range $x = 0}}{{$x}}{{end}}",
        "{{range .SI}}{{.}}{{ break }}{{end}}",
    ] {
        assert!(
            Template::new("t").parse("t", src).is_ok(),
            "{src} should parse"
        );
    }
}

#[test]
fn huge_integer_ranges_are_refused_instead_of_spinning() {
    let mut t = Template::new("t");
    t.parse("t", "{{range 100000000000}}x{{end}}").unwrap();
    let err = t.execute("t", &data()).unwrap_err().to_string();
    assert!(
        err.contains("exceeds the limit of 10000000 iterations"),
        "{err}"
    );
}

#[test]
fn templates_and_values_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
    assert_send_sync::<Value>();
    let mut t = Template::new("t");
    t.parse("t", "{{.name}}").unwrap();
    let t = std::sync::Arc::new(t);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let t = t.clone();
            std::thread::spawn(move || t.execute("t", &data()).unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), "web");
    }
}

#[test]
fn value_accessors_and_json_round_trip() {
    let v = Value::from_json_floats(
        serde_json::json!({"image": {"tag": "1.0", "port": 80}, "on": true}),
    );
    assert_eq!(
        v.get_path("image.tag")
            .and_then(|t| t.as_str().map(String::from)),
        Some("1.0".to_string())
    );
    assert_eq!(v.get_path("image.port").and_then(|p| p.as_i64()), Some(80));
    assert_eq!(v.get_path("on").and_then(|b| b.as_bool()), Some(true));
    assert!(v.get_path("image.missing").is_none());
    // Whole float64s go back to JSON as integers, like Go's encoder writes them.
    assert_eq!(
        v.to_json(),
        serde_json::json!({"image": {"tag": "1.0", "port": 80}, "on": true})
    );
    assert_eq!(Value::from(serde_json::json!(3)), Value::Int(3));
    assert_eq!(Value::from(serde_json::json!(3.5)), Value::Float(3.5));
}

#[test]
fn a_function_named_break_takes_precedence_over_the_keyword() {
    let mut t = Template::new("t");
    t.func(
        "break",
        flux_gotemplate::func(|a| Ok(a.first().cloned().unwrap_or_default())),
    );
    t.parse("t", "{{range .tags}}{{break 20}}{{end}}").unwrap();
    assert_eq!(t.execute("t", &data()).unwrap(), "2020");
    assert!(
        Template::new("u")
            .parse("u", "{{range .tags}}{{break 20}}{{end}}")
            .is_err()
    );
}
