//! Every golden in fixtures/golden (what `helm template` printed, arguments in CASES.md),
//! rendered through `flux_helm::template` and compared byte for byte.

use std::path::{Path, PathBuf};

use flux_helm::{Error, TemplateOptions, template};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn chart(name: &str) -> PathBuf {
    fixtures().join("testcharts").join(name)
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("golden").join(name)).expect("golden file")
}

/// A line diff good enough to see where output and golden part ways.
fn diff(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.split('\n').collect(), got.split('\n').collect());
    let mut out = String::new();
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i), g.get(i));
        if a != b {
            out.push_str(&format!(
                "line {}:\n  want {:?}\n  got  {:?}\n",
                i + 1,
                a,
                b
            ));
            if out.len() > 2000 {
                break;
            }
        }
    }
    out
}

fn assert_golden(file: &str, chart_name: &str, opts: TemplateOptions) {
    let want = golden(file);
    let got = match template(&chart(chart_name), &opts) {
        Ok(s) => s,
        Err(e) => panic!("{file}: render failed: {e}"),
    };
    if want != got {
        panic!("{file} differs from helm's output:\n{}", diff(&want, &got));
    }
}

fn opts() -> TemplateOptions {
    TemplateOptions::default()
}

#[test]
fn golden_template() {
    assert_golden("template.txt", "subchart", opts());
}

#[test]
fn golden_template_set() {
    let o = TemplateOptions {
        set: vec!["service.name=apache".into()],
        ..opts()
    };
    assert_golden("template-set.txt", "subchart", o);
}

#[test]
fn golden_template_values_files() {
    let o = TemplateOptions {
        values_files: vec![chart("subchart").join("charts/subchartA/values.yaml")],
        ..opts()
    };
    assert_golden("template-values-files.txt", "subchart", o);
}

#[test]
fn golden_template_name_template() {
    let o = TemplateOptions {
        name_template: Some(r#"foobar-{{ b64enc "abc" | lower }}-baz"#.into()),
        ..opts()
    };
    assert_golden("template-name-template.txt", "subchart", o);
}

#[test]
fn golden_template_with_kube_version() {
    let o = TemplateOptions {
        kube_version: Some("1.16.0".into()),
        ..opts()
    };
    assert_golden("template-with-kube-version.txt", "subchart", o);
}

#[test]
fn golden_template_with_api_version() {
    let o = TemplateOptions {
        api_versions: vec!["helm.k8s.io/test,helm.k8s.io/test2".into()],
        ..opts()
    };
    assert_golden("template-with-api-version.txt", "subchart", o);
}

#[test]
fn golden_template_with_crds() {
    let o = TemplateOptions {
        include_crds: true,
        ..opts()
    };
    assert_golden("template-with-crds.txt", "subchart", o);
}

#[test]
fn golden_template_show_only_one() {
    let o = TemplateOptions {
        show_only: vec!["templates/service.yaml".into()],
        ..opts()
    };
    assert_golden("template-show-only-one.txt", "subchart", o);
}

#[test]
fn golden_template_show_only_multiple() {
    let o = TemplateOptions {
        show_only: vec![
            "templates/service.yaml".into(),
            "charts/subcharta/templates/service.yaml".into(),
        ],
        ..opts()
    };
    assert_golden("template-show-only-multiple.txt", "subchart", o);
}

#[test]
fn golden_template_show_only_glob() {
    let o = TemplateOptions {
        show_only: vec!["templates/subdir/role*".into()],
        ..opts()
    };
    assert_golden("template-show-only-glob.txt", "subchart", o);
}

#[test]
fn golden_template_skip_tests() {
    let o = TemplateOptions {
        skip_tests: true,
        ..opts()
    };
    assert_golden("template-skip-tests.txt", "subchart", o);
}

#[test]
fn golden_template_subchart_cm() {
    let o = TemplateOptions {
        set: vec![
            "configmap.enabled=true".into(),
            "subchartb.enabled=true".into(),
        ],
        ..opts()
    };
    assert_golden("template-subchart-cm.txt", "subchart", o);
}

#[test]
fn golden_template_subchart_cm_set() {
    let o = TemplateOptions {
        set: vec![
            "configmap.enabled=true".into(),
            "subchartb.enabled=true".into(),
            "configmap.value=baz".into(),
        ],
        ..opts()
    };
    assert_golden("template-subchart-cm-set.txt", "subchart", o);
}

#[test]
fn golden_template_subchart_cm_set_file() {
    let o = TemplateOptions {
        values_files: vec![chart("subchart").join("extra_values.yaml")],
        ..opts()
    };
    assert_golden("template-subchart-cm-set-file.txt", "subchart", o);
}

#[test]
fn golden_object_order() {
    assert_golden("object-order.txt", "object-order", opts());
}

#[test]
fn golden_issue_9027() {
    assert_golden("issue-9027.txt", "issue-9027", opts());
}

#[test]
fn golden_template_chart_with_template_lib_dep() {
    assert_golden(
        "template-chart-with-template-lib-dep.txt",
        "chart-with-template-lib-dep",
        opts(),
    );
}

#[test]
fn golden_template_chart_with_template_lib_archive_dep() {
    assert_golden(
        "template-chart-with-template-lib-archive-dep.txt",
        "chart-with-template-lib-archive-dep",
        opts(),
    );
}

/// Error goldens: the message must carry the golden's meaning (same file, line and cause).
fn golden_error(file: &str) -> String {
    golden(file)
        .trim_start_matches("Error: ")
        .trim()
        .to_string()
}

#[test]
fn golden_template_lib_chart_is_rejected_by_type_validation() {
    let err = template(&chart("lib-chart"), &opts())
        .unwrap_err()
        .to_string();
    assert_eq!(err, golden_error("template-lib-chart.txt"));
}

#[test]
fn golden_template_chart_bad_type() {
    let err = template(&chart("chart-bad-type"), &opts())
        .unwrap_err()
        .to_string();
    assert_eq!(err, golden_error("template-chart-bad-type.txt"));
}

#[test]
fn golden_template_with_invalid_yaml() {
    let err = template(&chart("chart-with-template-with-invalid-yaml"), &opts()).unwrap_err();
    assert_eq!(
        err.to_string(),
        golden_error("template-with-invalid-yaml.txt")
    );
}

#[test]
fn golden_template_with_invalid_yaml_debug_returns_the_output() {
    let o = TemplateOptions {
        debug: true,
        ..opts()
    };
    match template(&chart("chart-with-template-with-invalid-yaml"), &o) {
        Err(Error::WithOutput { output, message }) => {
            let want = golden("template-with-invalid-yaml-debug.txt");
            let (want_out, want_err) = want.split_at(want.find("Error: ").expect("error line"));
            assert_eq!(output, want_out);
            assert_eq!(format!("Error: {message}\n"), want_err);
        }
        other => panic!("expected the rendered output with the error, got {other:?}"),
    }
}

#[test]
fn golden_template_with_invalid_template_expr() {
    let o = TemplateOptions {
        show_only: vec!["templates/alpine-pod.yaml".into()],
        debug: true,
        ..opts()
    };
    let err = template(&chart("chart-with-template-with-invalid-template-expr"), &o)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        golden_error("template-with-invalid-template-expr-debug-show-only.txt")
    );
}

