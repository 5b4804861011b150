//! `flux local build`: what a cluster path produces with every Flux Kustomization in it
//! followed, offline and without an API server. Each Kustomization is built by
//! kustomize-controller's own build engine from a fresh copy of its source, in dependency
//! order, with post-build variables taken from the ConfigMaps and Secrets built before it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use flux_api::kustomize::v1::{DecryptionProvider, KustomizationSpec, SourceKind};
use flux_api::meta::ValuesKind;
use flux_artifact::{IgnoreRules, pack_dir};
use kustomize_controller::apply::{NAME_LABEL, NAMESPACE_LABEL};
use kustomize_controller::build::{BuildInputs, build_objects};
use serde_json::Value;

/// A fleet repository and what stands in for its remote sources.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// The repository's files (the work tree, or a checkout of `--ref`).
    pub root: PathBuf,
    /// The cluster path inside `root`.
    pub path: String,
    /// `NAME=DIR` (or `NAMESPACE/NAME=DIR`) mappings besides the repository, which serves
    /// `flux-system`.
    pub sources: Vec<(String, PathBuf)>,
    pub decryption_keys: Vec<PathBuf>,
    /// Revision reported for the repository, e.g. `main@sha1:<hex>`; derived from the
    /// content digest when `None`.
    pub revision: Option<String>,
}

impl FleetOptions {
    /// Directory serving the source `namespace/name`: an explicit mapping first, then the
    /// repository itself for `flux-system`.
    pub fn source_dir(&self, namespace: &str, name: &str) -> Option<PathBuf> {
        let full = format!("{namespace}/{name}");
        self.sources
            .iter()
            .find(|(key, _)| *key == full)
            .or_else(|| self.sources.iter().find(|(key, _)| key == name))
            .map(|(_, dir)| dir.clone())
            .or_else(|| (name == "flux-system").then(|| self.root.clone()))
    }
}

/// Builds `path` below `repo` as Flux would (generating a kustomization when missing) and
/// returns the objects, failing with a message that names the path or file.
pub fn build_path(repo: &Path, path: &str) -> Result<Vec<Value>, String> {
    let dir = repo.join(path.trim_start_matches("./"));
    if !dir.is_dir() {
        return Err(format!("path '{}' not found in {}", path, repo.display()));
    }
    let opts = flux_kustomize::BuildOptions {
        generate_missing_kustomization: true,
    };
    let yaml = flux_kustomize::build_to_yaml(&dir, &opts)
        .map_err(|e| format!("building {}: {e}", dir.display()))?;
    let mut objects = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&yaml) {
        let value: serde_yaml::Value = serde::Deserialize::deserialize(doc)
            .map_err(|e| format!("building {}: {e}", dir.display()))?;
        let value =
            serde_json::to_value(value).map_err(|e| format!("building {}: {e}", dir.display()))?;
        if !value.is_null() {
            objects.push(value);
        }
    }
    Ok(objects)
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Whether `obj` is a kustomize-controller Kustomization (not a kustomize config file).
pub fn is_flux_kustomization(obj: &Value) -> bool {
    text(obj, "/kind") == "Kustomization"
        && text(obj, "/apiVersion").starts_with("kustomize.toolkit.fluxcd.io/")
}

pub fn is_flux_object(obj: &Value) -> bool {
    text(obj, "/apiVersion").contains(".toolkit.fluxcd.io/")
}

fn id(obj: &Value) -> String {
    let ns = match text(obj, "/metadata/namespace") {
        "" => "default",
        ns => ns,
    };
    format!("{ns}/{}", text(obj, "/metadata/name"))
}

/// What identifies an object in a cluster: group, kind, namespace and name.
fn object_key(obj: &Value) -> String {
    let group = text(obj, "/apiVersion")
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or_default();
    format!("{group}/{}/{}", text(obj, "/kind"), id(obj))
}

