//! The Kubernetes-free half of a Kustomization: from an unpacked source directory, the
//! Kustomization's spec, its post-build variables and its decryption keys to the final list of
//! objects to apply. `flux build kustomization` and `flux local` reuse it unchanged.
//!
//! The steps are Flux's: write the spec's overrides into the kustomization file (generating it
//! when missing), decrypt the generator sources it references, `kustomize build`, then for each
//! object decrypt it, substitute variables and set the common metadata.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use flux_api::kustomize::v1::KustomizationSpec;
use flux_sops::Keyring;
use serde_json::Value;

use crate::convert::{json_to_node, node_to_json};

/// What the build needs besides the source tree and the spec.
#[derive(Default)]
pub struct BuildInputs {
    /// Post-build variables (`substitute` over `substituteFrom`); `None` when the spec has no
    /// `postBuild`, in which case nothing is substituted.
    pub variables: Option<HashMap<String, String>>,
    /// Fail on a variable without value or default (`StrictPostBuildSubstitutions`).
    pub strict_substitution: bool,
    /// SOPS keys, when `spec.decryption.provider` is `sops`.
    pub keys: Option<Keyring>,
}

/// Why a build failed. Messages never carry decrypted values.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("kustomization path not found: {0}")]
    PathNotFound(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("kustomize build failed: {0}")]
    Kustomize(#[source] flux_kustomize::Error),
    #[error("decryption failed: {0}")]
    Decrypt(#[source] flux_sops::Error),
    #[error("post build failed for '{object}': {source}")]
    Substitute {
        object: String,
        #[source]
        source: flux_kustomize::substitute::SubstituteError,
    },
    #[error("invalid object: {0}")]
    Invalid(String),
}

/// The path of `spec.path` inside `root`, never outside it, which must be a directory.
pub fn resolve_path(root: &Path, spec_path: Option<&str>) -> Result<PathBuf, BuildError> {
    let rel = spec_path.filter(|p| !p.is_empty()).unwrap_or("./");
    let dir = flux_sops::secure_join(root, Path::new(rel))
        .map_err(|_| BuildError::PathNotFound(rel.to_string()))?;
    if !dir.is_dir() {
        return Err(BuildError::PathNotFound(rel.to_string()));
    }
    Ok(dir)
}

/// Builds the objects of a Kustomization. `root` is the caller's own copy of the source: the
/// kustomization file under `spec.path` and SOPS-encrypted generator sources are rewritten in
/// place.
pub fn build_objects(
    root: &Path,
    spec: &KustomizationSpec,
    inputs: &BuildInputs,
) -> Result<Vec<Value>, BuildError> {
    let dir = resolve_path(root, spec.path.as_deref())?;
    // Flux generates the kustomization file first, then decrypts the sources it references.
    crate::overrides::write_kustomization(&dir, spec)?;
    if let Some(keys) = &inputs.keys {
        let rel = dir.strip_prefix(root).unwrap_or(Path::new("."));
        let rel = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        flux_sops::decrypt_kustomization_sources(
            root,
            rel,
            keys,
            flux_sops::SourceOptions::default(),
        )
        .map_err(BuildError::Decrypt)?;
    }
    let built = flux_kustomize::build(&dir, &flux_kustomize::BuildOptions::default())
        .map_err(BuildError::Kustomize)?;

    let mut objects = Vec::with_capacity(built.resources.len());
    for node in built.resources {
        let mut obj = node_to_json(&node);
        check_object(&obj)?;
        if let Some(keys) = &inputs.keys
            && let Some(decrypted) =
                flux_sops::decrypt_resource(&obj, keys).map_err(BuildError::Decrypt)?
        {
            obj = decrypted;
        }
        if let Some(vars) = &inputs.variables {
            let out = flux_kustomize::substitute::substitute(
                &json_to_node(&obj),
                vars,
                inputs.strict_substitution,
            )
            .map_err(|source| BuildError::Substitute {
                object: obj
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                source,
            })?;
            obj = node_to_json(&out);
        }
        if let Some(meta) = &spec.common_metadata {
            set_common_metadata(&mut obj, &meta.labels, &meta.annotations);
        }
        objects.push(obj);
    }
    Ok(objects)
}

fn check_object(obj: &Value) -> Result<(), BuildError> {
    let field = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
    for (pointer, what) in [
        ("/apiVersion", "apiVersion"),
        ("/kind", "kind"),
        ("/metadata/name", "metadata.name"),
    ] {
        if field(pointer).is_empty() {
            return Err(BuildError::Invalid(format!(
                "object '{}/{}' has no {what}",
                field("/kind"),
                field("/metadata/name")
            )));
        }
    }
    Ok(())
}

/// Adds labels and annotations to an object's metadata (overriding the same keys).
pub fn set_common_metadata(
    obj: &mut Value,
    labels: &std::collections::BTreeMap<String, String>,
    annotations: &std::collections::BTreeMap<String, String>,
) {
    for (field, entries) in [("labels", labels), ("annotations", annotations)] {
        if entries.is_empty() {
            continue;
        }
        let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
            continue;
        };
        let target = meta
            .entry(field)
            .or_insert_with(|| Value::Object(Default::default()));
        if !target.is_object() {
            *target = Value::Object(Default::default());
        }
        if let Some(map) = target.as_object_mut() {
            for (k, v) in entries {
                map.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(extra: Value) -> KustomizationSpec {
        let mut base = serde_json::json!({
            "interval": "5m",
            "sourceRef": {"kind": "GitRepository", "name": "repo"},
            "prune": true
        });
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).expect("spec")
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: ${REPLICAS:=1}\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.0\n";

    #[test]
    fn generates_a_kustomization_and_applies_the_spec_overrides() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "apps/deploy.yaml", DEPLOY);
        let spec = spec(serde_json::json!({
            "path": "./apps",
            "targetNamespace": "prod",
            "namePrefix": "p-",
            "images": [{"name": "nginx", "newTag": "2.0"}],
            "commonMetadata": {"labels": {"team": "a"}},
            "patches": [{"patch": "- op: add\n  path: /metadata/annotations\n  value: {patched: \"yes\"}", "target": {"kind": "Deployment"}}]
        }));
        let objs = build_objects(dir.path(), &spec, &BuildInputs::default()).expect("build");
        assert_eq!(objs.len(), 1);
        let o = &objs[0];
        assert_eq!(o["metadata"]["name"], "p-web");
        assert_eq!(o["metadata"]["namespace"], "prod");
        assert_eq!(o["metadata"]["labels"]["team"], "a");
        assert_eq!(o["metadata"]["annotations"]["patched"], "yes");
        assert_eq!(
            o["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:2.0"
        );
        // No postBuild: the variable stays as written.
        assert_eq!(o["spec"]["replicas"], "${REPLICAS:=1}");
    }

    #[test]
    fn substitutes_variables_with_types_and_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "deploy.yaml", DEPLOY);
        let inputs = BuildInputs {
            variables: Some(HashMap::new()),
            ..Default::default()
        };
        let objs = build_objects(dir.path(), &spec(serde_json::json!({})), &inputs).expect("build");
        assert_eq!(objs[0]["spec"]["replicas"], 1);
        let inputs = BuildInputs {
            variables: Some(HashMap::from([("REPLICAS".into(), "3".into())])),
            ..Default::default()
        };
        let objs = build_objects(dir.path(), &spec(serde_json::json!({})), &inputs).expect("build");
        assert_eq!(objs[0]["spec"]["replicas"], 3);
    }

    #[test]
    fn strict_substitution_names_the_missing_variable() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: ${MISSING}\n",
        );
        let inputs = BuildInputs {
            variables: Some(HashMap::new()),
            strict_substitution: true,
            ..Default::default()
        };
        let err =
            build_objects(dir.path(), &spec(serde_json::json!({})), &inputs).expect_err("strict");
        assert_eq!(
            err.to_string(),
            "post build failed for 'c': variable not set (strict mode): \"MISSING\""
        );
    }

    #[test]
    fn missing_path_and_escaping_path_are_path_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = build_objects(
            dir.path(),
            &spec(serde_json::json!({"path": "./nope"})),
            &BuildInputs::default(),
        )
        .expect_err("missing");
        assert_eq!(err.to_string(), "kustomization path not found: ./nope");
        write(dir.path(), "a/x.yaml", DEPLOY);
        let err = build_objects(
            &dir.path().join("a"),
            &spec(serde_json::json!({"path": "../.."})),
            &BuildInputs::default(),
        );
        // `..` is clamped to the root, so the root itself is built, never its parent.
        assert_eq!(err.expect("clamped").len(), 1);
    }

    #[test]
    fn broken_kustomization_is_a_build_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "kustomization.yaml",
            "resources:\n- missing.yaml\n",
        );
        let err = build_objects(
            dir.path(),
            &spec(serde_json::json!({})),
            &BuildInputs::default(),
        )
        .expect_err("broken");
        assert!(
            matches!(err, BuildError::Kustomize(_)),
            "unexpected error: {err}"
        );
    }

    #[test]
    fn existing_kustomization_gets_components_appended() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "app/kustomization.yaml",
            "resources:\n- deploy.yaml\n",
        );
        write(dir.path(), "app/deploy.yaml", DEPLOY);
        write(
            dir.path(),
            "app/comp/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels:\n  comp: \"on\"\n",
        );
        let objs = build_objects(
            dir.path(),
            &spec(serde_json::json!({"path": "app", "components": ["comp"]})),
            &BuildInputs::default(),
        )
        .expect("build");
        assert_eq!(objs[0]["metadata"]["labels"]["comp"], "on");
        let err = build_objects(
            dir.path(),
            &spec(serde_json::json!({"path": "app", "components": ["gone"]})),
            &BuildInputs::default(),
        )
        .expect_err("missing component");
        assert!(err.to_string().contains("gone"), "{err}");
    }

    fn sops_fixture(rel: &str) -> Vec<u8> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sops/tests/fixtures");
        std::fs::read(root.join(rel)).expect("fixture")
    }

    #[test]
    fn sops_encrypted_generator_env_file_is_decrypted_before_the_build() {
        let dir = tempfile::tempdir().expect("tempdir");
        for rel in ["envs/kustomization.yaml", "envs/env.env"] {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, sops_fixture(rel)).expect("write");
        }
        let data = std::collections::BTreeMap::from([(
            "age.agekey".to_string(),
            sops_fixture("keys/age.txt"),
        )]);
        let inputs = BuildInputs {
            keys: Some(Keyring::from_secret_data(&data).expect("keys")),
            ..Default::default()
        };
        let objs = build_objects(
            dir.path(),
            &spec(serde_json::json!({"path": "./envs"})),
            &inputs,
        )
        .expect("build");
        let cm = objs
            .iter()
            .find(|o| o["kind"] == "ConfigMap")
            .expect("configmap");
        assert_eq!(cm["data"], serde_json::json!({"key": "value"}));

        // Without the keys the encrypted file is built as is, and its sops lines show up.
        let dir2 = tempfile::tempdir().expect("tempdir");
        for rel in ["envs/kustomization.yaml", "envs/env.env"] {
            let p = dir2.path().join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, sops_fixture(rel)).expect("write");
        }
        let objs = build_objects(
            dir2.path(),
            &spec(serde_json::json!({"path": "./envs"})),
            &BuildInputs::default(),
        )
        .expect("build");
        let cm = objs
            .iter()
            .find(|o| o["kind"] == "ConfigMap")
            .expect("configmap");
        assert_ne!(cm["data"], serde_json::json!({"key": "value"}));
    }
}
