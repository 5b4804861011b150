//! Garbage and mutated template text never panics: parsing and executing either succeed or
//! return an error (a small deterministic fuzz loop with a fixed seed).

use flux_gotemplate::{FuncMap, Template, Value, sprig};

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{- ",
    " -}}",
    "{{/*",
    "*/}}",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    " ",
    ".",
    ".a",
    ".a.b",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    "(",
    ")",
    "\"s\"",
    "`raw`",
    "'c'",
    "1",
    "-2",
    "0x1F",
    "1.5e3",
    "nil",
    "true",
    ",",
    "printf",
    "\"%d %s %v %x %q %5.2f %-3s %!\"",
    "index",
    "slice",
    "len",
    "and",
    "or",
    "not",
    "eq",
    "lt",
    "default",
    "list",
    "dict",
    "toJson",
    "include",
    "tpl",
    "upper",
    "\n",
    "\\",
    "\"",
    "'",
    "`",
    "é",
    "\u{0}",
    "$y",
    "$i, $e :=",
    "print",
    "call",
    "html",
    "js",
    "urlquery",
    "repeat",
    "9999",
    "until",
    "seq",
    "regexMatch",
    "\"(\"",
    "semverCompare",
    "merge",
    "set",
    "$.a",
    "(.a)",
    ".b.c",
];

/// xorshift64*, seeded: reproducible without a crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn data() -> Value {
    Value::from_json_floats(serde_json::json!({"a": {"b": {"c": 1}}, "b": [1, 2], "s": "x"}))
}

fn try_template(src: &str, data: &Value, funcs: &FuncMap) {
    let mut t = Template::new("f");
    t.funcs(funcs.clone());
    t.max_depth(64);
    if t.parse("f", src).is_ok() {
        let _ = t.execute("f", data);
        for name in t.defined_templates() {
            let _ = t.execute(&name, data);
        }
    }
}

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let data = data();
    let funcs = sprig::funcs();
    for _ in 0..20_000 {
        let n = 1 + rng.below(24);
        let mut src = String::new();
        for _ in 0..n {
            src.push_str(PIECES[rng.below(PIECES.len())]);
        }
        try_template(&src, &data, &funcs);
    }
}

#[test]
fn byte_level_mutations_of_valid_templates_never_panic() {
    let seeds = [
        r#"{{- range $i, $e := .b }}{{ printf "%03d-%v" $i $e | quote }}{{ end -}}"#,
        r#"{{ define "x" }}{{ .a.b.c | default 3 | toJson }}{{ end }}{{ template "x" . }}"#,
        r#"{{ with .a }}{{ if and .b (not .z) }}{{ .b.c }}{{ else if .q }}q{{ else }}n{{ end }}{{ end }}"#,
        r#"{{ $d := dict "k" (list 1 2.5 "s") }}{{ $_ := set $d "x" (index .b 0) }}{{ $d | toPrettyJson }}"#,
        r#"{{/* c */}}{{ block "b" . }}{{ slice "hello" 1 3 }}{{ len .b }}{{ end }}"#,
    ];
    let mut rng = Rng(42);
    let data = data();
    let funcs = sprig::funcs();
    let charset: Vec<char> = "{}()-|$.\"'`: \n%a0".chars().collect();
    for _ in 0..4_000 {
        let seed = seeds[rng.below(seeds.len())];
        let mut chars: Vec<char> = seed.chars().collect();
        for _ in 0..1 + rng.below(4) {
            let pos = rng.below(chars.len() + 1);
            match rng.below(3) {
                0 if pos < chars.len() => {
                    chars.remove(pos);
                }
                1 => chars.insert(pos, charset[rng.below(charset.len())]),
                _ if pos < chars.len() => chars[pos] = charset[rng.below(charset.len())],
                _ => {}
            }
        }
        let src: String = chars.into_iter().collect();
        try_template(&src, &data, &funcs);
    }
}

#[test]
fn deeply_nested_parentheses_fail_cleanly_or_render() {
    let depth = 5_000;
    let src = format!("{{{{ {}1{} }}}}", "(".repeat(depth), ")".repeat(depth));
    let mut t = Template::new("deep");
    // Either outcome is fine as long as it returns.
    if t.parse("deep", &src).is_ok() {
        let _ = t.execute("deep", &Value::Nil);
    }
}

#[test]
fn cyclic_maps_made_with_set_print_and_compare_without_overflow() {
    let src = r#"{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ $e := dict }}{{ $_ := set $e "self" $e }}{{ $d | len }}{{ printf "%v" $d | len | lt 0 }}{{ deepEqual $d $e }}{{ toJson $d }}{{ $c := deepCopy $d }}{{ $_ := merge $d $e }}"#;
    let mut t = Template::new("c");
    t.funcs(sprig::funcs());
    t.parse("c", src).unwrap();
    let out = t.execute("c", &Value::Nil).unwrap();
    assert!(out.starts_with("1true"), "{out}");
}

#[test]
fn extreme_numeric_arguments_fail_or_succeed_without_panicking() {
    let funcs = sprig::funcs();
    let data = data();
    for src in [
        "{{ seq 9223372036854775807 }}",
        "{{ seq -9223372036854775808 0 }}",
        "{{ until 9223372036854775807 }}",
        "{{ untilStep 0 9223372036854775807 1 }}",
        "{{ add 9223372036854775807 1 }}{{ mul 9223372036854775807 2 }}{{ div -9223372036854775808 -1 }}{{ mod -9223372036854775808 -1 }}",
        "{{ trunc -9223372036854775808 \"abc\" }}{{ substr -5 9223372036854775807 \"abc\" }}",
        "{{ abbrevboth 9223372036854775807 9223372036854775807 \"abcdefgh\" }}{{ abbrev 9223372036854775807 \"abc\" }}",
        "{{ wrap 9223372036854775807 \"a b c\" }}{{ indent 9223372036854775807 \"x\" }}",
        "{{ repeat 9223372036854775807 \"ab\" }}",
        "{{ printf \"%*d\" 9223372036854775807 1 }}{{ printf \"%.*f\" 9999999 1.5 | len }}",
        "{{ round 1e308 300 }}{{ int 1e300 }}{{ floor -1e308 }}",
        "{{ toDate \"2006-01-02\" \"9999-12-31\" | dateModify \"2562047h\" }}",
        "{{ dateModify \"-2562047h\" now }}{{ duration \"9223372036854775807\" }}",
        "{{ genCA \"x\" 9223372036854775807 | len }}",
        "{{ randAlphaNum 9223372036854775807 }}",
        "{{ chunk 9223372036854775807 (list 1 2) }}{{ slice (list 1 2) 1 9223372036854775807 }}",
    ] {
        try_template(src, &data, &funcs);
    }
}
