//! Render benchmark: a set of 100 chart-like templates with shared helpers over a values tree of
//! about 2,000 lines; prints parse time, time per full render and renders per second.
//! Run with `cargo bench -p flux-gotemplate`.

use std::time::Instant;

use flux_gotemplate::{FuncError, Template, Value, context_func, sprig};

const HELPERS: &str = r#"{{- define "app.name" -}}{{ default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "app.fullname" -}}{{- if .Values.fullnameOverride -}}{{ .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}{{- else -}}{{- $name := default .Chart.Name .Values.nameOverride -}}{{ printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}{{- end -}}{{- end -}}
{{- define "app.labels" -}}
app.kubernetes.io/name: {{ template "app.name" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}"#;

fn template_body(i: usize) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ template "app.fullname" . }}}}-{i}
  labels:
{{{{ include "app.labels" . | indent 4 }}}}
spec:
  replicas: {{{{ .Values.section{i}.replicas }}}}
  template:
    spec:
      containers:
        - name: c{i}
          image: "{{{{ .Values.section{i}.image.repository }}}}:{{{{ .Values.section{i}.image.tag | default "latest" }}}}"
          env:
          {{{{- range $k, $v := .Values.section{i}.env }}}}
            - name: {{{{ $k | upper }}}}
              value: {{{{ $v | quote }}}}
          {{{{- end }}}}
          {{{{- if .Values.section{i}.resources }}}}
          resources: {{{{ toJson .Values.section{i}.resources }}}}
          {{{{- end }}}}
          ports:
          {{{{- range .Values.section{i}.ports }}}}
            - containerPort: {{{{ . }}}}
          {{{{- end }}}}
"#
    )
}

fn values() -> Value {
    let mut root = serde_json::Map::new();
    root.insert("nameOverride".into(), "".into());
    root.insert("fullnameOverride".into(), "".into());
    for i in 0..100 {
        root.insert(
            format!("section{i}"),
            serde_json::json!({
                "replicas": i % 5 + 1,
                "image": {"repository": format!("registry.example.com/team/app{i}"), "tag": "1.2.3"},
                "env": {"LOG_LEVEL": "info", "MODE": "prod", "REGION": "eu-west-1", "INDEX": i},
                "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m"}},
                "ports": [8080, 8443, 9090],
            }),
        );
    }
    let values = Value::from_json_floats(serde_json::Value::Object(root));
    Value::map_from([
        ("Values", values),
        (
            "Release",
            Value::map_from([
                ("Name", Value::from("rel")),
                ("Namespace", Value::from("default")),
            ]),
        ),
        (
            "Chart",
            Value::map_from([
                ("Name", Value::from("app")),
                ("Version", Value::from("0.1.0+meta")),
            ]),
        ),
    ])
}

fn main() {
    let data = values();
    let lines = flux_gotemplate::sprig::to_json(&data, true, false)
        .map(|s| s.lines().count())
        .unwrap_or(0);
    let names: Vec<String> = (0..100)
        .map(|i| format!("chart/templates/t{i}.yaml"))
        .collect();

    let start = Instant::now();
    let mut t = Template::new("chart");
    t.funcs(sprig::funcs());
    // Helm's `include`, as the helm crate defines it on top of FuncContext.
    t.func(
        "include",
        context_func(|ctx, args| {
            let name = args
                .first()
                .and_then(Value::as_str)
                .ok_or_else(|| FuncError::failed("name"))?;
            let data = args.get(1).cloned().unwrap_or_default();
            Ok(Value::String(ctx.execute_template(name, &data)?))
        }),
    );
    if let Err(e) = t.parse("chart/templates/_helpers.tpl", HELPERS) {
        eprintln!("parse error: {e}");
        return;
    }
    for (i, name) in names.iter().enumerate() {
        if let Err(e) = t.parse(name, &template_body(i)) {
            eprintln!("parse error: {e}");
            return;
        }
    }
    let parse = start.elapsed();

    let render_all = || -> usize {
        let mut bytes = 0;
        for name in &names {
            match t.execute(name, &data) {
                Ok(out) => bytes += out.len(),
                Err(e) => {
                    eprintln!("render error: {e}");
                    return 0;
                }
            }
        }
        bytes
    };
    let bytes = render_all();
    let iterations = 200;
    let start = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(render_all());
    }
    let per = start.elapsed() / iterations;
    println!(
        "values: {lines} lines (pretty JSON); templates: {}",
        names.len()
    );
    println!("parse 101 templates: {parse:?}");
    println!("render 100 templates ({bytes} bytes): {per:?} per render");
    println!("throughput: {:.1} renders/s", 1.0 / per.as_secs_f64());
}
