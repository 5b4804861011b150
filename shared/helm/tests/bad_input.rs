//! Malformed charts and values: each gives a clear error naming the file (and line), never a panic.

use std::path::Path;

use flux_helm::{TemplateOptions, template};

fn write_chart(dir: &Path, files: &[(&str, &str)]) {
    for (name, body) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
}

fn render(files: &[(&str, &str)], opts: TemplateOptions) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("mychart");
    let mut all = vec![(
        "Chart.yaml",
        "apiVersion: v2\nname: mychart\nversion: 0.1.0\n",
    )];
    all.extend_from_slice(files);
    write_chart(&root, &all);
    template(&root, &opts).map_err(|e| e.to_string())
}

#[test]
fn template_syntax_error_names_template_and_line() {
    let err = render(
        &[("templates/cm.yaml", "a: 1\nb: {{ end }}\n")],
        TemplateOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.starts_with("parse error at (mychart/templates/cm.yaml:2)"),
        "{err}"
    );
}

#[test]
fn missing_required_value_names_template_line_and_message() {
    let err = render(
        &[(
            "templates/cm.yaml",
            "a: 1\nb: {{ required \"x is required\" .Values.x }}\n",
        )],
        TemplateOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.starts_with("execution error at (mychart/templates/cm.yaml:2:"),
        "{err}"
    );
    assert!(err.ends_with(": x is required"), "{err}");
}

#[test]
fn required_passes_present_values_through() {
    let out = render(
        &[(
            "templates/cm.yaml",
            "b: {{ required \"x is required\" .Values.x }}\n",
        )],
        TemplateOptions {
            set: vec!["x=hello".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert!(out.contains("b: hello"), "{out}");
}

#[test]
fn fail_reports_its_message_with_location() {
    let err = render(
        &[("templates/cm.yaml", "{{ fail \"stop here\" }}\n")],
        TemplateOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.starts_with("execution error at (mychart/templates/cm.yaml:1:"),
        "{err}"
    );
    assert!(err.ends_with("stop here"), "{err}");
}

#[test]
fn values_file_that_is_not_yaml_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "a: [1, 2\nb: c\n").unwrap();
    let err = render(
        &[],
        TemplateOptions {
            values_files: vec![bad.clone()],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        err.starts_with(&format!("failed to parse {}", bad.display())),
        "{err}"
    );
    assert!(err.contains("line"), "{err}");
}

#[test]
fn chart_values_yaml_that_is_not_yaml_is_reported() {
    let err = render(&[("values.yaml", "a: [\n")], TemplateOptions::default()).unwrap_err();
    assert!(err.starts_with("cannot load values.yaml"), "{err}");
}

#[test]
fn schema_violation_lists_chart_and_path() {
    let schema =
        r#"{"type":"object","required":["port"],"properties":{"port":{"type":"integer"}}}"#;
    let err = render(
        &[
            ("values.schema.json", schema),
            ("values.yaml", "port: 80\n"),
        ],
        TemplateOptions {
            set: vec!["port=abc".into()],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        err.starts_with("values don't meet the specifications of the schema(s)"),
        "{err}"
    );
    assert!(
        err.contains("mychart:\n- at '/port': got string, want integer"),
        "{err}"
    );
}

#[test]
fn schema_passes_valid_values() {
    let schema = r#"{"type":"object","properties":{"port":{"type":"integer"}}}"#;
    let out = render(
        &[
            ("values.schema.json", schema),
            ("values.yaml", "port: 80\n"),
            ("templates/a.yaml", "p: {{ .Values.port }}\n"),
        ],
        TemplateOptions::default(),
    )
    .unwrap();
    assert!(out.contains("p: 80"), "{out}");
}

#[test]
fn infinitely_recursive_include_is_stopped_with_an_error_within_a_2mib_stack() {
    // 2 MiB is a tokio worker's stack: the depth limit must trip before the stack runs out.
    let tpl =
        "{{- define \"loop\" -}}{{ include \"loop\" . }}{{- end -}}\nx: {{ include \"loop\" . }}\n";
    let err = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || render(&[("templates/a.yaml", tpl)], TemplateOptions::default()))
        .unwrap()
        .join()
        .unwrap()
        .unwrap_err();
    assert!(err.contains("mychart/templates/a.yaml"), "{err}");
    assert!(
        err.ends_with(
            "rendering template has a nested reference name: loop: unable to execute template"
        ),
        "{err}"
    );
    assert!(err.len() < 1000, "the error should be reported once: {err}");
}

#[test]
fn set_with_bad_syntax_is_a_values_error() {
    let err = render(
        &[],
        TemplateOptions {
            set: vec!["a={b".into()],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.starts_with("failed parsing --set data"), "{err}");
}

#[test]
fn show_only_of_unknown_template_is_an_error() {
    let err = render(
        &[("templates/a.yaml", "kind: ConfigMap\n")],
        TemplateOptions {
            show_only: vec!["templates/nope.yaml".into()],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err, "could not find template templates/nope.yaml in chart");
}

#[test]
fn missing_chart_yaml_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_chart(dir.path(), &[("values.yaml", "a: 1\n")]);
    let err = template(dir.path(), &TemplateOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(err, "Chart.yaml file is missing");
}

#[test]
fn declared_dependency_missing_from_charts_dir_is_reported() {
    let err = render(
        &[("Chart.yaml", "apiVersion: v2\nname: mychart\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 1.0.0\n")],
        TemplateOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        "found in Chart.yaml, but missing in charts/ directory: sub"
    );
}

fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // Write the raw name so `..` survives (the builder would refuse it).
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    gz.finish().unwrap()
}

#[test]
fn archive_with_path_escaping_the_chart_root_is_refused() {
    let data = tgz(&[
        (
            "mychart/Chart.yaml",
            b"apiVersion: v2\nname: mychart\nversion: 0.1.0\n",
        ),
        ("mychart/../../etc/evil", b"x"),
    ]);
    let err = flux_helm::loader::load_archive(&data)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "chart illegally references parent directory");
}

#[test]
fn archive_chart_renders_like_a_directory() {
    let data = tgz(&[
        (
            "mychart/Chart.yaml",
            b"apiVersion: v2\nname: mychart\nversion: 0.1.0\n",
        ),
        ("mychart/values.yaml", b"greeting: hi\n"),
        (
            "mychart/templates/cm.yaml",
            b"kind: ConfigMap\ndata:\n  g: {{ .Values.greeting }}\n",
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mychart-0.1.0.tgz");
    std::fs::write(&p, data).unwrap();
    let out = template(&p, &TemplateOptions::default()).unwrap();
    assert_eq!(
        out,
        "---\n# Source: mychart/templates/cm.yaml\nkind: ConfigMap\ndata:\n  g: hi\n"
    );
}

#[test]
fn garbage_archive_is_an_error_not_a_panic() {
    assert!(flux_helm::loader::load_archive(b"not a tarball").is_err());
}

#[test]
fn missing_chart_path_is_reported_like_helm() {
    let err = template(Path::new("/nonexistent/chart"), &TemplateOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(err, "path \"/nonexistent/chart\" not found");
}