/// Helm's negative schema chart: both violations are reported under the chart's name.
#[test]
fn helm_schema_negative_chart_reports_each_violation() {
    let err = template(&chart("chart-with-schema-negative"), &opts())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("values don't meet the specifications of the schema(s) in the following chart(s):\nempty:\n"), "{err}");
    assert!(
        err.contains("- at '/': missing property 'employmentInfo'"),
        "{err}"
    );
    assert!(
        err.contains("- at '/age': minimum: got -5, want 0"),
        "{err}"
    );
}

#[test]
fn helm_schema_negative_chart_renders_when_validation_is_skipped() {
    let o = TemplateOptions {
        skip_schema_validation: true,
        ..opts()
    };
    assert!(template(&chart("chart-with-schema-negative"), &o).is_ok());
}

#[test]
fn helm_schema_chart_with_valid_values_renders() {
    assert!(template(&chart("chart-with-schema"), &opts()).is_ok());
}

#[test]
fn helm_chart_with_missing_dependencies_is_refused() {
    let err = template(&chart("chart-missing-deps"), &opts())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "found in Chart.yaml, but missing in charts/ directory: reqsubchart2"
    );
}

#[test]
fn helm_archive_chart_loads_and_renders() {
    let out = template(&chart("compressedchart-0.1.0.tgz"), &opts()).unwrap();
    assert!(out.contains("# Source: compressedchart/"), "{out}");
}

#[test]
fn golden_template_no_args() {
    let err = flux_helm::template_args(&[], &mut opts())
        .unwrap_err()
        .to_string();
    assert_eq!(format!("Error: {err}\n"), golden("template-no-args.txt"));
}

#[test]
fn template_args_take_an_optional_release_name() {
    let mut o = opts();
    let chart = flux_helm::template_args(&["web".into(), "./chart".into()], &mut o).unwrap();
    assert_eq!(
        (o.release_name.as_str(), chart),
        ("web", PathBuf::from("./chart"))
    );
    let err =
        flux_helm::template_args(&["a".into(), "b".into(), "c".into()], &mut opts()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected at most two arguments, unexpected arguments: c"
    );
}
