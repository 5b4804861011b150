//! Rendering behaviour of Helm's template objects and functions, on small generated charts.

use std::path::Path;

use flux_helm::{TemplateOptions, loader, render_chart, template};

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, body) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
}

const CHART: &str = "apiVersion: v2\nname: app\nversion: 1.2.3\nappVersion: \"9.9\"\n";

fn render_with(files: &[(&str, &str)], opts: TemplateOptions) -> String {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("app");
    let mut all = vec![("Chart.yaml", CHART)];
    all.extend_from_slice(files);
    write(&root, &all);
    match template(&root, &opts) {
        Ok(s) => s,
        Err(e) => panic!("render failed: {e}"),
    }
}

fn render(files: &[(&str, &str)]) -> String {
    render_with(files, TemplateOptions::default())
}

/// The body of the document rendered from `path` (without the `# Source` line).
fn doc(out: &str, path: &str) -> String {
    let marker = format!("# Source: {path}\n");
    let start = out
        .find(&marker)
        .unwrap_or_else(|| panic!("{path} not in output:\n{out}"))
        + marker.len();
    let rest = &out[start..];
    let end = rest.find("\n---\n").map(|i| i + 1).unwrap_or(rest.len());
    format!("{}\n", rest[..end].trim_end())
}

#[test]
fn files_get_lines_glob_as_config_and_as_secrets() {
    let out = render(&[
        ("files/a.txt", "alpha\nbeta\n"),
        ("files/b.txt", "bravo"),
        (
            "templates/cm.yaml",
            "get: {{ .Files.Get \"files/b.txt\" }}\nlines: {{ range .Files.Lines \"files/a.txt\" }}<{{ . }}>{{ end }}\nconfig:\n{{ (.Files.Glob \"files/*\").AsConfig | indent 2 }}\nsecrets:\n{{ (.Files.Glob \"files/b.txt\").AsSecrets | indent 2 }}\nmissing: '{{ .Files.Get \"nope\" }}'\n",
        ),
    ]);
    assert_eq!(
        doc(&out, "app/templates/cm.yaml"),
        "get: bravo\nlines: <alpha><beta>\nconfig:\n  a.txt: |\n    alpha\n    beta\n  b.txt: bravo\nsecrets:\n  b.txt: YnJhdm8=\nmissing: ''\n"
    );
}

#[test]
fn chart_release_template_and_capabilities_objects() {
    let out = render_with(
        &[(
            "templates/x.yaml",
            "chart: {{ .Chart.Name }}-{{ .Chart.Version }}-{{ .Chart.AppVersion }}-{{ .Chart.IsRoot }}\nrelease: {{ .Release.Name }}/{{ .Release.Namespace }}/{{ .Release.IsInstall }}/{{ .Release.Revision }}/{{ .Release.Service }}\ntemplate: {{ .Template.Name }} in {{ .Template.BasePath }}\nkube: {{ .Capabilities.KubeVersion }} {{ .Capabilities.KubeVersion.Major }}.{{ .Capabilities.KubeVersion.Minor }}\napps: {{ .Capabilities.APIVersions.Has \"apps/v1\" }} {{ .Capabilities.APIVersions.Has \"nope/v1\" }}\n",
        )],
        TemplateOptions {
            release_name: "rel".into(),
            namespace: "ns".into(),
            ..Default::default()
        },
    );
    assert_eq!(
        doc(&out, "app/templates/x.yaml"),
        "chart: app-1.2.3-9.9-true\nrelease: rel/ns/true/1/Helm\ntemplate: app/templates/x.yaml in app/templates\nkube: v1.20.0 1.20\napps: true false\n"
    );
}

#[test]
fn values_numbers_print_as_go_float64() {
    let out = render(&[
        ("values.yaml", "small: 80\nbig: 1000000\nfrac: 0.5\n"),
        (
            "templates/x.yaml",
            "a: {{ .Values.small }}\nb: {{ .Values.big }}\nc: {{ .Values.frac }}\nd: {{ .Values.big | toYaml }}\n",
        ),
    ]);
    assert_eq!(
        doc(&out, "app/templates/x.yaml"),
        "a: 80\nb: 1e+06\nc: 0.5\nd: 1000000\n"
    );
}