/// `namespace/name` of each Kustomization `obj` depends on.
fn dependencies(obj: &Value) -> Vec<String> {
    let own_ns = id(obj).split('/').next().unwrap_or_default().to_string();
    obj.pointer("/spec/dependsOn")
        .and_then(Value::as_array)
        .map(|deps| {
            deps.iter()
                .filter_map(|d| {
                    let name = d.get("name")?.as_str()?;
                    let ns = d
                        .get("namespace")
                        .and_then(Value::as_str)
                        .unwrap_or(&own_ns);
                    Some(format!("{ns}/{name}"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Finds a `dependsOn` cycle among the Kustomizations in `objects`.
pub fn dependency_cycle(objects: &[Value]) -> Option<Vec<String>> {
    let edges: BTreeMap<String, Vec<String>> = objects
        .iter()
        .filter(|o| is_flux_kustomization(o))
        .map(|o| (id(o), dependencies(o)))
        .collect();
    fn visit(
        node: &str,
        edges: &BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = path.iter().position(|p| p == node) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, &edges, &mut Vec::new(), &mut done))
}

/// `--decryption-key` files as the entries of a sops Secret (`*.agekey` or `*.asc`).
pub fn read_keys(files: &[PathBuf]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut data = BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        let bytes =
            std::fs::read(file).map_err(|e| format!("--decryption-key {}: {e}", file.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        let entry = if text.contains("AGE-SECRET-KEY-") {
            format!("key{i}.agekey")
        } else if text.contains("BEGIN PGP PRIVATE KEY BLOCK") {
            format!("key{i}.asc")
        } else {
            return Err(format!(
                "--decryption-key {}: neither an age identity (AGE-SECRET-KEY-...) nor an armored PGP private key",
                file.display()
            ));
        };
        data.insert(entry, bytes);
    }
    Ok(data)
}

/// Packs each source once (honouring `.sourceignore`, as source-controller does) and unpacks
/// a fresh copy per Kustomization, since Flux's build rewrites kustomization.yaml in place.
struct SourceCopies {
    archives: HashMap<PathBuf, Vec<u8>>,
    scratch: tempfile::TempDir,
    count: usize,
}

impl SourceCopies {
    fn fresh_copy(&mut self, dir: &Path) -> Result<PathBuf, String> {
        if !self.archives.contains_key(dir) {
            let rules = IgnoreRules::load(dir, None).map_err(|e| e.to_string())?;
            let mut archive = Vec::new();
            pack_dir(dir, &rules, &mut archive).map_err(|e| format!("{}: {e}", dir.display()))?;
            self.archives.insert(dir.to_path_buf(), archive);
        }
        self.count += 1;
        let dest = self.scratch.path().join(self.count.to_string());
        let limits = flux_artifact::UnpackLimits::default();
        flux_artifact::unpack(&self.archives[dir], &dest, limits).map_err(|e| e.to_string())?;
        Ok(dest)
    }
}

/// Builds the cluster path, then every Kustomization it (transitively) defines, and returns
/// all objects in the order Flux would apply them.
pub fn build_fleet(opts: &FleetOptions) -> Result<Vec<Value>, String> {
    let mut out = build_path(&opts.root, &opts.path)?;
    if !out.iter().any(is_flux_object) {
        return Err(format!(
            "no Flux objects found in '{}': expected Kustomizations, sources or HelmReleases",
            opts.path
        ));
    }
    let keys = read_keys(&opts.decryption_keys)?;
    let mut copies = SourceCopies {
        archives: HashMap::new(),
        scratch: tempfile::tempdir().map_err(|e| format!("scratch dir: {e}"))?,
        count: 0,
    };
    let mut built = BTreeSet::new();
    let mut position: HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(i, o)| (object_key(o), i))
        .collect();
    loop {
        if let Some(cycle) = dependency_cycle(&out) {
            return Err(format!(
                "dependency cycle between Kustomizations: {}",
                cycle.join(" -> ")
            ));
        }
        let defined: BTreeSet<String> = out
            .iter()
            .filter(|o| is_flux_kustomization(o))
            .map(id)
            .collect();
        let next = out.iter().find(|o| {
            is_flux_kustomization(o)
                && !built.contains(&id(o))
                && dependencies(o).iter().all(|d| built.contains(d))
        });
        let Some(ks) = next.cloned() else {
            let waiting: Vec<String> = out
                .iter()
                .filter(|o| is_flux_kustomization(o) && !built.contains(&id(o)))
                .map(|o| {
                    let missing: Vec<String> = dependencies(o)
                        .into_iter()
                        .filter(|d| !defined.contains(d))
                        .collect();
                    format!(
                        "Kustomization {} depends on {}, which nothing defines",
                        id(o),
                        missing.join(", ")
                    )
                })
                .collect();
            if waiting.is_empty() {
                return Ok(out);
            }
            return Err(waiting.join("; "));
        };
        built.insert(id(&ks));
        for obj in build_kustomization(&ks, &out, opts, &keys, &mut copies)? {
            // An object applied again (the bootstrap Kustomization re-applying its own path)
            // keeps its place and takes its new owner's labels.
            match position.get(&object_key(&obj)) {
                Some(&i) => out[i] = obj,
                None => {
                    position.insert(object_key(&obj), out.len());
                    out.push(obj);
                }
            }
        }
    }
}

fn build_kustomization(
    ks: &Value,
    known: &[Value],
    opts: &FleetOptions,
    keys: &BTreeMap<String, Vec<u8>>,
    copies: &mut SourceCopies,
) -> Result<Vec<Value>, String> {
    let name = id(ks);
    let fail = |e: String| format!("Kustomization {name}: {e}");
    let spec: KustomizationSpec =
        serde_json::from_value(ks.get("spec").cloned().unwrap_or_default())
            .map_err(|e| fail(format!("invalid spec: {e}")))?;
    let (namespace, ks_name) = name.split_once('/').unwrap_or_default();
    let source = &spec.source_ref;
    let source_ns = source.namespace.as_deref().unwrap_or(namespace);
    let kind = match source.kind {
        SourceKind::GitRepository => "GitRepository",
        SourceKind::OCIRepository => "OCIRepository",
        SourceKind::Bucket => "Bucket",
        SourceKind::ExternalArtifact => "ExternalArtifact",
    };
    let dir = opts.source_dir(source_ns, &source.name).ok_or_else(|| {
        fail(format!(
            "source {kind}/{source_ns}/{} is not available offline: map it to a directory with --source {}=DIR",
            source.name, source.name
        ))
    })?;
    let root = copies.fresh_copy(&dir).map_err(fail)?;
    let inputs = BuildInputs {
        variables: variables(&spec, namespace, known).map_err(fail)?,
        strict_substitution: false,
        keys: match &spec.decryption {
            Some(d) if d.provider == DecryptionProvider::Sops => {
                Some(flux_sops::Keyring::from_secret_data(keys).map_err(|e| fail(e.to_string()))?)
            }
            _ => None,
        },
    };
    let mut objects = build_objects(&root, &spec, &inputs).map_err(|e| fail(e.to_string()))?;
    for obj in &mut objects {
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            let labels = meta
                .entry("labels")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(labels) = labels.as_object_mut() {
                labels.insert(NAME_LABEL.into(), ks_name.into());
                labels.insert(NAMESPACE_LABEL.into(), namespace.into());
            }
        }
    }
    Ok(objects)
}

/// Post-build variables from the ConfigMaps and Secrets built so far, as Flux reads them
/// from the cluster: `substituteFrom` in order, then `substitute` on top.
fn variables(
    spec: &KustomizationSpec,
    namespace: &str,
    known: &[Value],
) -> Result<Option<HashMap<String, String>>, String> {
    let Some(post) = &spec.post_build else {
        return Ok(None);
    };
    let mut vars = HashMap::new();
    for from in &post.substitute_from {
        let kind = match from.kind {
            ValuesKind::ConfigMap => "ConfigMap",
            ValuesKind::Secret => "Secret",
        };
        let found = known.iter().find(|o| {
            text(o, "/apiVersion") == "v1"
                && text(o, "/kind") == kind
                && id(o) == format!("{namespace}/{}", from.name)
        });
        let Some(found) = found else {
            if from.optional {
                continue;
            }
            return Err(format!(
                "substitute from '{kind}/{}' failed: {} \"{}\" not found in the fleet",
                from.name,
                kind.to_lowercase() + "s",
                from.name
            ));
        };
        for (key, value) in found
            .get("data")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let value = value.as_str().unwrap_or_default();
            let value = if kind == "Secret" {
                use base64::Engine as _;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(value)
                    .map_err(|e| format!("Secret/{} key {key}: {e}", from.name))?;
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                value.to_string()
            };
            vars.insert(key.clone(), value);
        }
        for (key, value) in found
            .get("stringData")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            vars.insert(key.clone(), value.as_str().unwrap_or_default().to_string());
        }
    }
    vars.extend(post.substitute.clone());
    Ok(Some(vars))
}

/// The objects as one YAML stream, `---` between documents.
pub fn to_yaml_stream(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| serde_yaml::to_string(o).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("---\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ks(name: &str, deps: &[&str]) -> Value {
        serde_json::json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {"dependsOn": deps.iter().map(|d| serde_json::json!({"name": d})).collect::<Vec<_>>()}
        })
    }

    #[test]
    fn dependency_cycles_are_found_and_named() {
        let fine = vec![ks("apps", &["infra"]), ks("infra", &[])];
        assert_eq!(dependency_cycle(&fine), None);
        let cyclic = vec![ks("a", &["b"]), ks("b", &["c"]), ks("c", &["a"])];
        let cycle = dependency_cycle(&cyclic).expect("cycle");
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 4);
    }

    #[test]
    fn build_path_reports_a_missing_path_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = build_path(dir.path(), "clusters/nowhere").expect_err("missing");
        assert!(err.contains("clusters/nowhere"), "{err}");
    }

    #[test]
    fn explicit_source_mappings_win_over_the_repository() {
        let opts = FleetOptions {
            root: PathBuf::from("/repo"),
            path: ".".into(),
            sources: vec![
                ("podinfo".into(), PathBuf::from("/a")),
                ("apps/podinfo".into(), PathBuf::from("/b")),
            ],
            decryption_keys: vec![],
            revision: None,
        };
        assert_eq!(
            opts.source_dir("apps", "podinfo"),
            Some(PathBuf::from("/b"))
        );
        assert_eq!(
            opts.source_dir("other", "podinfo"),
            Some(PathBuf::from("/a"))
        );
        assert_eq!(
            opts.source_dir("flux-system", "flux-system"),
            Some(PathBuf::from("/repo"))
        );
        assert_eq!(opts.source_dir("flux-system", "remote"), None);
    }
}
