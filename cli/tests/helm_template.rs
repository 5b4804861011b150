//! `flux helm template` run as a binary over every case of Helm's golden corpus
//! (shared/helm/tests/fixtures/CASES.md: helm's arguments; golden/: what helm printed),
//! and over broken charts, which must fail with exit code 1 and a message, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/helm/tests/fixtures")
}

/// Runs `flux helm template ARGS` from the fixtures directory, where CASES.md paths are relative.
fn helm_template(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(["helm", "template"])
        .args(args)
        .current_dir(fixtures())
        .output()
        .expect("run flux")
}

/// Splits a CASES.md argument cell as a shell would (single and double quotes), stopping at an
/// unquoted `(`, which starts a note such as "(an error)".
fn shell_words(s: &str) -> Vec<String> {
    let (mut words, mut word, mut in_word) = (Vec::new(), String::new(), false);
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, ' ') => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, '(') if !in_word => return words,
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// (golden file, flux arguments) for every row of the CASES.md table.
fn cases() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(fixtures().join("CASES.md")).expect("CASES.md");
    let mut cases: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        // Cells are split on `|` not preceded by a backslash; `\|` is a literal pipe.
        let line = line.replace("\\|", "\u{0}");
        let cells: Vec<String> = line
            .split('|')
            .map(|c| c.trim().replace('\u{0}', "|"))
            .collect();
        let [_, file, args, _] = cells.as_slice() else {
            continue;
        };
        if !file.ends_with(".txt") {
            continue;
        }
        let words = if let Some(extra) = args.strip_prefix("same, with ") {
            let (_, previous) = cases.last().expect("a case before \"same\"");
            previous.iter().cloned().chain(shell_words(extra)).collect()
        } else {
            let mut words = shell_words(args);
            assert_eq!(
                words.first().map(String::as_str),
                Some("template"),
                "{line}"
            );
            words.remove(0);
            words
        };
        // `C` is CASES.md's shorthand for testcharts/subchart.
        let words = words
            .into_iter()
            .map(|w| match w.strip_prefix('C') {
                Some("") => "testcharts/subchart".to_string(),
                Some(rest) if rest.starts_with('/') => format!("testcharts/subchart{rest}"),
                _ => w,
            })
            .collect();
        cases.push((file.clone(), words));
    }
    cases
}

fn golden(file: &str) -> String {
    std::fs::read_to_string(fixtures().join("golden").join(file)).expect("golden file")
}

#[test]
fn every_case_in_cases_md_prints_what_helm_printed() {
    let cases = cases();
    assert_eq!(cases.len(), 23, "CASES.md rows read: {cases:?}");
    let mut failures = Vec::new();
    for (file, args) in &cases {
        let want = golden(file);
        let out = helm_template(args);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        // Error goldens hold what helm printed before and with its `Error: ` line.
        let (want_out, want_err) = match want.find("Error: ") {
            Some(i) => (
                &want[..i],
                Some(format!("✗ {}", &want[i + "Error: ".len()..])),
            ),
            None => (want.as_str(), None),
        };
        let code = out.status.code();
        let ok = match &want_err {
            None => code == Some(0) && stdout == want_out && stderr.is_empty(),
            Some(e) => code == Some(1) && stdout == want_out && stderr.trim_end() == e.trim_end(),
        };
        if !ok {
            failures.push(format!(
                "{file} (flux helm template {}): exit {code:?}\n--- stderr\n{stderr}\n--- stdout differs: {}",
                args.join(" "),
                stdout != want_out
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_arguments_is_helms_usage_error() {
    let out = helm_template(&[]);
    assert_eq!(out.status.code(), Some(1));
    let want = golden("template-no-args.txt");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("✗ {}", want.trim_start_matches("Error: "))
    );
}

/// A chart directory under the test's temporary directory, from (path, content) pairs.
fn chart(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("helm-template")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (path, body) in [(
        "Chart.yaml",
        "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
    )]
    .iter()
    .chain(files)
    {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("create chart dir");
        std::fs::write(p, body).expect("write chart file");
    }
    dir
}

/// Exit code 1, nothing on stdout, one `✗` message containing every phrase, and no panic.
fn assert_fails_saying(args: &[String], phrases: &[&str]) {
    let out = helm_template(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed output");
    assert!(stderr.starts_with("✗ "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for p in phrases {
        assert!(
            stderr.contains(p),
            "{args:?}: {stderr:?} does not say {p:?}"
        );
    }
}

fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn a_missing_chart_directory_is_named() {
    assert_fails_saying(
        &["/nonexistent/chart".into()],
        &["\"/nonexistent/chart\" not found"],
    );
}

#[test]
fn a_template_syntax_error_names_the_template() {
    let c = chart(
        "syntax",
        &[("templates/cm.yaml", "a: {{ .Values.x \nb: 1\n")],
    );
    assert_fails_saying(&[path_arg(&c)], &["templates/cm.yaml"]);
}

#[test]
fn fail_in_a_template_reports_its_message() {
    let c = chart(
        "fail",
        &[(
            "templates/cm.yaml",
            "{{ fail \"image.tag is required\" }}\n",
        )],
    );
    assert_fails_saying(
        &[path_arg(&c)],
        &["templates/cm.yaml", "image.tag is required"],
    );
}

#[test]
fn a_values_file_that_is_not_yaml_is_refused() {
    let c = chart("values", &[("templates/cm.yaml", "a: {{ .Values.x }}\n")]);
    let values = c.join("bad-values.yaml");
    std::fs::write(&values, "x: [unclosed\n  y: {\n").expect("write values");
    assert_fails_saying(
        &[path_arg(&c), "-f".into(), path_arg(&values)],
        &["bad-values.yaml"],
    );
}

#[test]
fn an_unknown_flag_is_refused() {
    assert_fails_saying(
        &["testcharts/subchart".into(), "--no-such-flag".into()],
        &["unknown flag: --no-such-flag"],
    );
}
