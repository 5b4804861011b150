//! `helm template`: values from files and `--set`, dependency processing, schema validation,
//! rendering, hook separation, install-order sorting and the printed output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flux_gotemplate::{Template, Value, sprig};
use serde_json::Map;

use crate::chart::Chart;
use crate::error::Error;
use crate::manifest::{Hook, Manifest, sort_manifests, split_manifests};
use crate::objects::{ApiVersions, DEFAULT_API_VERSIONS, KubeVersion};
use crate::{dependencies, engine, loader, schema, strvals, values, yaml};

/// The Kubernetes version Helm assumes without a cluster (`.Capabilities.KubeVersion`).
pub const DEFAULT_KUBE_VERSION: &str = "v1.20.0";
/// The Helm version templates see in `.Capabilities.HelmVersion`.
pub const HELM_VERSION: &str = "v4.0.0";

/// Flags of `helm template`.
#[derive(Clone, Default)]
pub struct TemplateOptions {
    /// Release name; `release-name` when empty and no name template is given.
    pub release_name: String,
    /// Namespace; `default` when empty.
    pub namespace: String,
    /// `--set` arguments, in order.
    pub set: Vec<String>,
    /// `--set-string` arguments, in order.
    pub set_string: Vec<String>,
    /// `--set-json` arguments, in order (applied before `--set`, as Helm does).
    pub set_json: Vec<String>,
    /// `--set-file` arguments (`key=path`), in order.
    pub set_file: Vec<String>,
    /// `--set-literal` arguments, in order.
    pub set_literal: Vec<String>,
    /// `-f/--values` files, in order.
    pub values_files: Vec<PathBuf>,
    /// `--kube-version`.
    pub kube_version: Option<String>,
    /// `--api-versions` (each may hold comma-separated values).
    pub api_versions: Vec<String>,
    /// `--include-crds`.
    pub include_crds: bool,
    /// `--skip-tests`.
    pub skip_tests: bool,
    /// `--no-hooks`: leave hooks (and tests) out of the output.
    pub no_hooks: bool,
    /// `--show-only` paths or globs relative to the chart (`templates/x.yaml`).
    pub show_only: Vec<String>,
    /// `--name-template`.
    pub name_template: Option<String>,
    /// `--is-upgrade`.
    pub is_upgrade: bool,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
    /// `--debug`: on invalid YAML, return the rendered output with the error.
    pub debug: bool,
    /// Answers `lookup` from a cluster; without it `lookup` returns empty maps as offline Helm.
    pub lookup: Option<Arc<dyn crate::funcs::Lookup>>,
}

impl std::fmt::Debug for TemplateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values given with --set may be secrets: show how many, not what.
        f.debug_struct("TemplateOptions")
            .field("release_name", &self.release_name)
            .field("namespace", &self.namespace)
            .field("set", &self.set.len())
            .field("set_string", &self.set_string.len())
            .field("set_json", &self.set_json.len())
            .field("set_file", &self.set_file)
            .field("set_literal", &self.set_literal.len())
            .field("values_files", &self.values_files)
            .field("kube_version", &self.kube_version)
            .field("api_versions", &self.api_versions)
            .field("include_crds", &self.include_crds)
            .field("skip_tests", &self.skip_tests)
            .field("no_hooks", &self.no_hooks)
            .field("show_only", &self.show_only)
            .field("name_template", &self.name_template)
            .field("is_upgrade", &self.is_upgrade)
            .field("debug", &self.debug)
            .field("lookup", &self.lookup.is_some())
            .finish()
    }
}

