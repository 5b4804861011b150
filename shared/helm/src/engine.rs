//! Rendering a chart's templates as Helm's engine does: one template set for the chart and its
//! subcharts (deeper files parsed first so parents' `define`s win), each chart's templates
//! executed with its own `.Values`, `.Chart`, `.Files` and `.Template`, `<no value>` erased.

use std::collections::BTreeMap;
use std::sync::Arc;

use flux_gotemplate::{MissingKey, Template, Value, sprig};

use crate::chart::{Chart, Metadata};
use crate::error::Error;
use crate::funcs::{WARN_END, WARN_START, helm_funcs_with};
use crate::objects::Files;

struct Renderable {
    text: String,
    vals: Value,
    base_path: String,
}

/// Renders every template of `chart` (and enabled subcharts) with `top` (a map holding
/// `Values`, `Release` and `Capabilities`). Returns template path → output, partials excluded.
pub fn render(chart: &Chart, top: &Value) -> Result<BTreeMap<String, String>, Error> {
    render_with(chart, top, None)
}

/// Like [`render`], with `lookup` answered by a cluster.
pub fn render_with(
    chart: &Chart,
    top: &Value,
    lookup: Option<Arc<dyn crate::funcs::Lookup>>,
) -> Result<BTreeMap<String, String>, Error> {
    let mut tpls: BTreeMap<String, Renderable> = BTreeMap::new();
    let root_values = top
        .as_map()
        .and_then(|m| m.get("Values"))
        .unwrap_or_else(Value::empty_map);
    rec_all_tpls(chart, chart.name(), true, root_values, top, &mut tpls);

    let mut keys: Vec<&String> = tpls.keys().collect();
    // Helm's sort.Reverse(byPathLen): deeper paths first, then names in reverse order.
    keys.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });

    let mut t = Template::new("gotpl");
    t.option_missingkey(MissingKey::Zero);
    t.funcs(sprig::funcs());
    t.funcs(helm_funcs_with(lookup));
    for k in &keys {
        t.parse(k, &tpls[*k].text)
            .map_err(|e| Error::Render(parse_error(k, &e)))?;
    }

    let mut out = BTreeMap::new();
    for k in keys {
        let base = k.rsplit('/').next().unwrap_or(k);
        if base.starts_with('_') {
            continue;
        }
        let r = &tpls[k];
        if let Some(m) = r.vals.as_map() {
            m.insert(
                "Template",
                Value::map_from([
                    ("Name", Value::from(k.as_str())),
                    ("BasePath", Value::from(r.base_path.as_str())),
                ]),
            );
        }
        let text = t
            .execute(k, &r.vals)
            .map_err(|e| Error::Render(exec_error(k, &e)))?;
        out.insert(k.clone(), text.replace("<no value>", ""));
    }
    Ok(out)
}

fn rec_all_tpls(
    c: &Chart,
    full_path: &str,
    is_root: bool,
    values: Value,
    top: &Value,
    tpls: &mut BTreeMap<String, Renderable>,
) -> Value {
    let get = |k: &str| top.as_map().and_then(|m| m.get(k)).unwrap_or(Value::Nil);
    let subcharts = Value::empty_map();
    let files: BTreeMap<String, Arc<Vec<u8>>> = c
        .files
        .iter()
        .map(|f| (f.name.clone(), Arc::new(f.data.clone())))
        .collect();
    let next = Value::map_from([
        ("Chart", chart_value(&c.metadata, is_root)),
        ("Files", Value::Object(Arc::new(Files::new(files)))),
        ("Release", get("Release")),
        ("Capabilities", get("Capabilities")),
        ("Values", values.clone()),
        ("Subcharts", subcharts.clone()),
    ]);
    for child in &c.dependencies {
        let child_values = match values.as_map().and_then(|m| m.get(child.name())) {
            Some(v @ Value::Map(_)) => v,
            _ => Value::empty_map(),
        };
        let child_path = format!("{full_path}/charts/{}", child.name());
        let child_next = rec_all_tpls(child, &child_path, false, child_values, top, tpls);
        if let Some(m) = subcharts.as_map() {
            m.insert(child.name(), child_next);
        }
    }
    for t in &c.templates {
        let base = t.name.rsplit('/').next().unwrap_or(&t.name);
        if c.is_library() && !base.starts_with('_') {
            continue;
        }
        tpls.insert(
            format!("{full_path}/{}", t.name),
            Renderable {
                text: String::from_utf8_lossy(&t.data).into_owned(),
                vals: next.clone(),
                base_path: format!("{full_path}/templates"),
            },
        );
    }
    next
}

