//! Sprig functions as Helm ships them, checked against Sprig's documented examples.

use flux_gotemplate::{Template, Value, sprig};

fn data() -> Value {
    Value::from_json_floats(serde_json::json!({
        "name": "web",
        "port": 8080,
        "list": ["b", "a", "c", "a"],
        "d": {"a": 1, "b": {"c": 2}},
        "empty": "",
    }))
}

fn t(src: &str) -> String {
    let mut tpl = Template::new("t");
    tpl.funcs(sprig::funcs());
    tpl.parse("t", src)
        .unwrap_or_else(|e| panic!("parse {src:?}: {e}"));
    tpl.execute("t", &data())
        .unwrap_or_else(|e| panic!("exec {src:?}: {e}"))
}

fn err(src: &str) -> String {
    let mut tpl = Template::new("t");
    tpl.funcs(sprig::funcs());
    tpl.parse("t", src)
        .unwrap_or_else(|e| panic!("parse {src:?}: {e}"));
    tpl.execute("t", &data())
        .expect_err("expected an error")
        .to_string()
}

#[test]
fn string_trimming_and_case() {
    assert_eq!(t(r#"{{ trim "   hello    " }}"#), "hello");
    assert_eq!(t(r#"{{ trimAll "$" "$5.00" }}"#), "5.00");
    assert_eq!(t(r#"{{ trimSuffix "-" "hello-" }}"#), "hello");
    assert_eq!(t(r#"{{ trimPrefix "-" "-hello" }}"#), "hello");
    assert_eq!(
        t(r#"{{ upper "hello" }} {{ lower "HELLO" }}"#),
        "HELLO hello"
    );
    assert_eq!(t(r#"{{ title "hello world" }}"#), "Hello World");
    assert_eq!(t(r#"{{ untitle "Hello World" }}"#), "hello world");
    assert_eq!(t(r#"{{ swapcase "This Is A.Test" }}"#), "tHIS iS a.tEST");
    assert_eq!(t(r#"{{ nospace "hello w o r l d" }}"#), "helloworld");
}

#[test]
fn string_slicing() {
    assert_eq!(t(r#"{{ trunc 5 "hello world" }}"#), "hello");
    assert_eq!(t(r#"{{ trunc -5 "hello world" }}"#), "world");
    assert_eq!(t(r#"{{ substr 0 5 "hello world" }}"#), "hello");
    assert_eq!(t(r#"{{ abbrev 5 "hello world" }}"#), "he...");
    assert_eq!(t(r#"{{ abbrevboth 5 10 "1234 5678 9123" }}"#), "...5678...");
    assert_eq!(t(r#"{{ initials "First Try" }}"#), "FT");
    assert_eq!(t(r#"{{ repeat 3 "hello" }}"#), "hellohellohello");
}

#[test]
fn string_case_conversions() {
    assert_eq!(t(r#"{{ snakecase "FirstName" }}"#), "first_name");
    assert_eq!(t(r#"{{ snakecase "HTTPServer" }}"#), "http_server");
    assert_eq!(t(r#"{{ kebabcase "FirstName" }}"#), "first-name");
    assert_eq!(t(r#"{{ camelcase "http_server" }}"#), "HttpServer");
}

#[test]
fn string_tests_and_quoting() {
    assert_eq!(t(r#"{{ contains "cat" "catch" }}"#), "true");
    assert_eq!(
        t(r#"{{ hasPrefix "cat" "catch" }} {{ hasSuffix "ch" "catch" }}"#),
        "true true"
    );
    assert_eq!(t(r#"{{ quote "a\"b" 1 }}"#), r#""a\"b" "1""#);
    assert_eq!(t(r#"{{ squote "a" }}"#), "'a'");
    assert_eq!(t(r#"{{ .port | quote }}"#), r#""8080""#);
    assert_eq!(
        t(r#"{{ cat "hello" "beautiful" "world" }}"#),
        "hello beautiful world"
    );
    assert_eq!(
        t(r#"{{ "I Am Henry VIII" | replace " " "-" }}"#),
        "I-Am-Henry-VIII"
    );
    assert_eq!(
        t(r#"{{ len .list | plural "one anchovy" "many anchovies" }}"#),
        "many anchovies"
    );
}

#[test]
fn indentation() {
    assert_eq!(t(r#"{{ indent 4 "a\nb" }}"#), "    a\n    b");
    assert_eq!(t(r#"{{ "a\nb" | nindent 2 }}"#), "\n  a\n  b");
    assert_eq!(t(r#"{{ wrap 5 "Hello World" }}"#), "Hello\nWorld");
    assert_eq!(t(r#"{{ wrapWith 5 "\t" "Hello World" }}"#), "Hello\tWorld");
}

#[test]
fn splitting_and_joining() {
    assert_eq!(
        t(r#"{{ $a := split "$" "foo$bar$baz" }}{{ $a._0 }}{{ $a._2 }}"#),
        "foobaz"
    );
    assert_eq!(t(r#"{{ splitList "$" "foo$bar$baz" }}"#), "[foo bar baz]");
    assert_eq!(
        t(r#"{{ $a := splitn "$" 2 "foo$bar$baz" }}{{ $a._1 }}"#),
        "bar$baz"
    );
    assert_eq!(t(r#"{{ list "a" "b" 1 | join "-" }}"#), "a-b-1");
    assert_eq!(t(r#"{{ sortAlpha .list }}"#), "[a a b c]");
    assert_eq!(t(r#"{{ toStrings (list 1 2) }}"#), "[1 2]");
}

#[test]
fn conversions() {
    assert_eq!(
        t(r#"{{ atoi "42" }} {{ int "12" }} {{ int64 3.9 }} {{ float64 "1.5" }}"#),
        "42 12 3 1.5"
    );
    assert_eq!(t(r#"{{ int .port }}"#), "8080");
    assert_eq!(t(r#"{{ toString 1.5 }}"#), "1.5");
    assert_eq!(t(r#"{{ toDecimal "0777" }}"#), "511");
}

#[test]
fn sequences() {
    assert_eq!(t(r#"{{ until 3 }}"#), "[0 1 2]");
    assert_eq!(t(r#"{{ untilStep 3 6 2 }}"#), "[3 5]");
    assert_eq!(
        t(r#"{{ seq 5 }}|{{ seq -3 }}|{{ seq 0 2 }}|{{ seq 2 -2 }}|{{ seq 0 2 10 }}"#),
        "1 2 3 4 5|1 0 -1 -2 -3|0 1 2|2 1 0 -1 -2|0 2 4 6 8 10"
    );
}

#[test]
fn integer_math() {
    assert_eq!(
        t(
            r#"{{ add 1 2 3 }} {{ add1 5 }} {{ sub 5 3 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 2 }}"#
        ),
        "6 6 2 24 3 1"
    );
    assert_eq!(
        t(r#"{{ max 1 5 3 }} {{ min 4 2 8 }} {{ biggest 1 9 }}"#),
        "5 2 9"
    );
    // Helm values are float64; integer math converts them.
    assert_eq!(t(r#"{{ add .port 1 }}"#), "8081");
    assert!(
        err(r#"{{ div 1 0 }}"#)
            .contains("error calling div: runtime error: integer divide by zero")
    );
}

#[test]
fn float_math_is_decimal() {
    assert_eq!(t(r#"{{ addf 0.1 0.2 }}"#), "0.3");
    assert_eq!(
        t(r#"{{ subf 1.5 0.25 }} {{ mulf 1.1 3 }} {{ divf 10 4 }}"#),
        "1.25 3.3 2.5"
    );
    assert_eq!(
        t(r#"{{ floor 1.7 }} {{ ceil 1.2 }} {{ round 3.746 2 }} {{ round 2.5 0 }}"#),
        "1 2 3.75 3"
    );
    assert_eq!(t(r#"{{ maxf 1 2.5 }} {{ minf 1 2.5 }}"#), "2.5 1");
}

#[test]
fn lists() {
    assert_eq!(t(r#"{{ list 1 2 3 }}"#), "[1 2 3]");
    assert_eq!(
        t(r#"{{ first .list }} {{ last .list }} {{ rest .list }} {{ initial .list }}"#),
        "b a [a c a] [b a c]"
    );
    assert_eq!(
        t(r#"{{ append .list "d" }} {{ prepend .list "z" }}"#),
        "[b a c a d] [z b a c a]"
    );
    assert_eq!(
        t(r#"{{ reverse .list }} {{ uniq .list }} {{ without .list "a" }}"#),
        "[a c a b] [b a c] [b c]"
    );
    assert_eq!(
        t(r#"{{ has "c" .list }} {{ has "q" .list }}"#),
        "true false"
    );
    assert_eq!(t(r#"{{ compact (list 1 "" 0 "x" nil) }}"#), "[1 x]");
    assert_eq!(
        t(r#"{{ slice .list 1 3 }} {{ concat (list 1) (list 2 3) }}"#),
        "[a c] [1 2 3]"
    );
    assert_eq!(t(r#"{{ chunk 3 (list 1 2 3 4 5) }}"#), "[[1 2 3] [4 5]]");
    assert!(
        err(r#"{{ first "abc" }}"#)
            .contains("error calling first: Cannot find first on type string")
    );
}

#[test]
fn dicts() {
    assert_eq!(t(r#"{{ $d := dict "b" 2 "a" 1 }}{{ $d }}"#), "map[a:1 b:2]");
    assert_eq!(
        t(r#"{{ get .d "a" }}|{{ get .d "zz" }}|{{ hasKey .d "b" }}"#),
        "1||true"
    );
    // set and unset mutate the dict in place, as Go maps do.
    assert_eq!(
        t(
            r#"{{ $d := dict }}{{ $_ := set $d "k" "v" }}{{ $d.k }}{{ $_ := unset $d "k" }}{{ len $d }}"#
        ),
        "v0"
    );
    assert_eq!(
        t(r#"{{ keys .d | sortAlpha }} {{ values (dict "x" 1) }}"#),
        "[a b] [1]"
    );
    assert_eq!(
        t(r#"{{ pick .d "a" }} {{ omit .d "b" }}"#),
        "map[a:1] map[a:1]"
    );
    assert_eq!(t(r#"{{ pluck "a" .d (dict "a" 5) (dict) }}"#), "[1 5]");
    assert_eq!(
        t(r#"{{ dig "b" "c" "none" .d }} {{ dig "b" "x" "none" .d }}"#),
        "2 none"
    );
    assert_eq!(
        t(r#"{{ $c := deepCopy .d }}{{ $_ := set $c.b "c" 9 }}{{ .d.b.c }}"#),
        "2"
    );
}

#[test]
fn merge_fills_missing_and_merge_overwrite_replaces() {
    assert_eq!(
        t(
            r#"{{ $dst := dict "a" 1 "n" (dict "x" 1) }}{{ $_ := merge $dst (dict "a" 2 "b" 3 "n" (dict "x" 2 "y" 2)) }}{{ $dst }}"#
        ),
        "map[a:1 b:3 n:map[x:1 y:2]]"
    );
    assert_eq!(
        t(
            r#"{{ $dst := dict "a" 1 "n" (dict "x" 1) }}{{ mergeOverwrite $dst (dict "a" 2 "n" (dict "y" 2)) }}"#
        ),
        "map[a:2 n:map[x:1 y:2]]"
    );
}

#[test]
fn defaults_and_emptiness() {
    assert_eq!(
        t(r#"{{ .missing | default "foo" }} {{ .name | default "foo" }} {{ default "d" "" }}"#),
        "foo web d"
    );
    assert_eq!(t(r#"{{ default 5 0 }} {{ default "x" false }}"#), "5 x");
    assert_eq!(
        t(r#"{{ empty "" }} {{ empty 0 }} {{ empty .d }} {{ empty (list) }}"#),
        "true true false true"
    );
    assert_eq!(
        t(r#"{{ coalesce 0 "" "x" "y" }} {{ coalesce .missing .empty }}"#),
        "x <no value>"
    );
    assert_eq!(
        t(r#"{{ all 1 "a" }} {{ all 1 "" }} {{ any 0 "" "a" }} {{ any 0 }}"#),
        "true false true false"
    );
    assert_eq!(
        t(r#"{{ ternary "yes" "no" true }} {{ true | ternary "yes" "no" }}"#),
        "yes yes"
    );
}

#[test]
fn json_matches_go_encoding() {
    assert_eq!(t(r#"{{ toJson .d }}"#), r#"{"a":1,"b":{"c":2}}"#);
    assert_eq!(
        t(r#"{{ toJson "<a&b>" }} {{ toRawJson "<a&b>" }}"#),
        r#""\u003ca\u0026b\u003e" "<a&b>""#
    );
    assert_eq!(
        t(r#"{{ toPrettyJson (dict "a" (list 1 2)) }}"#),
        "{\n  \"a\": [\n    1,\n    2\n  ]\n}"
    );
    assert_eq!(
        t(r#"{{ toJson 1e21 }} {{ toJson 1000000.0 }} {{ toJson 0.0000001 }}"#),
        "1e+21 1000000 1e-7"
    );
    assert_eq!(
        t(r#"{{ $o := fromJson "{\"a\":[1,2]}" }}{{ index $o.a 1 }} {{ typeOf (index $o.a 0) }}"#),
        "2 float64"
    );
    assert_eq!(t(r#"{{ fromJson "nope" }}"#), "<no value>");
    assert!(err(r#"{{ mustFromJson "nope" }}"#).contains("error calling mustFromJson:"));
}

#[test]
fn reflection() {
    assert_eq!(
        t(
            r#"{{ typeOf 1 }} {{ typeOf .port }} {{ typeOf "a" }} {{ typeOf .list }} {{ typeOf .d }}"#
        ),
        "int float64 string []interface {} map[string]interface {}"
    );
    assert_eq!(
        t(r#"{{ kindOf .list }} {{ kindOf .d }} {{ kindIs "string" "x" }} {{ typeIs "int" 1 }}"#),
        "slice map true true"
    );
    assert_eq!(
        t(r#"{{ deepEqual (list 1 2) (list 1 2) }} {{ deepEqual 1 1.0 }}"#),
        "true false"
    );
}

#[test]
fn encodings_and_hashes() {
    assert_eq!(
        t(r#"{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }}"#),
        "aGVsbG8= hello"
    );
    assert_eq!(
        t(r#"{{ b64dec "!!" }}"#),
        "illegal base64 data at input byte 0"
    );
    assert_eq!(
        t(r#"{{ b32enc "hello" }} {{ b32dec "NBSWY3DP" }}"#),
        "NBSWY3DP hello"
    );
    assert_eq!(
        t(r#"{{ sha1sum "hello" }}"#),
        "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
    );
    assert_eq!(
        t(r#"{{ sha256sum "hello" }}"#),
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert_eq!(t(r#"{{ adler32sum "hello" }}"#), "103547413");
    let u = t(r#"{{ uuidv4 }}"#);
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "4");
}

#[test]
fn random_strings_have_requested_length_and_alphabet() {
    let s = t(r#"{{ randAlphaNum 16 }}"#);
    assert_eq!(s.len(), 16);
    assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(
        t(r#"{{ randNumeric 8 }}"#)
            .chars()
            .all(|c| c.is_ascii_digit())
    );
    assert!(
        t(r#"{{ randAlpha 8 }}"#)
            .chars()
            .all(|c| c.is_ascii_alphabetic())
    );
}

#[test]
fn regexes() {
    assert_eq!(
        t(r#"{{ regexMatch "^[a-z]+@[a-z]+\\.com$" "test@acme.com" }}"#),
        "true"
    );
    assert_eq!(
        t(
            r#"{{ regexFindAll "[2,4,6,8]" "123456789" -1 }} {{ regexFindAll "[2,4,6,8]" "123456789" 2 }}"#
        ),
        "[2 4 6 8] [2 4]"
    );
    assert_eq!(t(r#"{{ regexFind "[a-zA-Z][1-9]" "abcd1234" }}"#), "d1");
    assert_eq!(
        t(r#"{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}"#),
        "-W-xxW-"
    );
    assert_eq!(
        t(r#"{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }}"#),
        "-${1}-${1}-"
    );
    assert_eq!(
        t(r#"{{ regexSplit "z+" "pizza" -1 }} {{ regexSplit "z+" "pizza" 1 }}"#),
        "[pi a] [pizza]"
    );
    assert_eq!(t(r#"{{ regexQuoteMeta "1.2.3" }}"#), r"1\.2\.3");
    assert!(
        err(r#"{{ regexMatch "(" "x" }}"#)
            .contains("error calling regexMatch: error parsing regexp")
    );
}

#[test]
fn semver_constraints_follow_masterminds_v3() {
    assert_eq!(
        t(r#"{{ semverCompare ">=1.2.3" "1.2.4" }} {{ semverCompare ">=1.2.3" "1.2.2" }}"#),
        "true false"
    );
    assert_eq!(
        t(r#"{{ semverCompare "^1.2.0" "1.9.9" }} {{ semverCompare "^1.2.0" "2.0.0" }}"#),
        "true false"
    );
    assert_eq!(
        t(r#"{{ semverCompare "~1.2.0" "1.2.9" }} {{ semverCompare "~1.2.0" "1.3.0" }}"#),
        "true false"
    );
    // Pre-releases only match constraints with a pre-release (why charts write ">=1.19-0").
    assert_eq!(
        t(
            r#"{{ semverCompare ">=1.19" "v1.21.5-gke.1302" }} {{ semverCompare ">=1.19-0" "v1.21.5-gke.1302" }}"#
        ),
        "false true"
    );
    assert_eq!(
        t(r#"{{ semverCompare "1.2.x" "1.2.7" }} {{ semverCompare "<1.0 || >=2.0" "1.5.0" }}"#),
        "true false"
    );
    assert_eq!(
        t(r#"{{ semverCompare "1.1 - 1.3" "1.2.0" }} {{ semverCompare ">= 1.2, < 1.4" "1.4.0" }}"#),
        "true false"
    );
    assert_eq!(
        t(
            r#"{{ (semver "1.2.3-beta.1+build").Major }} {{ (semver "v1.2.3-beta.1").Prerelease }} {{ semver "1.2" }}"#
        ),
        "1 beta.1 1.2.0"
    );
    assert!(err(r#"{{ semverCompare ">=1.0" "nope" }}"#).contains("Invalid Semantic Version"));
}

#[test]
fn dates_use_go_layouts() {
    assert_eq!(
        t(r#"{{ dateInZone "2006-01-02 15:04:05 MST" 0 "UTC" }}"#),
        "1970-01-01 00:00:00 UTC"
    );
    assert_eq!(
        t(r#"{{ dateInZone "Jan 2, 2006 at 3:04pm (Z07:00)" 1700000000 "UTC" }}"#),
        "Nov 14, 2023 at 10:13pm (Z)"
    );
    assert_eq!(
        t(r#"{{ toDate "2006-01-02" "2017-12-31" | date "02/01/2006" }}"#),
        "31/12/2017"
    );
    assert_eq!(
        t(r#"{{ unixEpoch (toDate "2006-01-02T15:04:05Z07:00" "2020-01-01T00:00:00Z") }}"#),
        "1577836800"
    );
    assert_eq!(
        t(r#"{{ duration 95 }} {{ duration "3600" }} {{ duration 0 }}"#),
        "1m35s 1h0m0s 0s"
    );
    assert_eq!(
        t(
            r#"{{ dateInZone "2006-01-02 15:04" (toDate "2006-01-02T15:04:05Z07:00" "2020-01-01T00:00:00Z" | dateModify "-1.5h") "UTC" }}"#
        ),
        "2019-12-31 22:30"
    );
    assert_eq!(t(r#"{{ now | date "2006" | len }}"#), "4");
}

#[test]
fn urls() {
    assert_eq!(
        t(
            r#"{{ $u := urlParse "https://user@example.com:8443/a/b?x=1#frag" }}{{ $u.scheme }} {{ $u.host }} {{ $u.hostname }} {{ $u.path }} {{ $u.query }} {{ $u.fragment }} {{ $u.userinfo }}"#
        ),
        "https example.com:8443 example.com /a/b x=1 frag user"
    );
    assert_eq!(
        t(r#"{{ urlJoin (dict "scheme" "http" "host" "h:80" "path" "/p" "query" "q=1") }}"#),
        "http://h:80/p?q=1"
    );
}

#[test]
fn paths() {
    assert_eq!(
        t(
            r#"{{ base "foo/bar/baz.txt" }} {{ dir "foo/bar/baz.txt" }} {{ ext "baz.tar.gz" }} {{ clean "foo/../bar//x/." }} {{ isAbs "/x" }}"#
        ),
        "baz.txt foo/bar .gz bar/x true"
    );
}

#[test]
fn fail_stops_execution_with_the_message() {
    assert_eq!(
        err(r#"{{ fail "boom" }}"#),
        r#"template: t:1:3: executing "t" at <fail "boom">: error calling fail: boom"#
    );
}

#[test]
fn wrong_argument_types_are_reported_like_go() {
    assert_eq!(
        err(r#"{{ upper 3 }}"#),
        r#"template: t:1:3: executing "t" at <upper 3>: wrong type for value; expected string; got int"#
    );
    assert_eq!(
        err(r#"{{ upper }}"#),
        r#"template: t:1:3: executing "t" at <upper>: wrong number of args for upper: want 1 got 0"#
    );
}

#[test]
fn helm_removes_env_functions() {
    let f = sprig::funcs();
    assert!(!f.contains_key("env"));
    assert!(!f.contains_key("expandenv"));
    for name in [
        "default",
        "toJson",
        "semverCompare",
        "mustRegexMatch",
        "mustMergeOverwrite",
        "mustAppend",
        "dateModify",
    ] {
        assert!(f.contains_key(name), "{name} missing");
    }
}

#[test]
fn generated_ca_signs_certificates_with_the_requested_names() {
    let out = t(
        r#"{{ $ca := genCA "my-ca" 365 }}{{ $c := genSignedCert "svc.ns.svc" (list "10.0.0.1") (list "svc" "svc.ns.svc") 30 $ca }}{{ $c.Cert | b64enc | len | lt 100 }}|{{ $ca.Cert | hasPrefix "-----BEGIN CERTIFICATE-----" }}|{{ $c.Key | contains "PRIVATE KEY" }}"#,
    );
    assert_eq!(out, "true|true|true");
    assert_eq!(
        t(
            r#"{{ $s := genSelfSignedCert "x" nil nil 1 }}{{ $s.Cert | hasPrefix "-----BEGIN CERTIFICATE-----" }}"#
        ),
        "true"
    );
    assert!(t(r#"{{ genPrivateKey "ecdsa" }}"#).contains("PRIVATE KEY"));
    // A CA given as PEM text (a dict, or buildCustomCert from base64) signs too.
    assert_eq!(
        t(
            r#"{{ $ca := genCA "ca" 1 }}{{ $d := dict "Cert" $ca.Cert "Key" $ca.Key }}{{ (genSignedCert "x" nil nil 1 $d).Cert | hasPrefix "-----BEGIN" }}"#
        ),
        "true"
    );
    assert_eq!(
        t(
            r#"{{ $ca := genCA "ca" 1 }}{{ $b := buildCustomCert ($ca.Cert | b64enc) ($ca.Key | b64enc) }}{{ (genSignedCert "x" nil nil 1 $b).Cert | hasPrefix "-----BEGIN" }}"#
        ),
        "true"
    );
    assert!(
        err(r#"{{ genSignedCert "x" nil nil 1 (dict "Cert" "a" "Key" "b") }}"#)
            .contains("error parsing private key")
    );
    assert!(
        err(r#"{{ buildCustomCert "!!" "x" }}"#).contains("unable to decode base64 certificate")
    );
}

#[test]
fn title_and_camelcase_follow_go_and_xstrings() {
    // Go's strings.Title treats ASCII punctuation as a word separator.
    assert_eq!(t(r#"{{ title "don't stop-me now" }}"#), "Don'T Stop-Me Now");
    assert_eq!(
        t(r#"{{ camelcase "HTTP_server" }} {{ camelcase "_foo_bar" }} {{ camelcase "foo__bar" }}"#),
        "HttpServer _FooBar Foo_Bar"
    );
    assert_eq!(
        t(r#"{{ wrap 3 "abcdefgh ij" }}|{{ wrapWith 3 "|" "abcdefgh" }}"#),
        "abcdefgh\nij|abc|def|gh"
    );
}

#[test]
fn duration_round_keeps_the_largest_unit() {
    assert_eq!(
        t(
            r#"{{ durationRound "2h10m5s" }} {{ durationRound "400h" }} {{ durationRound "90s" }} {{ hello }}"#
        ),
        "2h 16d 1m Hello!"
    );
}

#[test]
fn case_conversions_match_xstrings_documented_samples() {
    let snake = [
        ("FirstName", "first_name"),
        ("HTTPServer", "http_server"),
        ("NoHTTPS", "no_https"),
        ("GO_PATH", "go_path"),
        ("GO PATH", "go_path"),
        ("GO-PATH", "go_path"),
        ("http2xx", "http_2xx"),
        ("HTTP20xOK", "http_20x_ok"),
        ("Duration2m3s", "duration_2m3s"),
        ("Bld4Floor3rd", "bld4_floor_3rd"),
    ];
    for (input, want) in snake {
        assert_eq!(
            t(&format!("{{{{ snakecase {input:?} }}}}")),
            want,
            "snakecase {input}"
        );
        assert_eq!(
            t(&format!("{{{{ kebabcase {input:?} }}}}")),
            want.replace('_', "-"),
            "kebabcase {input}"
        );
    }
    let pascal = [
        ("some_words", "SomeWords"),
        ("http_server", "HttpServer"),
        ("no_https", "NoHttps"),
        ("_complex__case_", "_Complex_Case_"),
        ("some words", "SomeWords"),
        ("GOLANG_IS_GREAT", "GolangIsGreat"),
    ];
    for (input, want) in pascal {
        assert_eq!(
            t(&format!("{{{{ camelcase {input:?} }}}}")),
            want,
            "camelcase {input}"
        );
    }
}

#[test]
fn dict_functions_read_nil_as_an_empty_map_like_go_nil_maps() {
    assert_eq!(
        t(
            r#"{{ hasKey .missing "a" }}|{{ get .missing "a" }}|{{ keys .missing }}|{{ pick .missing "a" }}|{{ dig "a" "d" .missing }}"#
        ),
        "false||[]|map[]|d"
    );
    assert!(
        err(r#"{{ set .missing "a" 1 }}"#)
            .contains("invalid value; expected map[string]interface {}")
    );
}

#[test]
fn regex_split_follows_go_regexp_split() {
    assert_eq!(t(r#"{{ regexSplit "" "abc" -1 }}"#), "[a b c]");
    assert_eq!(
        t(
            r#"{{ regexSplit "a" "banana" -1 }} {{ regexSplit "a" "banana" 2 }} {{ regexSplit "z+" "" -1 | len }}"#
        ),
        "[b n n ] [b nana] 1"
    );
}

#[test]
fn regex_perl_classes_are_ascii_like_go_re2() {
    assert_eq!(
        t(r#"{{ regexMatch "^\\d+$" "123" }} {{ regexMatch "^\\d+$" "١٢٣" }}"#),
        "true false"
    );
    assert_eq!(
        t(r#"{{ regexFindAll "\\w+" "héllo wörld" -1 }}"#),
        "[h llo w rld]"
    );
    assert_eq!(
        t(
            r#"{{ regexFindAll "[\\d.]+" "v1.2.3-rc4" -1 }} {{ regexReplaceAll "\\s+" "a \t b" "_" }}"#
        ),
        "[1.2.3 4] a_b"
    );
    assert_eq!(
        t(
            r#"{{ regexMatch "[[:alpha:]]+[]x]" "ab]" }} {{ regexSplit "\\b" "hi there" -1 | len }}"#
        ),
        "true 3"
    );
}

#[test]
fn int_parameters_refuse_float64_values_like_go() {
    // .port is a float64, as every number in Helm values is.
    assert_eq!(
        err(r#"{{ until .port }}"#),
        r#"template: t:1:3: executing "t" at <until .port>: wrong type for value; expected int; got float64"#
    );
    assert!(err(r#"{{ trunc .port "abc" }}"#).contains("expected int; got float64"));
    assert_eq!(t(r#"{{ until (int .port) | len }}"#), "8080");
}

#[test]
fn sprig_slice_replaces_the_builtin_and_only_takes_lists() {
    assert_eq!(
        t(r#"{{ slice (list 1 2 3) 1 }} {{ slice (list) 0 }}"#),
        "[2 3] <no value>"
    );
    assert!(
        err(r#"{{ slice "hello" 1 3 }}"#)
            .contains("list should be type of slice or array but string")
    );
}

#[test]
fn date_in_zone_uses_the_system_time_zone_database() {
    // 2023-11-14T22:13:20Z; New York is on EST (UTC-5) then.
    assert_eq!(
        t(r#"{{ dateInZone "2006-01-02 15:04 MST -0700" 1700000000 "America/New_York" }}"#),
        "2023-11-14 17:13 EST -0500"
    );
    assert_eq!(
        t(r#"{{ dateInZone "15:04 MST" 1700000000 "No/Such_Zone" }}"#),
        "22:13 UTC"
    );
}