/// What one render produced, for callers (helm-controller) that need more than the text.
#[derive(Clone)]
pub struct Rendered {
    pub release_name: String,
    /// The coalesced values the templates saw.
    pub values: Map<String, serde_json::Value>,
    /// Non-hook manifests in install order.
    pub manifests: Vec<Manifest>,
    /// Hooks in install order, with their events, weights and delete policies.
    pub hooks: Vec<Hook>,
    /// CRDs from crds/ directories: (path, content).
    pub crds: Vec<(String, String)>,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values and rendered Secrets may hold credentials: list what was rendered, not content.
        f.debug_struct("Rendered")
            .field("release_name", &self.release_name)
            .field("values", &format_args!("{} keys", self.values.len()))
            .field(
                "manifests",
                &self
                    .manifests
                    .iter()
                    .map(|m| (&m.name, &m.kind))
                    .collect::<Vec<_>>(),
            )
            .field(
                "hooks",
                &self
                    .hooks
                    .iter()
                    .map(|h| (&h.path, &h.kind, &h.events))
                    .collect::<Vec<_>>(),
            )
            .field(
                "crds",
                &self.crds.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Helm's positional arguments `[NAME] CHART`: sets the release name in `opts` and returns the
/// chart, with Helm's errors for missing or extra arguments.
pub fn template_args(args: &[String], opts: &mut TemplateOptions) -> Result<PathBuf, Error> {
    match args {
        [] => Err(Error::Option(
            "\"helm template\" requires at least 1 argument\n\nUsage:  helm template [NAME] [CHART] [flags]"
                .into(),
        )),
        [chart] => Ok(PathBuf::from(chart)),
        [name, chart] => {
            if opts.name_template.as_deref().is_some_and(|t| !t.is_empty()) {
                return Err(Error::Option(
                    "cannot set --name-template and also specify a name".into(),
                ));
            }
            opts.release_name = name.clone();
            Ok(PathBuf::from(chart))
        }
        [_, _, rest @ ..] => Err(Error::Option(format!(
            "expected at most two arguments, unexpected arguments: {}",
            rest.join(", ")
        ))),
    }
}

/// Renders `chart_path` (a directory or .tgz) and returns exactly what `helm template` prints.
pub fn template(chart_path: &Path, opts: &TemplateOptions) -> Result<String, Error> {
    let chart = loader::load(chart_path)?;
    template_chart(chart, opts)
}

/// Like [`template`] for an already loaded chart.
pub fn template_chart(chart: Chart, opts: &TemplateOptions) -> Result<String, Error> {
    let r = render_chart(chart, opts)?;
    print(&r, opts)
}

/// Reads `-f` files and `--set` arguments into user values, as Helm's `MergeValues`.
pub fn user_values(opts: &TemplateOptions) -> Result<Map<String, serde_json::Value>, Error> {
    let mut base = Map::new();
    for f in &opts.values_files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
        let v = yaml::parse_values(&text)
            .map_err(|e| Error::Values(format!("failed to parse {}: {e}", f.display())))?;
        values::merge_maps(&mut base, v);
    }
    for s in &opts.set_json {
        strvals::parse_json(s, &mut base)
            .map_err(|e| Error::Values(format!("failed parsing --set-json data: {e}")))?;
    }
    for s in &opts.set {
        strvals::parse_into(s, &mut base)
            .map_err(|e| Error::Values(format!("failed parsing --set data: {e}")))?;
    }
    for s in &opts.set_string {
        strvals::parse_into_string(s, &mut base)
            .map_err(|e| Error::Values(format!("failed parsing --set-string data: {e}")))?;
    }
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("open {p}: {e}"));
    for s in &opts.set_file {
        strvals::parse_file(s, &mut base, &read)
            .map_err(|e| Error::Values(format!("failed parsing --set-file data: {e}")))?;
    }
    for s in &opts.set_literal {
        strvals::parse_literal(s, &mut base)
            .map_err(|e| Error::Values(format!("failed parsing --set-literal data: {e}")))?;
    }
    Ok(base)
}

