//! A manifest per kind and served version that sets every documented Flux field: each parses,
//! round-trips exactly, validates against its generated schema and loses nothing to pruning.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use flux_api::{FluxObject, crds};
use flux_apimachinery::schema::{prune, validate};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use serde_json::Value;

const ALL_FIELDS: &str = include_str!("fixtures/all-fields.yaml");

fn docs() -> Vec<Value> {
    serde_yaml::Deserializer::from_str(ALL_FIELDS)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

fn schema_for(doc: &Value) -> JSONSchemaProps {
    static ALL: OnceLock<Vec<CustomResourceDefinition>> = OnceLock::new();
    let (group, version) = doc["apiVersion"].as_str().unwrap().split_once('/').unwrap();
    ALL.get_or_init(crds::all)
        .iter()
        .find(|c| c.spec.group == group && c.spec.names.kind == doc["kind"])
        .and_then(|c| c.spec.versions.iter().find(|v| v.name == version))
        .and_then(|v| v.schema.clone())
        .and_then(|s| s.open_api_v3_schema)
        .unwrap_or_else(|| panic!("no schema for {} {}", doc["apiVersion"], doc["kind"]))
}

fn what(doc: &Value) -> String {
    format!(
        "{} {}",
        doc["apiVersion"].as_str().unwrap_or("?"),
        doc["kind"].as_str().unwrap_or("?")
    )
}

#[test]
fn the_fixture_covers_every_kind_and_served_version() {
    let covered: BTreeSet<String> = docs().iter().map(what).collect();
    let served: BTreeSet<String> = crds::kinds()
        .iter()
        .flat_map(|k| {
            k.served_versions
                .iter()
                .map(move |v| format!("{}/{v} {}", k.group, k.kind))
        })
        .collect();
    assert_eq!(covered, served);
}

#[test]
fn every_field_round_trips_exactly_through_the_types() {
    for doc in docs() {
        let obj =
            FluxObject::from_json(doc.clone()).unwrap_or_else(|e| panic!("{}: {e}", what(&doc)));
        assert_eq!(
            obj.to_json(),
            doc,
            "{} changed in the round trip",
            what(&doc)
        );
    }
}

#[test]
fn every_field_is_declared_by_the_generated_schema() {
    for doc in docs() {
        let schema = schema_for(&doc);
        let errors = validate(&doc, &schema);
        assert!(errors.is_empty(), "{}: {errors:?}", what(&doc));
        let mut pruned = doc.clone();
        prune(&mut pruned, &schema);
        assert_eq!(pruned, doc, "{}: the schema lacks a field", what(&doc));
    }
}

#[test]
fn every_full_object_satisfies_fluxs_cross_field_rules() {
    for doc in docs() {
        let obj = FluxObject::from_json(doc.clone()).unwrap();
        assert_eq!(obj.validate(), Ok(()), "{}", what(&doc));
    }
}

#[test]
fn deprecated_fields_in_use_are_reported() {
    let warnings = |name: &str, kind: &str| {
        let doc = docs()
            .into_iter()
            .find(|d| d["metadata"]["name"] == name && d["kind"] == kind)
            .unwrap();
        FluxObject::from_json(doc).unwrap().deprecation_warnings()
    };
    assert_eq!(
        warnings("full", "HelmRelease"),
        [
            "spec.install.skipCRDs is deprecated, use spec.install.crds: Skip",
            "spec.chart.spec.valuesFile is deprecated, use spec.chart.spec.valuesFiles",
            "spec.postRenderers[0].kustomize.patchesStrategicMerge is deprecated, use patches",
            "spec.postRenderers[0].kustomize.patchesJson6902 is deprecated, use patches",
        ]
    );
    assert_eq!(
        warnings("full", "HelmChart"),
        ["spec.valuesFile is deprecated, use spec.valuesFiles"]
    );
    assert_eq!(warnings("full", "Provider").len(), 2);
    assert!(warnings("full", "GitRepository").is_empty());
    assert_eq!(
        warnings("full-beta", "GitRepository"),
        [
            "source.toolkit.fluxcd.io/v1beta2 GitRepository is deprecated, upgrade to source.toolkit.fluxcd.io/v1"
        ]
    );
}