#[test]
fn set_values_are_int64_and_null_deletes_defaults() {
    let out = render_with(
        &[
            ("values.yaml", "keep: 1\ndrop: 2\n"),
            ("templates/x.yaml", "{{ toYaml .Values }}\n"),
        ],
        TemplateOptions {
            set: vec!["drop=null".into(), "num=1000000".into()],
            ..Default::default()
        },
    );
    assert_eq!(doc(&out, "app/templates/x.yaml"), "keep: 1\nnum: 1000000\n");
}

#[test]
fn tpl_renders_strings_with_defines_and_values() {
    let out = render(&[
        (
            "values.yaml",
            "greeting: \"hello {{ .Values.name }}\"\nname: world\n",
        ),
        (
            "templates/x.yaml",
            "a: {{ tpl .Values.greeting . }}\nb: {{ tpl \"{{ define \\\"t\\\" }}inner{{ end }}{{ include \\\"t\\\" . }}\" . }}\n",
        ),
    ]);
    assert_eq!(
        doc(&out, "app/templates/x.yaml"),
        "a: hello world\nb: inner\n"
    );
}

#[test]
fn notes_partials_and_empty_files_are_not_output() {
    let out = render(&[
        ("templates/NOTES.txt", "kind: Notes\n"),
        (
            "templates/_helpers.tpl",
            "{{ define \"x\" }}kind: Partial{{ end }}",
        ),
        (
            "templates/empty.yaml",
            "{{- if false }}kind: Never{{ end }}",
        ),
        (
            "templates/real.yaml",
            "kind: {{ include \"x\" . | trimPrefix \"kind: \" }}\n",
        ),
    ]);
    assert_eq!(
        out,
        "---\n# Source: app/templates/real.yaml\nkind: Partial\n"
    );
}

const PARENT_WITH_SUB: &str = "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: sub\n  version: \">=0.1.0\"\n  condition: sub.enabled\n  tags: [backend]\n  import-values:\n  - child: exported\n    parent: imported\n";

fn sub_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Chart.yaml", PARENT_WITH_SUB),
        ("values.yaml", "global:\n  region: eu\nsub:\n  port: 81\n"),
        (
            "templates/p.yaml",
            "imported: {{ (.Values.imported | default dict).answer }}\nsubport: {{ .Values.sub.port }}\nname: {{ include \"sub.name\" . }}\n",
        ),
        (
            "charts/sub/Chart.yaml",
            "apiVersion: v2\nname: sub\nversion: 0.2.0\n",
        ),
        (
            "charts/sub/values.yaml",
            "port: 80\nexported:\n  answer: 42\nglobal:\n  region: us\n  tier: gold\n",
        ),
        (
            "charts/sub/templates/_n.tpl",
            "{{ define \"sub.name\" }}from-sub{{ end }}",
        ),
        (
            "charts/sub/templates/s.yaml",
            "port: {{ .Values.port }}\nregion: {{ .Values.global.region }}\ntier: {{ .Values.global.tier }}\nchart: {{ .Chart.Name }} {{ .Chart.IsRoot }}\n",
        ),
    ]
}

#[test]
fn subcharts_get_scoped_values_globals_and_export_values() {
    let out = render(&sub_files());
    assert_eq!(
        doc(&out, "app/charts/sub/templates/s.yaml"),
        "port: 81\nregion: eu\ntier: gold\nchart: sub false\n"
    );
    assert_eq!(
        doc(&out, "app/templates/p.yaml"),
        "imported: 42\nsubport: 81\nname: from-sub\n"
    );
}

/// The subchart fixture without the parent template that needs the subchart.
fn sub_only() -> Vec<(&'static str, &'static str)> {
    sub_files()
        .into_iter()
        .filter(|(n, _)| *n != "templates/p.yaml")
        .collect()
}

#[test]
fn condition_false_removes_the_subchart() {
    let out = render_with(
        &sub_only(),
        TemplateOptions {
            set: vec!["sub.enabled=false".into()],
            ..Default::default()
        },
    );
    assert!(!out.contains("charts/sub/templates/s.yaml"), "{out}");
}

#[test]
fn false_tag_removes_the_subchart_unless_its_condition_says_otherwise() {
    let off = render_with(
        &sub_only(),
        TemplateOptions {
            set: vec!["tags.backend=false".into()],
            ..Default::default()
        },
    );
    assert!(!off.contains("charts/sub/templates/s.yaml"), "{off}");
    let on = render_with(
        &sub_only(),
        TemplateOptions {
            set: vec!["tags.backend=false".into(), "sub.enabled=true".into()],
            ..Default::default()
        },
    );
    assert!(on.contains("charts/sub/templates/s.yaml"), "{on}");
}