fn release_name(opts: &TemplateOptions) -> Result<String, Error> {
    if !opts.release_name.is_empty() {
        return Ok(opts.release_name.clone());
    }
    if let Some(nt) = opts.name_template.as_deref().filter(|s| !s.is_empty()) {
        let mut t = Template::new("name-template");
        t.funcs(sprig::funcs());
        t.parse("name-template", nt)
            .map_err(|e| Error::Option(e.to_string()))?;
        return t
            .execute("name-template", &Value::Nil)
            .map_err(|e| Error::Option(e.to_string()));
    }
    Ok("release-name".into())
}

fn validate_release_name(name: &str) -> Result<(), Error> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() || name.len() > 53 || !name.split('.').all(label_ok) {
        return Err(Error::Option(format!(
            "release name {name:?}: invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"
        )));
    }
    Ok(())
}

fn check_dependencies(chart: &Chart) -> Result<(), Error> {
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !chart.dependencies.iter().any(|d| d.name() == r.name))
        .map(|r| r.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Load(format!(
            "found in Chart.yaml, but missing in charts/ directory: {}",
            missing.join(", ")
        )));
    }
    Ok(())
}

fn validate_schemas(
    chart: &Chart,
    vals: &Map<String, serde_json::Value>,
    out: &mut String,
) -> Result<(), Error> {
    if let Some(raw) = &chart.schema {
        let schema: serde_json::Value = serde_json::from_slice(raw).map_err(|e| {
            Error::Values(format!(
                "unable to parse values.schema.json of {}: {e}",
                chart.name()
            ))
        })?;
        let errs = schema::validate(&schema, &serde_json::Value::Object(vals.clone()));
        if !errs.is_empty() {
            out.push_str(&format!("{}:\n{}\n", chart.name(), errs.join("\n")));
        }
    }
    for sub in &chart.dependencies {
        let sv = match vals.get(sub.name()) {
            Some(serde_json::Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        validate_schemas(sub, &sv, out)?;
    }
    Ok(())
}

/// Loads values, processes dependencies, renders and sorts; the structured result.
pub fn render_chart(mut chart: Chart, opts: &TemplateOptions) -> Result<Rendered, Error> {
    if !matches!(chart.metadata.chart_type.as_str(), "" | "application") {
        return Err(Error::Option(format!(
            "{} charts are not installable",
            chart.metadata.chart_type
        )));
    }
    let user = user_values(opts)?;
    check_dependencies(&chart)?;
    let name = release_name(opts)?;
    validate_release_name(&name)?;
    let namespace = if opts.namespace.is_empty() {
        "default".to_string()
    } else {
        opts.namespace.clone()
    };

    let kube = match &opts.kube_version {
        Some(v) if !v.is_empty() => KubeVersion::parse(v)
            .ok_or_else(|| Error::Option(format!("invalid kube version {v:?}")))?,
        _ => KubeVersion::parse(DEFAULT_KUBE_VERSION)
            .ok_or_else(|| Error::Option("invalid default kube version".into()))?,
    };
    let mut apis: Vec<String> = DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect();
    for a in &opts.api_versions {
        apis.extend(
            a.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
    }

    dependencies::process_dependencies(&mut chart, &user)?;

    if !chart.metadata.kube_version.is_empty()
        && !crate::semver::satisfies(&chart.metadata.kube_version, &kube.version)
    {
        return Err(Error::Option(format!(
            "chart requires kubeVersion: {} which is incompatible with Kubernetes {}",
            chart.metadata.kube_version, kube.version
        )));
    }

    let vals = values::coalesce_values(&chart, &user)?;
    if !opts.skip_schema_validation {
        let mut report = String::new();
        validate_schemas(&chart, &vals, &mut report)?;
        if !report.is_empty() {
            return Err(Error::Schema(report));
        }
    }

    let capabilities = Value::map_from([
        ("KubeVersion", Value::Object(Arc::new(kube))),
        (
            "APIVersions",
            Value::Object(Arc::new(ApiVersions { versions: apis })),
        ),
        (
            "HelmVersion",
            Value::map_from([
                ("Version", Value::from(HELM_VERSION)),
                ("GitCommit", Value::from("")),
                ("GitTreeState", Value::from("")),
                ("GoVersion", Value::from("")),
            ]),
        ),
    ]);
    let release = Value::map_from([
        ("Name", Value::from(name.as_str())),
        ("Namespace", Value::from(namespace.as_str())),
        ("IsUpgrade", Value::Bool(opts.is_upgrade)),
        ("IsInstall", Value::Bool(!opts.is_upgrade)),
        ("Revision", Value::Int(1)),
        ("Service", Value::from("Helm")),
    ]);
    let top = Value::map_from([
        (
            "Values",
            Value::from(serde_json::Value::Object(vals.clone())),
        ),
        ("Release", release),
        ("Capabilities", capabilities),
    ]);

    let mut files = engine::render_with(&chart, &top, opts.lookup.clone())?;
    files.retain(|k, _| !k.ends_with("NOTES.txt"));

    let (hooks, manifests) = match sort_manifests(&files) {
        Ok(x) => x,
        Err(e) => {
            if opts.debug {
                let mut b = String::new();
                for (name, content) in &files {
                    if content.trim().is_empty() {
                        continue;
                    }
                    b.push_str(&format!("---\n# Source: {name}\n{content}\n"));
                }
                return Err(Error::WithOutput {
                    output: format!("{}\n", b.trim()),
                    message: e.to_string(),
                });
            }
            return Err(Error::Render(format!(
                "{e}\n\nUse --debug flag to render out invalid YAML"
            )));
        }
    };
    let crds = chart
        .crd_objects(chart.name())
        .into_iter()
        .map(|(p, d)| (p, String::from_utf8_lossy(d).into_owned()))
        .collect();
    Ok(Rendered {
        release_name: name,
        values: vals,
        manifests,
        hooks,
        crds,
    })
}

/// Formats a render as `helm template` prints it.
pub fn print(r: &Rendered, opts: &TemplateOptions) -> Result<String, Error> {
    let mut manifest = String::new();
    if opts.include_crds {
        for (p, d) in &r.crds {
            manifest.push_str(&format!("---\n# Source: {p}\n{d}\n"));
        }
    }
    for m in &r.manifests {
        manifest.push_str(&format!("---\n# Source: {}\n{}\n", m.name, m.content));
    }
    let mut out = String::new();
    out.push_str(manifest.trim());
    out.push('\n');
    for h in &r.hooks {
        if opts.no_hooks || (opts.skip_tests && h.is_test()) {
            continue;
        }
        out.push_str(&format!("---\n# Source: {}\n{}\n", h.path, h.manifest));
    }
    if opts.show_only.is_empty() {
        return Ok(out);
    }
    let docs = split_manifests(&out);
    let mut picked = String::new();
    for f in &opts.show_only {
        let f = f.replace('\\', "/");
        let mut missing = true;
        for d in &docs {
            let Some(path) = source_path(d) else { continue };
            if crate::glob::glob_match(&f, path) {
                picked.push_str(&format!("---\n{d}\n"));
                missing = false;
            }
        }
        if missing {
            return Err(Error::ShowOnlyMissing(f));
        }
    }
    Ok(picked)
}

/// The chart-relative path of a document's `# Source: chart/PATH` line.
fn source_path(doc: &str) -> Option<&str> {
    let i = doc.find("# Source: ")?;
    let rest = &doc[i + "# Source: ".len()..];
    let line = rest.split('\n').next().unwrap_or(rest);
    let slash = line.find('/')?;
    if slash == 0 {
        return None;
    }
    let p = &line[slash + 1..];
    (!p.is_empty()).then_some(p)
}

/// Rendered files by path, for callers that want Helm's raw engine output.
pub fn render_files(chart: &Chart, top: &Value) -> Result<BTreeMap<String, String>, Error> {
    engine::render(chart, top)
}
