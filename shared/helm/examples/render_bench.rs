//! Benchmark: renders a generated chart of 100 templates with a 2,000-line values file and
//! prints the time per render and renders per second.
//!
//! Run: `cargo run -p flux-helm --release --example render_bench [-- ITERATIONS]`
//! (set `FLUX_HELM_BENCH_DIR=/some/dir` to keep the chart and compare with `helm template`).

use std::fmt::Write as _;
use std::time::Instant;

use flux_helm::{TemplateOptions, template};

const TEMPLATES: usize = 100;
const SERVICES: usize = 100;

/// 100 services × 20 lines = 2,000 lines of values.
fn values_yaml() -> String {
    let mut s = String::new();
    for i in 0..SERVICES {
        let _ = write!(
            s,
            "svc{i}:\n  enabled: true\n  name: service-{i}\n  image:\n    repository: registry.example.com/team/app-{i}\n    tag: \"1.{i}.0\"\n    pullPolicy: IfNotPresent\n  replicas: {r}\n  port: {p}\n  labels:\n    team: platform\n    tier: backend\n    index: \"{i}\"\n  env:\n  - name: MODE\n    value: production\n  - name: INDEX\n    value: \"{i}\"\n  resources:\n    cpu: 100m\n",
            r = i % 5 + 1,
            p = 8000 + i
        );
    }
    s
}

fn deployment(i: usize) -> String {
    format!(
        r#"{{{{- with .Values.svc{i} }}}}
{{{{- if .enabled }}}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ include "bench.fullname" $ }}}}-{{{{ .name }}}}
  labels:
    {{{{- include "bench.labels" $ | nindent 4 }}}}
    {{{{- toYaml .labels | nindent 4 }}}}
spec:
  replicas: {{{{ .replicas }}}}
  template:
    spec:
      containers:
      - name: {{{{ .name }}}}
        image: "{{{{ .image.repository }}}}:{{{{ .image.tag }}}}"
        imagePullPolicy: {{{{ .image.pullPolicy | default "Always" | quote }}}}
        ports:
        - containerPort: {{{{ .port }}}}
        env:
        {{{{- range .env }}}}
        - name: {{{{ .name | upper }}}}
          value: {{{{ printf "%q" .value }}}}
        {{{{- end }}}}
{{{{- end }}}}
{{{{- end }}}}
"#
    )
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot create a temporary directory: {e}");
            std::process::exit(1);
        }
    };
    // FLUX_HELM_BENCH_DIR keeps the generated chart, e.g. to time `helm template` on it.
    let root = match std::env::var_os("FLUX_HELM_BENCH_DIR") {
        Some(d) => std::path::PathBuf::from(d).join("bench"),
        None => dir.path().join("bench"),
    };
    let write = |rel: &str, body: &str| {
        let p = root.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create chart directory");
        }
        std::fs::write(p, body).expect("write chart file");
    };
    write(
        "Chart.yaml",
        "apiVersion: v2\nname: bench\nversion: 1.0.0\n",
    );
    let values = values_yaml();
    write("values.yaml", &values);
    write(
        "templates/_helpers.tpl",
        "{{- define \"bench.fullname\" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}\n{{- define \"bench.labels\" -}}app.kubernetes.io/instance: {{ .Release.Name }}\napp.kubernetes.io/managed-by: {{ .Release.Service }}{{- end -}}\n",
    );
    for i in 0..TEMPLATES {
        write(
            &format!("templates/deploy-{i:03}.yaml"),
            &deployment(i % SERVICES),
        );
    }

    let opts = TemplateOptions::default();
    let first = match template(&root, &opts) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("render failed: {e}");
            std::process::exit(1);
        }
    };
    let start = Instant::now();
    for _ in 0..iterations {
        if let Err(e) = template(&root, &opts) {
            eprintln!("render failed: {e}");
            std::process::exit(1);
        }
    }
    let elapsed = start.elapsed();
    let per = elapsed / iterations as u32;
    println!(
        "chart: {TEMPLATES} templates, {} values lines, {} output lines",
        values.lines().count(),
        first.lines().count()
    );
    println!(
        "{iterations} renders (load + values + render + sort) in {:.3} s: {:.2} ms per render, {:.1} renders/s",
        elapsed.as_secs_f64(),
        per.as_secs_f64() * 1000.0,
        iterations as f64 / elapsed.as_secs_f64()
    );
}
