//! Helm chart packaging for HelmChart artifacts: check a downloaded chart archive, package a
//! chart directory from a source artifact, merge `valuesFiles` into `values.yaml` and stamp
//! version metadata, as Flux's local and remote chart builders do.
//!
//! Archives are written as `helm package` lays them out (every file below `<chart-name>/`), with
//! sorted entries, zeroed times and owners, so the same chart always gives the same digest.

use std::path::{Component, Path, PathBuf};

use flate2::{Compression, GzBuilder};
use flux_helm::chart::{ChartFile, Metadata};
use serde_yaml::{Mapping, Value};

/// Flux's build error reasons (`internal/helm/chart/errors.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildReason {
    ChartReference,
    ChartPull,
    MetadataPatch,
    ValuesFiles,
    ChartPackage,
}

impl BuildReason {
    pub fn reason(self) -> &'static str {
        match self {
            BuildReason::ChartReference => "InvalidChartReference",
            BuildReason::ChartPull => "ChartPullError",
            BuildReason::MetadataPatch => "MetadataPatchError",
            BuildReason::ValuesFiles => "ValuesFilesError",
            BuildReason::ChartPackage => "ChartPackageError",
        }
    }

    fn summary(self) -> &'static str {
        match self {
            BuildReason::ChartReference => "invalid chart reference",
            BuildReason::ChartPull => "chart pull error",
            BuildReason::MetadataPatch => "chart metadata patch error",
            BuildReason::ValuesFiles => "values files merge error",
            BuildReason::ChartPackage => "chart package error",
        }
    }

    /// Errors only a spec change can fix (Flux's `IsPersistentBuildErrorReason`).
    pub fn persistent(self) -> bool {
        matches!(
            self,
            BuildReason::ChartReference | BuildReason::MetadataPatch | BuildReason::ValuesFiles
        )
    }
}

/// A failed build, printed as Flux prints a `BuildError`: `<summary>: <cause>`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {message}", reason.summary())]
pub struct BuildError {
    pub reason: BuildReason,
    pub message: String,
}

impl BuildError {
    pub fn new(reason: BuildReason, message: impl Into<String>) -> Self {
        BuildError {
            reason,
            message: message.into(),
        }
    }
}

/// A chart as a list of files relative to its root.
#[derive(Debug, Clone)]
pub struct ChartFiles {
    pub metadata: Metadata,
    files: Vec<ChartFile>,
}

impl ChartFiles {
    /// Reads a chart archive, refusing entries that escape the chart directory, archives without
    /// `Chart.yaml` and invalid metadata, as Helm's loader does.
    /// Files larger than `max_file_size` are refused before they are read.
    pub fn from_archive(bytes: &[u8], max_file_size: u64) -> Result<ChartFiles, String> {
        let files = archive_files(bytes, max_file_size)?;
        let chart = flux_helm::loader::load_archive(bytes).map_err(|e| e.to_string())?;
        Ok(ChartFiles {
            metadata: chart.metadata,
            files,
        })
    }

    /// Reads a chart directory, honouring `.helmignore`; links and special files are skipped.
    pub fn from_dir(dir: &Path) -> Result<ChartFiles, String> {
        let chart = flux_helm::loader::load_dir(dir).map_err(|e| e.to_string())?;
        let rules = match std::fs::read_to_string(dir.join(".helmignore")) {
            Ok(t) => flux_helm::ignore::IgnoreRules::parse(&t),
            Err(_) => flux_helm::ignore::IgnoreRules::default(),
        };
        let mut files = Vec::new();
        walk(dir, dir, &rules, &mut files)?;
        Ok(ChartFiles {
            metadata: chart.metadata,
            files,
        })
    }

    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.data.as_slice())
    }

    /// Sets the chart version in `Chart.yaml` (other fields kept as they are).
    pub fn set_version(&mut self, version: &str) -> Result<(), String> {
        let raw = self
            .file("Chart.yaml")
            .ok_or("Chart.yaml file is missing")?;
        let mut doc: Mapping =
            serde_yaml::from_slice(raw).map_err(|e| format!("cannot load Chart.yaml: {e}"))?;
        doc.insert(Value::from("version"), Value::from(version));
        let text = serde_yaml::to_string(&doc).map_err(|e| e.to_string())?;
        self.put("Chart.yaml", text.into_bytes());
        self.metadata.version = version.to_string();
        Ok(())
    }

    /// Replaces `values.yaml` with `values`.
    pub fn set_values(&mut self, values: &Mapping) -> Result<(), String> {
        let text = serde_yaml::to_string(values).map_err(|e| e.to_string())?;
        self.put("values.yaml", text.into_bytes());
        Ok(())
    }

    fn put(&mut self, name: &str, data: Vec<u8>) {
        match self.files.iter_mut().find(|f| f.name == name) {
            Some(f) => f.data = data,
            None => self.files.push(ChartFile {
                name: name.to_string(),
                data,
            }),
        }
    }

    /// The deterministic `.tgz` with every file below `<chart-name>/`.
    pub fn package(&self) -> Result<Vec<u8>, String> {
        let mut files: Vec<&ChartFile> = self.files.iter().collect();
        files.sort_by(|a, b| a.name.cmp(&b.name));
        let gz = GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), Compression::default());
        let mut tar = tar::Builder::new(gz);
        for f in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(f.data.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            header.set_entry_type(tar::EntryType::Regular);
            let path = format!("{}/{}", self.metadata.name, f.name);
            tar.append_data(&mut header, &path, f.data.as_slice())
                .map_err(|e| format!("failed to package chart: {e}"))?;
        }
        let gz = tar
            .into_inner()
            .map_err(|e| format!("failed to package chart: {e}"))?;
        gz.finish()
            .map_err(|e| format!("failed to package chart: {e}"))
    }
}