#[test]
fn parent_defines_override_subchart_defines_of_the_same_name() {
    let mut files = sub_files().to_vec();
    files.push((
        "templates/_override.tpl",
        "{{ define \"sub.name\" }}from-parent{{ end }}",
    ));
    let out = render(&files);
    assert!(
        doc(&out, "app/templates/p.yaml").contains("name: from-parent"),
        "{out}"
    );
}

#[test]
fn library_subchart_templates_are_only_used_as_partials() {
    let out = render(&[
        (
            "Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: lib\n  version: 0.1.0\n",
        ),
        ("templates/a.yaml", "v: {{ include \"lib.v\" . }}\n"),
        (
            "charts/lib/Chart.yaml",
            "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
        ),
        (
            "charts/lib/templates/_v.tpl",
            "{{ define \"lib.v\" }}from-lib{{ end }}",
        ),
        ("charts/lib/templates/cm.yaml", "kind: ConfigMap\n"),
    ]);
    assert_eq!(out, "---\n# Source: app/templates/a.yaml\nv: from-lib\n");
}

#[test]
fn installing_a_library_chart_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "Chart.yaml",
            "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
        )],
    );
    let err = template(dir.path(), &TemplateOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(err, "library charts are not installable");
}

#[test]
fn hooks_are_separated_with_weights_and_policies_and_printed_last() {
    let files = [
        ("Chart.yaml", CHART),
        (
            "templates/job.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"5\"\n    helm.sh/hook-delete-policy: hook-succeeded\n",
        ),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &files);
    let r = render_chart(
        loader::load(dir.path()).unwrap(),
        &TemplateOptions::default(),
    )
    .unwrap();
    assert_eq!(r.manifests.len(), 1);
    assert_eq!(r.hooks.len(), 1);
    let h = &r.hooks[0];
    assert_eq!(
        (h.name.as_str(), h.kind.as_str(), h.weight),
        ("migrate", "Job", 5)
    );
    assert_eq!(h.events, vec!["pre-install", "pre-upgrade"]);
    assert_eq!(h.delete_policies, vec!["hook-succeeded"]);
    let out = template(dir.path(), &TemplateOptions::default()).unwrap();
    assert!(out.find("name: cm").unwrap() < out.find("name: migrate").unwrap());
    let no_hooks = template(
        dir.path(),
        &TemplateOptions {
            no_hooks: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        !no_hooks.contains("migrate") && no_hooks.contains("name: cm"),
        "{no_hooks}"
    );
}

#[test]
fn lookup_returns_an_empty_map_offline_and_json_yaml_helpers_round_trip() {
    let out = render(&[(
        "templates/x.yaml",
        "l: {{ lookup \"v1\" \"Secret\" \"ns\" \"s\" | len }}\nj: {{ dict \"b\" 1 \"a\" \"<x>\" | toJson }}\ny: {{ (fromYaml \"a: [1, 2]\").a | toJson }}\nt: {{ (fromJson \"{\\\"k\\\": 2}\").k }}\n",
    )]);
    assert_eq!(
        doc(&out, "app/templates/x.yaml"),
        "l: 0\nj: {\"a\":\"\\u003cx\\u003e\",\"b\":1}\ny: [1,2]\nt: 2\n"
    );
}

#[test]
fn kube_version_constraint_of_the_chart_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 1.0.0\nkubeVersion: \">=1.25.0\"\n",
        )],
    );
    let err = template(dir.path(), &TemplateOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "chart requires kubeVersion: >=1.25.0 which is incompatible with Kubernetes v1.20.0"
    );
    let ok = template(
        dir.path(),
        &TemplateOptions {
            kube_version: Some("1.30.2".into()),
            ..Default::default()
        },
    );
    assert!(ok.is_ok());
}

#[test]
fn invalid_release_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("Chart.yaml", CHART)]);
    let err = template(
        dir.path(),
        &TemplateOptions {
            release_name: "Bad_Name".into(),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("release name \"Bad_Name\": invalid release name"),
        "{err}"
    );
}

