//! Loads a chart from a directory or a .tgz archive, as Helm's `loader.Load` does.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::chart::{Chart, ChartFile, Metadata};
use crate::error::Error;
use crate::ignore::IgnoreRules;
use crate::yaml;

/// Largest archive Helm accepts once decompressed.
const MAX_DECOMPRESSED: u64 = 100 * 1024 * 1024;

/// Loads a chart from a directory or an archive.
pub fn load(path: &Path) -> Result<Chart, Error> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::Load(format!("path {:?} not found", path.display().to_string()))
        }
        _ => Error::io(path, e),
    })?;
    if meta.is_dir() {
        load_dir(path)
    } else {
        let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        load_archive(&data)
    }
}

/// Loads a chart directory, honouring .helmignore.
pub fn load_dir(root: &Path) -> Result<Chart, Error> {
    let rules = match std::fs::read_to_string(root.join(".helmignore")) {
        Ok(t) => IgnoreRules::parse(&t),
        Err(_) => IgnoreRules::default(),
    };
    let mut files = Vec::new();
    walk(root, root, &rules, &mut files)?;
    load_files(files)
}

fn walk(
    root: &Path,
    dir: &Path,
    rules: &IgnoreRules,
    out: &mut Vec<ChartFile>,
) -> Result<(), Error> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .map_err(|_| Error::Load(format!("{} is outside the chart", path.display())))?
            .to_string_lossy()
            .replace('\\', "/");
        // Follows symlinks like Helm, but refuses ones leading out of the chart.
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if entry.file_type().map(|t| t.is_symlink()).unwrap_or(false) {
            let target = std::fs::canonicalize(&path).map_err(|e| Error::io(&path, e))?;
            let croot = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
            if !target.starts_with(&croot) {
                return Err(Error::Load(format!(
                    "chart illegally references a path outside its root: {rel}"
                )));
            }
        }
        if meta.is_dir() {
            if rules.ignored(&rel, true) {
                continue;
            }
            walk(root, &path, rules, out)?;
        } else {
            if rules.ignored(&rel, false) {
                continue;
            }
            let data = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            out.push(ChartFile { name: rel, data });
        }
    }
    Ok(())
}

/// Loads a gzipped tar archive; entries must live under one top directory and stay inside it.
pub fn load_archive(data: &[u8]) -> Result<Chart, Error> {
    let gz = flate2::read::GzDecoder::new(data);
    let mut ar = tar::Archive::new(gz.take(MAX_DECOMPRESSED));
    let mut files: Vec<ChartFile> = Vec::new();
    let entries = ar
        .entries()
        .map_err(|e| Error::Load(format!("failed to read chart archive: {e}")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| Error::Load(format!("failed to read chart archive: {e}")))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).replace('\\', "/");
        if raw.starts_with('/') {
            return Err(Error::Load(
                "chart illegally contains absolute paths".into(),
            ));
        }
        let parts: Vec<&str> = raw
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        if parts.is_empty() {
            return Err(Error::Load(format!(
                "chart illegally contains content outside the base directory: {raw:?}"
            )));
        }
        if parts.contains(&"..") {
            return Err(Error::Load(
                "chart illegally references parent directory".into(),
            ));
        }
        let name = parts[1..].join("/");
        let b = name.as_bytes();
        if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
            return Err(Error::Load("chart contains illegally named files".into()));
        }
        if parts.len() == 1 {
            if parts[0] == "Chart.yaml" {
                return Err(Error::Load("chart yaml not in base directory".into()));
            }
            continue;
        }
        // Links carry no data; like Helm, they load as empty files (never followed).
        if !kind.is_file() && !kind.is_symlink() && !kind.is_hard_link() {
            continue;
        }
        let mut buf = Vec::new();
        entry
            .read_to_end(&mut buf)
            .map_err(|e| Error::Load(format!("failed to read chart archive: {e}")))?;
        files.push(ChartFile { name, data: buf });
    }
    if files.is_empty() {
        return Err(Error::Load("no files in chart archive".into()));
    }
    load_files(files)
}

/// Builds a chart from its files (paths relative to the chart root), as Helm's `LoadFiles`.
pub fn load_files(files: Vec<ChartFile>) -> Result<Chart, Error> {
    let mut chart = Chart::default();
    let mut have_meta = false;
    let mut subcharts: BTreeMap<String, Vec<ChartFile>> = BTreeMap::new();
    let mut requirements: Option<Vec<u8>> = None;
    for f in files {
        let text = || String::from_utf8_lossy(&f.data).into_owned();
        match f.name.as_str() {
            "Chart.yaml" => {
                let v = yaml::parse_yaml(&text())
                    .map_err(|e| Error::Load(format!("cannot load Chart.yaml: {e}")))?;
                let v = if v.is_null() {
                    serde_json::json!({})
                } else {
                    v
                };
                chart.metadata = serde_json::from_value::<Metadata>(v)
                    .map_err(|e| Error::Load(format!("cannot load Chart.yaml: {e}")))?;
                if chart.metadata.api_version.is_empty() {
                    chart.metadata.api_version = "v1".into();
                }
                have_meta = true;
            }
            "values.yaml" => {
                chart.values = yaml::parse_values(&text())
                    .map_err(|e| Error::Values(format!("cannot load values.yaml: {e}")))?;
            }
            "values.schema.json" => chart.schema = Some(f.data),
            "requirements.yaml" => requirements = Some(f.data),
            "Chart.lock" | "requirements.lock" => {}
            n if n.starts_with("templates/") => chart.templates.push(f),
            n if n.starts_with("charts/") => {
                if n.ends_with(".prov") {
                    chart.files.push(f);
                    continue;
                }
                let rest = &n["charts/".len()..];
                let cname = rest.split('/').next().unwrap_or(rest).to_string();
                let inner = rest.get(cname.len() + 1..).unwrap_or("").to_string();
                subcharts.entry(cname).or_default().push(ChartFile {
                    name: inner,
                    data: f.data,
                });
            }
            _ => chart.files.push(f),
        }
    }
    if !have_meta {
        return Err(Error::Load("Chart.yaml file is missing".into()));
    }
    if let Some(req) = requirements {
        let v = yaml::parse_yaml(&String::from_utf8_lossy(&req))
            .map_err(|e| Error::Load(format!("cannot load requirements.yaml: {e}")))?;
        if let Some(deps) = v.get("dependencies") {
            chart.metadata.dependencies = serde_json::from_value(deps.clone())
                .map_err(|e| Error::Load(format!("cannot load requirements.yaml: {e}")))?;
        }
    }
    chart.metadata.validate()?;
    for (name, files) in subcharts {
        let sub = if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
            let Some(f) = files.iter().find(|f| f.name.is_empty()) else {
                continue;
            };
            load_archive(&f.data)
        } else {
            load_files(files.into_iter().filter(|f| !f.name.is_empty()).collect())
        }
        .map_err(|e| {
            Error::Load(format!(
                "error unpacking subchart {name} in {}: {e}",
                chart.metadata.name
            ))
        })?;
        chart.dependencies.push(sub);
    }
    Ok(chart)
}
