//! The generated CRD schemas, run through flux-apimachinery's API-server validation, pruning and
//! defaulting: the seed manifests pass untouched and bad values fail naming the field.

use flux_api::{FluxObject, crds};
use flux_apimachinery::schema::{FieldErrorKind, apply_defaults, prune, validate};
use std::sync::OnceLock;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use serde_json::{Value, json};

const SEEDS: &str = include_str!("fixtures/seed-manifests.yaml");

fn seed_docs() -> Vec<Value> {
    serde_yaml::Deserializer::from_str(SEEDS)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

/// Applies the schema defaults of the document's own version, as the API server does on create.
fn defaulted(mut doc: Value) -> Value {
    let schema = schema_for(&doc);
    apply_defaults(&mut doc, &schema);
    doc
}

fn seed(name: &str) -> Value {
    seed_docs()
        .into_iter()
        .find(|d| d["metadata"]["name"] == name)
        .unwrap()
}

/// The schema the API server would use for this document's apiVersion and kind.
fn schema_for(doc: &Value) -> JSONSchemaProps {
    let (group, version) = doc["apiVersion"].as_str().unwrap().split_once('/').unwrap();
    // Generating the CRDs is the slow part of these tests; do it once.
    static ALL: OnceLock<Vec<CustomResourceDefinition>> = OnceLock::new();
    let crd = ALL
        .get_or_init(crds::all)
        .iter()
        .find(|c| c.spec.group == group && c.spec.names.kind == doc["kind"])
        .cloned()
        .unwrap_or_else(|| panic!("no CRD for {doc}"));
    crd.spec
        .versions
        .into_iter()
        .find(|v| v.name == version)
        .and_then(|v| v.schema)
        .and_then(|s| s.open_api_v3_schema)
        .unwrap_or_else(|| panic!("no {version} schema for {}", doc["kind"]))
}

#[test]
fn every_seed_manifest_passes_schema_validation() {
    for doc in seed_docs() {
        let errors = validate(&doc, &schema_for(&doc));
        assert!(errors.is_empty(), "{}: {errors:?}", doc["metadata"]["name"]);
    }
}

#[test]
fn pruning_keeps_every_field_of_every_seed_manifest() {
    for doc in seed_docs() {
        let mut pruned = doc.clone();
        prune(&mut pruned, &schema_for(&doc));
        assert_eq!(
            pruned, doc,
            "the schema lacks a field of {}",
            doc["metadata"]["name"]
        );
    }
}

#[test]
fn defaulted_seed_manifests_still_parse_and_carry_flux_defaults() {
    for doc in seed_docs() {
        let mut defaulted = doc.clone();
        apply_defaults(&mut defaulted, &schema_for(&doc));
        assert!(
            validate(&defaulted, &schema_for(&doc)).is_empty(),
            "{defaulted}"
        );
        FluxObject::from_json(defaulted).unwrap_or_else(|e| panic!("{e}"));
    }
    let repo = defaulted(seed("application-repo"));
    assert_eq!(repo["spec"]["timeout"], "60s");
    let chart = defaulted(seed("payment-service-drift"));
    assert_eq!(chart["spec"]["chart"]["spec"]["version"], "*");
    assert_eq!(
        chart["spec"]["chart"]["spec"]["reconcileStrategy"],
        "ChartVersion"
    );
    let alert = defaulted(seed("critical-alerts"));
    assert_eq!(
        alert["spec"]["eventSeverity"], "error",
        "explicit values are kept"
    );
    let auto = defaulted(seed("application-automation"));
    assert_eq!(
        auto["spec"]["git"]["commit"]["author"]["email"],
        "fluxcdbot@users.noreply.github.com"
    );
}

fn errors_at(doc: &Value) -> Vec<(String, FieldErrorKind, String)> {
    validate(doc, &schema_for(doc))
        .into_iter()
        .map(|e| (e.field.clone(), e.kind, e.to_string()))
        .collect()
}

#[test]
fn unknown_enum_value_fails_schema_validation_naming_the_field() {
    let mut doc = seed("config-bucket");
    doc["spec"]["provider"] = json!("foo");
    let errors = errors_at(&doc);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "spec.provider");
    assert_eq!(errors[0].1, FieldErrorKind::NotSupported);
    assert!(
        errors[0].2.contains("\"foo\"") && errors[0].2.contains("\"aws\""),
        "{}",
        errors[0].2
    );
}

#[test]
fn malformed_duration_fails_schema_validation_naming_the_field() {
    let mut doc = seed("application-repo");
    doc["spec"]["interval"] = json!("1x");
    let errors = errors_at(&doc);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "spec.interval");
    assert!(errors[0].2.contains("1x"), "{}", errors[0].2);

    let mut doc = seed("application-repo");
    doc["spec"]["timeout"] = json!("1h");
    let errors = errors_at(&doc);
    assert_eq!(
        errors.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["spec.timeout"],
        "source timeouts exclude hours"
    );
}

#[test]
fn missing_required_url_fails_schema_validation_naming_the_field() {
    let mut doc = seed("application-repo");
    doc["spec"].as_object_mut().unwrap().remove("url");
    let errors = errors_at(&doc);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].0.as_str(), errors[0].1),
        ("spec.url", FieldErrorKind::Required)
    );

    let mut doc = seed("application-repo");
    doc["spec"]["url"] = json!("ftp://example.com/repo.git");
    let errors = errors_at(&doc);
    assert_eq!(
        errors.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["spec.url"]
    );
}

#[test]
fn helm_release_values_are_free_form_and_kept_by_pruning() {
    let mut doc = seed("payment-service");
    doc["spec"]["values"]["anything"] = json!({"nested": [1, "two", {"three": true}]});
    assert!(errors_at(&doc).is_empty());
    let mut pruned = doc.clone();
    prune(&mut pruned, &schema_for(&doc));
    assert_eq!(pruned["spec"]["values"], doc["spec"]["values"]);
}

#[test]
fn unknown_fields_are_pruned_like_the_api_server_does() {
    let mut doc = seed("bitnami");
    doc["spec"]["notAFluxField"] = json!("x");
    let schema = schema_for(&doc);
    prune(&mut doc, &schema);
    assert!(doc["spec"].get("notAFluxField").is_none());
    assert_eq!(doc["spec"]["url"], "https://charts.bitnami.com/bitnami");
}
