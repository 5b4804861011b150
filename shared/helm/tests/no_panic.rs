//! Randomised inputs: parsers never panic, and toYaml output reads back as the same string.

use serde_json::{Value, json};

/// xorshift64*: deterministic, no dependency.
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
    fn string(&mut self, alphabet: &[&str], max: usize) -> String {
        let n = self.below(max + 1);
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }
}

const SET_ALPHABET: &[&str] = &[
    "a", "b", ".", "[", "]", "0", "1", "9", "=", ",", "{", "}", "\\", "-", " ", "null", "true",
];

#[test]
fn strvals_never_panics_on_random_input() {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..5000 {
        let s = r.string(SET_ALPHABET, 24);
        let mut m = serde_json::Map::new();
        let _ = flux_helm::strvals::parse_into(&s, &mut m);
        let _ = flux_helm::strvals::parse_json(&s, &mut m);
        let _ = flux_helm::strvals::parse_literal(&s, &mut m);
    }
}

const YAML_ALPHABET: &[&str] = &[
    "a", "k", ": ", ":", "- ", "-", "\n", "  ", " ", "#", "'", "\"", "[", "]", "{", "}", ",", "&x",
    "*x", "<<", "!!str ", "|", ">", "?", "yes", "0", "7", ".", "e", "~", "%", "@", "`", "\t", "é",
    "---", "...",
];

#[test]
fn yaml_loader_never_panics_on_random_input() {
    let mut r = Rng(42);
    for _ in 0..5000 {
        let s = r.string(YAML_ALPHABET, 30);
        let _ = flux_helm::yaml::parse_yaml(&s);
        let _ = flux_helm::yaml::parse_yaml_head(&s, &["kind"]);
    }
}

/// Tabs are left out: go-yaml (and so Helm) does not quote a string for a leading tab, and we
/// keep its output byte for byte even where that output does not read back.
#[test]
fn to_yaml_strings_read_back_unchanged() {
    let alphabet: &[&str] = &[
        "a",
        "b",
        "z",
        " ",
        ":",
        ": ",
        "#",
        " #",
        "-",
        "- ",
        "'",
        "\"",
        "\\",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&",
        "*",
        "!",
        "|",
        ">",
        "%",
        "@",
        "`",
        "?",
        "yes",
        "no",
        "on",
        "y",
        "null",
        "~",
        "true",
        "0",
        "1",
        "0x1",
        "1e3",
        ".5",
        "\n",
        "é",
        "日本",
        "---",
        "...",
        "2001-12-14",
        "12:30",
    ];
    let mut r = Rng(7);
    for _ in 0..5000 {
        let s = r.string(alphabet, 12);
        let v = json!({ "k": s, "list": [s] });
        let y = flux_helm::toyaml::to_yaml(&v);
        let back = flux_helm::yaml::parse_yaml(&y)
            .unwrap_or_else(|e| panic!("{s:?} gave invalid YAML {y:?}: {e}"));
        assert_eq!(back, v, "{s:?} did not survive toYaml: {y:?}");
    }
}

#[test]
fn long_folded_strings_read_back_unchanged() {
    let mut r = Rng(11);
    for _ in 0..300 {
        let words: Vec<String> = (0..r.below(40) + 1)
            .map(|_| r.string(&["ab", "cd", "x", "':", "é"], 6))
            .collect();
        let s = words.join(" ");
        let v = json!({ "key": { "nested": s } });
        let y = flux_helm::toyaml::to_yaml(&v);
        assert_eq!(flux_helm::yaml::parse_yaml(&y).unwrap(), v, "{y}");
    }
}

#[test]
fn archive_loader_never_panics_on_random_or_truncated_input() {
    let real = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/testcharts/compressedchart-0.1.0.tgz"),
    )
    .unwrap();
    assert!(flux_helm::loader::load_archive(&real).is_ok());
    let mut r = Rng(3);
    for i in 0..real.len() {
        let _ = flux_helm::loader::load_archive(&real[..i]);
    }
    for _ in 0..500 {
        let mut bytes = real.clone();
        for _ in 0..4 {
            let at = r.below(bytes.len());
            bytes[at] = r.next() as u8;
        }
        let _ = flux_helm::loader::load_archive(&bytes);
    }
}

#[test]
fn glob_never_panics() {
    let mut r = Rng(5);
    for _ in 0..5000 {
        let p = r.string(&["*", "?", "[", "]", "^", "-", "a", "/", "\\", "**"], 10);
        let n = r.string(&["a", "b", "/", "-", "]"], 10);
        let _ = flux_helm::glob::glob_match(&p, &n);
        let _ = flux_helm::glob::files_glob_match(&p, &n);
    }
    let _: Value = Value::Null;
}