#[test]
fn requirements_yaml_declares_v1_dependencies() {
    let out = render(&[
        ("Chart.yaml", "apiVersion: v1\nname: app\nversion: 1.0.0\n"),
        (
            "requirements.yaml",
            "dependencies:\n- name: sub\n  version: 0.1.0\n  condition: sub.enabled\n",
        ),
        ("values.yaml", "sub:\n  enabled: false\n"),
        (
            "charts/sub/Chart.yaml",
            "apiVersion: v1\nname: sub\nversion: 0.1.0\n",
        ),
        ("charts/sub/templates/x.yaml", "kind: ConfigMap\n"),
        ("templates/y.yaml", "kind: Secret\n"),
    ]);
    assert_eq!(out, "---\n# Source: app/templates/y.yaml\nkind: Secret\n");
}

#[test]
fn set_json_set_file_and_set_literal_apply_in_helms_order() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("motd.txt");
    std::fs::write(&f, "hello\nworld\n").unwrap();
    let out = render_with(
        &[("templates/x.yaml", "{{ toYaml .Values }}\n")],
        TemplateOptions {
            set_json: vec![r#"obj={"n":1,"l":["a"]},over="json""#.into()],
            set: vec!["over=set".into()],
            set_file: vec![format!("motd={}", f.display())],
            set_literal: vec!["lit=a,b".into()],
            ..Default::default()
        },
    );
    assert_eq!(
        doc(&out, "app/templates/x.yaml"),
        "lit: a,b\nmotd: |\n  hello\n  world\nobj:\n  l:\n  - a\n  \"n\": 1\nover: set\n"
    );
}

#[test]
fn values_are_read_as_yaml_1_1_like_helm() {
    let out = render(&[
        ("values.yaml", "flag: yes\nquoted: \"yes\"\nmode: 0644\n"),
        (
            "templates/x.yaml",
            "flag: {{ .Values.flag }}\nquoted: {{ .Values.quoted }}\nmode: {{ .Values.mode }}\n",
        ),
    ]);
    assert_eq!(
        doc(&out, "app/templates/x.yaml"),
        "flag: true\nquoted: yes\nmode: 420\n"
    );
}

#[test]
fn ranging_over_files_glob_gives_paths_and_contents() {
    let out = render(&[
        ("conf/a.conf", "A"),
        ("conf/b.conf", "B"),
        ("conf/skip.txt", "S"),
        (
            "templates/cm.yaml",
            "{{- range $path, $_ := .Files.Glob \"conf/*.conf\" }}\n{{ base $path }}: {{ $.Files.Get $path }}\n{{- end }}\n",
        ),
    ]);
    assert_eq!(doc(&out, "app/templates/cm.yaml"), "a.conf: A\nb.conf: B\n");
}

/// A chart written the way `helm create` scaffolds them (helpers, labels, nindent, with/range,
/// semverCompare on the kube version, a test hook), checked line for line.
#[test]
fn typical_application_chart_renders_exactly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let want = std::fs::read_to_string(root.join("webapp-expected.txt")).unwrap();
    let got = template(
        &root.join("webapp"),
        &TemplateOptions {
            release_name: "rel".into(),
            ..Default::default()
        },
    )
    .unwrap();
    if got != want {
        let first = want.lines().zip(got.lines()).position(|(a, b)| a != b);
        panic!("output differs (first differing line {first:?}):\n{got}");
    }
}

#[test]
fn aliased_dependencies_render_once_per_alias_with_their_own_values() {
    let out = render(&[
        (
            "Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: db\n  version: 1.0.0\n  alias: primary\n- name: db\n  version: 1.0.0\n  alias: replica\n",
        ),
        (
            "values.yaml",
            "primary:\n  role: rw\nreplica:\n  role: ro\n",
        ),
        (
            "charts/db/Chart.yaml",
            "apiVersion: v2\nname: db\nversion: 1.0.0\n",
        ),
        ("charts/db/values.yaml", "role: none\n"),
        (
            "charts/db/templates/cm.yaml",
            "name: {{ .Chart.Name }}\nrole: {{ .Values.role }}\n",
        ),
    ]);
    assert_eq!(
        doc(&out, "app/charts/primary/templates/cm.yaml"),
        "name: primary\nrole: rw\n"
    );
    assert_eq!(
        doc(&out, "app/charts/replica/templates/cm.yaml"),
        "name: replica\nrole: ro\n"
    );
    assert!(!out.contains("charts/db/"), "{out}");
}
