//! Flux behaviour on top of kustomize: building a path without a kustomization.yaml and
//! postBuild substitution over a build result.

use std::collections::HashMap;

use flux_kustomize::{BuildOptions, Error, build, build_to_yaml, substitute};

fn write(dir: &std::path::Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, text).unwrap();
}

#[test]
fn path_without_kustomization_builds_every_manifest_below_it_when_generation_is_on() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "apps/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    );
    write(
        d.path(),
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
    );
    write(d.path(), "README.md", "not a manifest");
    let opts = BuildOptions {
        generate_missing_kustomization: true,
    };
    let out = build_to_yaml(d.path(), &opts).unwrap();
    assert_eq!(
        out,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
    );
    // kustomize itself refuses such a path.
    assert!(matches!(
        build(d.path(), &BuildOptions::default()),
        Err(Error::NoKustomization(_))
    ));
    // Generation never writes into the source tree.
    assert!(!d.path().join("kustomization.yaml").exists());
}

#[test]
fn post_build_substitution_applies_to_built_resources_except_disabled_ones() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "kustomization.yaml", "resources: [cm.yaml]\n");
    write(
        d.path(),
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  env: ${cluster_env:=dev}\n  region: ${region}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  keep: ${region}\n",
    );
    let list = build(d.path(), &BuildOptions::default()).unwrap();
    let vars: HashMap<String, String> = [("region".to_string(), "eu-1".to_string())].into();
    let out: Vec<_> = list
        .resources
        .iter()
        .map(|r| substitute::substitute(r, &vars, true).unwrap())
        .collect();
    let yaml = flux_kustomize::yaml::emit_documents(out.iter());
    assert!(yaml.contains("env: dev\n  region: eu-1\n"), "{yaml}");
    assert!(yaml.contains("keep: ${region}"), "{yaml}");
    let strict_missing: HashMap<String, String> = [("other".to_string(), "x".to_string())].into();
    assert!(substitute::substitute(&list.resources[0], &strict_missing, true).is_err());
}
