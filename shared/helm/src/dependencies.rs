//! Subchart processing before rendering, as Helm's `ProcessDependencies`: aliases, `condition` and
//! `tags` enabling or removing subcharts, and `import-values` copying child values to the parent.

use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::error::Error;
use crate::semver;
use crate::values::{self, coalesce_tables, coalesce_values, path_value, table, trim_nil_values};

/// Removes disabled subcharts and imports child values into parents.
pub fn process_dependencies(chart: &mut Chart, vals: &Map<String, Value>) -> Result<(), Error> {
    process_enabled(chart, vals, "")?;
    process_import_values_rec(chart)
}

fn process_enabled(c: &mut Chart, v: &Map<String, Value>, path: &str) -> Result<(), Error> {
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let existing = std::mem::take(&mut c.dependencies);
    let mut deps: Vec<Chart> = Vec::new();
    for e in &existing {
        let declared = c
            .metadata
            .dependencies
            .iter()
            .any(|r| r.name == e.name() && semver::satisfies(&r.version, &e.metadata.version));
        if !declared {
            deps.push(e.clone());
        }
    }
    for req in &mut c.metadata.dependencies {
        if let Some(found) = existing
            .iter()
            .find(|e| e.name() == req.name && semver::satisfies(&req.version, &e.metadata.version))
        {
            let mut out = found.clone();
            if !req.alias.is_empty() {
                out.metadata.name = req.alias.clone();
            }
            deps.push(out);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    c.dependencies = deps;
    for r in &mut c.metadata.dependencies {
        r.enabled = true;
    }
    let cvals = coalesce_values(c, v)?;
    // Tags first, then conditions, which win when both are present.
    if let Some(Value::Object(tags)) = cvals.get("tags") {
        for r in &mut c.metadata.dependencies {
            let (mut has_true, mut has_false) = (false, false);
            for t in &r.tags {
                match tags.get(t) {
                    Some(Value::Bool(true)) => has_true = true,
                    Some(Value::Bool(false)) => has_false = true,
                    _ => {}
                }
            }
            if !has_true && has_false {
                r.enabled = false;
            } else if has_true || !has_false {
                r.enabled = true;
            }
        }
    }
    for r in &mut c.metadata.dependencies {
        for cond in r.condition.trim().split(',') {
            if cond.is_empty() {
                continue;
            }
            if let Some(Value::Bool(b)) = path_value(&cvals, &format!("{path}{cond}")) {
                r.enabled = *b;
                break;
            }
        }
    }
    let disabled: Vec<String> = c
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    c.dependencies
        .retain(|d| !disabled.contains(&d.metadata.name));
    c.metadata
        .dependencies
        .retain(|r| !disabled.contains(&r.name));
    for t in &mut c.dependencies {
        let sub = format!("{path}{}.", t.metadata.name);
        process_enabled(t, &cvals, &sub)?;
    }
    Ok(())
}

fn process_import_values_rec(c: &mut Chart) -> Result<(), Error> {
    for d in &mut c.dependencies {
        process_import_values_rec(d)?;
    }
    process_import_values(c)
}

fn path_to_map(path: &str, data: Map<String, Value>) -> Map<String, Value> {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let mut m = Map::new();
        m.insert(part.to_string(), Value::Object(cur));
        cur = m;
    }
    cur
}

fn process_import_values(c: &mut Chart) -> Result<(), Error> {
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let mut cvals = coalesce_values(c, &Map::new())?;
    let mut b = Map::new();
    for r in &mut c.metadata.dependencies {
        let mut out = Vec::new();
        for iv in &r.import_values {
            let (child, parent) = match iv {
                Value::Object(m) => (
                    m.get("child")
                        .map(values::go_sprint)
                        .unwrap_or_else(|| "<nil>".into()),
                    m.get("parent")
                        .map(values::go_sprint)
                        .unwrap_or_else(|| "<nil>".into()),
                ),
                Value::String(s) => (format!("exports.{s}"), ".".to_string()),
                _ => continue,
            };
            let mut entry = Map::new();
            entry.insert("child".into(), Value::String(child.clone()));
            entry.insert("parent".into(), Value::String(parent.clone()));
            out.push(Value::Object(entry));
            let Some(vv) = table(&cvals, &format!("{}.{child}", r.name)) else {
                continue;
            };
            coalesce_tables(&mut b, path_to_map(&parent, vv.clone()), false);
        }
        r.import_values = out;
    }
    trim_nil_values(&mut cvals);
    coalesce_tables(&mut cvals, b, false);
    c.values = cvals;
    Ok(())
}