/// The files of a chart archive relative to its top directory (links and directories skipped).
fn archive_files(bytes: &[u8], max_file_size: u64) -> Result<Vec<ChartFile>, String> {
    use std::io::Read;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut out = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| format!("failed to read chart archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("failed to read chart archive: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).replace('\\', "/");
        let parts: Vec<&str> = raw
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        if parts.len() < 2 {
            continue;
        }
        let too_large = || {
            format!(
                "chart file '{raw}' is larger than the maximum file size of {max_file_size} bytes"
            )
        };
        if entry.header().size().unwrap_or(0) > max_file_size {
            return Err(too_large());
        }
        let mut data = Vec::new();
        // The header may lie about the size; never read more than the limit allows.
        (&mut entry)
            .take(max_file_size + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("failed to read chart archive: {e}"))?;
        if data.len() as u64 > max_file_size {
            return Err(too_large());
        }
        out.push(ChartFile {
            name: parts[1..].join("/"),
            data,
        });
    }
    Ok(out)
}

fn walk(
    root: &Path,
    dir: &Path,
    rules: &flux_helm::ignore::IgnoreRules,
    out: &mut Vec<ChartFile>,
) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .replace('\\', "/");
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        if kind.is_dir() {
            if !rules.ignored(&rel, true) {
                walk(root, &path, rules, out)?;
            }
        } else if kind.is_file() && !rules.ignored(&rel, false) {
            let data = std::fs::read(&path).map_err(|e| format!("{rel}: {e}"))?;
            out.push(ChartFile { name: rel, data });
        }
    }
    Ok(())
}

/// `base` joined with the relative `path`, refusing anything that leaves `base` (Flux uses
/// securejoin for the same purpose).
pub fn secure_join(base: &Path, path: &str) -> Result<PathBuf, String> {
    let mut out = base.to_path_buf();
    let mut depth = 0usize;
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => {
                out.push(part);
                depth += 1;
            }
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    return Err(format!("path '{path}' escapes the source root"));
                }
                out.pop();
                depth -= 1;
            }
            Component::Prefix(_) => return Err(format!("path '{path}' is not relative")),
        }
    }
    Ok(out)
}