fn strs(v: &[String]) -> Value {
    Value::list(v.iter().map(|s| Value::from(s.as_str())).collect())
}

/// `.Chart`: Chart.yaml fields under Go's field names, plus `IsRoot`.
pub fn chart_value(m: &Metadata, is_root: bool) -> Value {
    let maintainers = m
        .maintainers
        .iter()
        .map(|x| {
            Value::map_from([
                ("Name", Value::from(x.name.as_str())),
                ("Email", Value::from(x.email.as_str())),
                ("URL", Value::from(x.url.as_str())),
            ])
        })
        .collect();
    let deps = m
        .dependencies
        .iter()
        .map(|d| {
            Value::map_from([
                ("Name", Value::from(d.name.as_str())),
                ("Version", Value::from(d.version.as_str())),
                ("Repository", Value::from(d.repository.as_str())),
                ("Condition", Value::from(d.condition.as_str())),
                ("Tags", strs(&d.tags)),
                ("Enabled", Value::Bool(d.enabled)),
                (
                    "ImportValues",
                    Value::list(d.import_values.iter().cloned().map(Value::from).collect()),
                ),
                ("Alias", Value::from(d.alias.as_str())),
            ])
        })
        .collect();
    Value::map_from([
        ("Name", Value::from(m.name.as_str())),
        ("Home", Value::from(m.home.as_str())),
        ("Sources", strs(&m.sources)),
        ("Version", Value::from(m.version.as_str())),
        ("Description", Value::from(m.description.as_str())),
        ("Keywords", strs(&m.keywords)),
        ("Maintainers", Value::list(maintainers)),
        ("Icon", Value::from(m.icon.as_str())),
        ("APIVersion", Value::from(m.api_version.as_str())),
        ("Condition", Value::from(m.condition.as_str())),
        ("Tags", Value::from(m.tags.as_str())),
        ("AppVersion", Value::from(m.app_version.as_str())),
        ("Deprecated", Value::Bool(m.deprecated)),
        (
            "Annotations",
            Value::map(
                m.annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                    .collect(),
            ),
        ),
        ("KubeVersion", Value::from(m.kube_version.as_str())),
        ("Dependencies", Value::list(deps)),
        ("Type", Value::from(m.chart_type.as_str())),
        ("IsRoot", Value::Bool(is_root)),
    ])
}

/// Helm's `cleanupParseError`: `parse error at (LOCATION): MESSAGE`.
fn parse_error(filename: &str, e: &flux_gotemplate::Error) -> String {
    match e {
        flux_gotemplate::Error::Parse {
            name,
            line,
            message,
        } => format!("parse error at ({name}:{line}): {message}"),
        other => format!("parse error in ({filename}): {other}"),
    }
}

/// Helm's `reformatExecErrorMsg`: `required`/`fail` messages as `execution error at (LOC): MSG`,
/// other failures as the location, the failing call and the message on separate lines.
fn exec_error(filename: &str, e: &flux_gotemplate::Error) -> String {
    let text = e.to_string();
    if let (Some(s), Some(end)) = (text.find(WARN_START), text.find(WARN_END)) {
        let msg = &text[s + WARN_START.len()..end.max(s + WARN_START.len())];
        let loc = match e {
            flux_gotemplate::Error::Exec { location, .. } => location.clone(),
            _ => filename.to_string(),
        };
        return format!("execution error at ({loc}): {msg}");
    }
    match e {
        flux_gotemplate::Error::Exec {
            location,
            name,
            context,
            message,
        } => format!("{location}\n  executing {name:?} at <{context}>:\n    {message}"),
        flux_gotemplate::Error::DepthExceeded { name, .. } => format!(
            "execution error in ({filename}): rendering template has a nested reference name: {name}: unable to execute template"
        ),
        other => format!("execution error in ({filename}): {other}"),
    }
}