/// Deep merge as Flux's `transform.MergeMaps`: maps merge key by key, anything else in `over`
/// replaces what `base` has.
pub fn merge_maps(base: &mut Mapping, over: Mapping) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Mapping(existing)), Value::Mapping(incoming)) => {
                merge_maps(existing, incoming)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Parses one values file as a map (empty documents are empty maps).
pub fn parse_values(name: &str, bytes: &[u8]) -> Result<Mapping, String> {
    let value: Value = serde_yaml::from_slice(bytes)
        .map_err(|e| format!("unmarshaling values from '{name}' failed: {e}"))?;
    match value {
        Value::Null => Ok(Mapping::new()),
        Value::Mapping(m) => Ok(m),
        _ => Err(format!(
            "unmarshaling values from '{name}' failed: not a map"
        )),
    }
}

/// `version` with its semver build metadata replaced by `metadata` (Masterminds `SetMetadata`).
pub fn with_build_metadata(version: &str, metadata: &str) -> Result<String, BuildError> {
    let mut v = crate::helm_index::parse_version(version).ok_or_else(|| {
        BuildError::new(
            BuildReason::MetadataPatch,
            format!("failed to parse version from chart metadata as SemVer: Invalid Semantic Version: {version}"),
        )
    })?;
    v.build = semver::BuildMetadata::new(metadata).map_err(|e| {
        BuildError::new(
            BuildReason::MetadataPatch,
            format!("failed to set SemVer metadata on chart version: {e}"),
        )
    })?;
    Ok(v.to_string())
}

/// The part of a source revision Flux puts in version metadata: the first 12 hex digits of the
/// commit (`main@sha1:<hex>`) or of the bucket digest (`sha256:<hex>`).
pub fn short_revision(revision: &str) -> String {
    let hex = revision.rsplit(':').next().unwrap_or(revision);
    let hex = hex.rsplit('@').next().unwrap_or(hex);
    hex.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/charts")
            .join(name)
    }

    #[test]
    fn packaged_directory_unpacks_below_the_chart_name_and_is_deterministic() {
        let chart = ChartFiles::from_dir(&fixture("alpine")).expect("chart");
        let first = chart.package().expect("package");
        let second = ChartFiles::from_dir(&fixture("alpine"))
            .expect("chart")
            .package()
            .expect("package");
        assert_eq!(first, second);
        let loaded = flux_helm::loader::load_archive(&first).expect("load");
        assert_eq!(loaded.metadata.name, "alpine");
        let back = ChartFiles::from_archive(&first, 1 << 20).expect("reload");
        assert!(back.file("templates/alpine-pod.yaml").is_some());
    }

    #[test]
    fn version_metadata_and_merged_values_end_up_in_the_package() {
        let mut chart = ChartFiles::from_dir(&fixture("alpine")).expect("chart");
        let version = with_build_metadata(&chart.metadata.version, "abcdef123456").expect("v");
        chart.set_version(&version).expect("set");
        let mut values =
            parse_values("values.yaml", chart.file("values.yaml").expect("values")).expect("parse");
        merge_maps(
            &mut values,
            parse_values("x", b"image:\n  tag: new\nextra: 1\n").expect("x"),
        );
        chart.set_values(&values).expect("values");
        let loaded = flux_helm::loader::load_archive(&chart.package().expect("pkg")).expect("load");
        assert_eq!(loaded.metadata.version, version);
        assert!(version.ends_with("+abcdef123456"), "{version}");
        assert_eq!(loaded.values["extra"], serde_json::json!(1.0));
    }

    #[test]
    fn merge_maps_merges_nested_maps_and_replaces_other_values() {
        let mut base = parse_values("a", b"a: {b: 1, c: [1]}\nd: x\n").expect("a");
        merge_maps(
            &mut base,
            parse_values("b", b"a: {c: [2], e: 3}\nd: {y: 1}\n").expect("b"),
        );
        let want = parse_values("w", b"a: {b: 1, c: [2], e: 3}\nd: {y: 1}\n").expect("w");
        assert_eq!(base, want);
    }

    #[test]
    fn archives_escaping_their_root_or_without_chart_yaml_are_refused() {
        let evil = raw_tgz(&[
            (
                "evil/Chart.yaml",
                b"apiVersion: v2\nname: evil\nversion: 1.0.0\n",
            ),
            ("evil/../../etc/x", b"x"),
        ]);
        let err = ChartFiles::from_archive(&evil, 1 << 20).expect_err("escape");
        assert!(err.contains("parent directory"), "{err}");
        let no_chart = raw_tgz(&[("x/values.yaml", b"a: 1\n")]);
        let err = ChartFiles::from_archive(&no_chart, 1 << 20).expect_err("no Chart.yaml");
        assert!(err.contains("Chart.yaml file is missing"), "{err}");
    }

    #[test]
    fn secure_join_refuses_paths_leaving_the_root() {
        let base = Path::new("/src");
        assert_eq!(
            secure_join(base, "charts/../charts/a").expect("ok"),
            Path::new("/src/charts/a")
        );
        assert!(secure_join(base, "../etc").is_err());
    }

    #[test]
    fn archive_files_over_the_file_size_limit_are_refused() {
        let big = vec![b'x'; 2048];
        let chart = raw_tgz(&[
            (
                "big/Chart.yaml",
                b"apiVersion: v2\nname: big\nversion: 1.0.0\n",
            ),
            ("big/files/blob.bin", &big),
        ]);
        let err = ChartFiles::from_archive(&chart, 1024).expect_err("too large");
        assert!(
            err.contains("'big/files/blob.bin' is larger than the maximum file size of 1024 bytes"),
            "{err}"
        );
        assert!(ChartFiles::from_archive(&chart, 2048).is_ok());
    }

    #[test]
    fn short_revision_takes_twelve_hex_digits_of_git_and_bucket_revisions() {
        assert_eq!(
            short_revision("main@sha1:0123456789abcdef0123"),
            "0123456789ab"
        );
        assert_eq!(short_revision("sha256:fedcba9876543210aa"), "fedcba987654");
    }

    /// A tar.gz written byte by byte so paths with `..` survive (the tar crate refuses them).
    pub(crate) fn raw_tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut tar = Vec::new();
        for (name, data) in entries {
            let mut header = [0u8; 512];
            header[..name.len()].copy_from_slice(name.as_bytes());
            header[100..107].copy_from_slice(b"0000644");
            header[108..115].copy_from_slice(b"0000000");
            header[116..123].copy_from_slice(b"0000000");
            let size = format!("{:011o}", data.len());
            header[124..135].copy_from_slice(size.as_bytes());
            header[136..147].copy_from_slice(b"00000000000");
            header[156] = b'0';
            header[257..263].copy_from_slice(b"ustar\0");
            header[263..265].copy_from_slice(b"00");
            header[148..156].copy_from_slice(b"        ");
            let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
            header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
            tar.extend_from_slice(&header);
            tar.extend_from_slice(data);
            tar.resize(tar.len().div_ceil(512) * 512, 0);
        }
        tar.resize(tar.len() + 1024, 0);
        let mut gz = GzBuilder::new().write(Vec::new(), Compression::default());
        gz.write_all(&tar).expect("gzip");
        gz.finish().expect("gzip")
    }
}
