//! Structural checks of the generated CRDs: every kind, every served version.

use flux_api::crds;

#[test]
fn every_kind_has_one_crd_with_all_served_versions_and_one_storage_version() {
    let all = crds::all();
    assert_eq!(all.len(), crds::kinds().len());
    for (info, crd) in crds::kinds().iter().zip(&all) {
        assert_eq!(crd.metadata.name.as_deref(), Some(info.crd_name().as_str()));
        assert_eq!(crd.spec.group, info.group);
        assert_eq!(crd.spec.names.kind, info.kind);
        assert_eq!(crd.spec.names.plural, info.plural);
        assert_eq!(crd.spec.names.singular.as_deref(), Some(info.singular));
        let short: Vec<&str> = crd
            .spec
            .names
            .short_names
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        assert_eq!(short, info.short_names, "{}", info.kind);
        assert_eq!(
            crd.spec.scope,
            if info.namespaced {
                "Namespaced"
            } else {
                "Cluster"
            }
        );
        let names: Vec<&str> = crd.spec.versions.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, info.served_versions, "{}", info.kind);
        let storage: Vec<&str> = crd
            .spec
            .versions
            .iter()
            .filter(|v| v.storage)
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(storage, [info.storage_version], "{}", info.kind);
        assert!(crd.spec.versions.iter().all(|v| v.served));
        assert_eq!(
            crd.spec.conversion.as_ref().map(|c| c.strategy.as_str()),
            Some("None")
        );
    }
}

/// Flux made Provider and Alert static objects in v1beta3: no status, no status subresource.
fn is_static(kind: &str, version: &str) -> bool {
    version == "v1beta3" && matches!(kind, "Provider" | "Alert")
}

#[test]
fn every_version_has_a_structural_schema_status_subresource_and_printer_columns() {
    for crd in crds::all() {
        for v in &crd.spec.versions {
            let kind = crd.spec.names.kind.as_str();
            let what = format!("{kind} {}", v.name);
            let schema = v
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .expect(&what);
            assert_eq!(schema.type_.as_deref(), Some("object"), "{what}");
            let props = schema.properties.as_ref().expect(&what);
            for key in ["apiVersion", "kind", "metadata", "spec"] {
                assert!(props.contains_key(key), "{what} lacks {key}");
            }
            let cols: Vec<&str> = v
                .additional_printer_columns
                .iter()
                .flatten()
                .map(|c| c.name.as_str())
                .collect();
            assert!(cols.contains(&"Age"), "{what} lacks column Age: {cols:?}");
            let has_status_subresource = v
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some();
            if is_static(kind, &v.name) {
                assert!(
                    !has_status_subresource && !props.contains_key("status"),
                    "{what}"
                );
            } else {
                assert!(
                    has_status_subresource,
                    "{what} lacks the status subresource"
                );
                let status = &props["status"];
                let expected_default = (kind != "ExternalArtifact")
                    .then(|| serde_json::json!({"observedGeneration": -1}));
                assert_eq!(
                    status.default.as_ref().map(|d| d.0.clone()),
                    expected_default,
                    "{what}"
                );
                for col in ["Ready", "Status"] {
                    assert!(cols.contains(&col), "{what} lacks column {col}: {cols:?}");
                }
            }
            let json = serde_json::to_value(schema).unwrap();
            assert_structural(&json, &what, "");
        }
    }
}

#[test]
fn older_versions_are_served_deprecated_and_not_stored() {
    for crd in crds::all() {
        for v in crd.spec.versions.iter().filter(|v| !v.storage) {
            assert_eq!(
                v.deprecated,
                Some(true),
                "{} {}",
                crd.spec.names.kind,
                v.name
            );
            let warning = v.deprecation_warning.as_deref().unwrap_or_default();
            assert!(warning.contains(&crd.spec.names.kind), "{warning}");
        }
    }
}

#[test]
fn helm_release_values_preserve_unknown_fields_like_flux() {
    let hr = crds::all()
        .into_iter()
        .find(|c| c.spec.names.kind == "HelmRelease")
        .unwrap();
    let schema = hr.spec.versions[0]
        .schema
        .clone()
        .unwrap()
        .open_api_v3_schema
        .unwrap();
    let values = &schema.properties.unwrap()["spec"]
        .properties
        .clone()
        .unwrap()["values"];
    assert_eq!(values.x_kubernetes_preserve_unknown_fields, Some(true));
    assert!(values.properties.is_none());
}

#[test]
fn image_update_automation_author_email_is_optional_with_flux_bot_default() {
    let crd = crds::all()
        .into_iter()
        .find(|c| c.spec.names.kind == "ImageUpdateAutomation")
        .unwrap();
    let schema = serde_json::to_value(&crd.spec.versions[0].schema).unwrap();
    let author = &schema["openAPIV3Schema"]["properties"]["spec"]["properties"]["git"]["properties"]
        ["commit"]["properties"]["author"];
    let required: Vec<&str> = author["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(!required.contains(&"email"), "{author}");
    assert_eq!(
        author["properties"]["email"]["default"],
        "fluxcdbot@users.noreply.github.com"
    );
}

/// Kubernetes' structural schema rules: every node has a type (or int-or-string /
/// preserve-unknown-fields), and no `$ref`, `anyOf` without types, or `nullable`-only nodes.
fn assert_structural(node: &serde_json::Value, what: &str, path: &str) {
    let obj = node
        .as_object()
        .unwrap_or_else(|| panic!("{what}{path}: not an object"));
    assert!(!obj.contains_key("$ref"), "{what}{path}: $ref");
    let typed = obj.contains_key("type")
        || obj.get("x-kubernetes-int-or-string") == Some(&serde_json::Value::Bool(true))
        || obj.get("x-kubernetes-preserve-unknown-fields") == Some(&serde_json::Value::Bool(true));
    assert!(typed, "{what}{path}: no type in {node}");
    if let Some(props) = obj.get("properties").and_then(|p| p.as_object()) {
        for (k, v) in props {
            assert_structural(v, what, &format!("{path}.{k}"));
        }
    }
    if let Some(items) = obj.get("items") {
        assert_structural(items, what, &format!("{path}[]"));
    }
    if let Some(ap) = obj.get("additionalProperties").filter(|a| a.is_object()) {
        assert_structural(ap, what, &format!("{path}{{}}"));
    }
}

#[test]
fn to_yaml_renders_one_document_per_crd_that_parses_back() {
    let all = crds::all();
    let yaml = crds::to_yaml(&all).unwrap();
    let docs: Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        serde_yaml::Deserializer::from_str(&yaml)
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect();
    assert_eq!(docs, all);
}

#[test]
fn for_component_splits_the_kinds_by_controller_and_rejects_unknown_names() {
    let mut total = 0;
    for component in crds::COMPONENTS {
        let crds = crds::for_component(component).unwrap();
        assert!(!crds.is_empty(), "{component}");
        total += crds.len();
    }
    assert_eq!(total, crds::all().len());
    let source: Vec<String> = crds::for_component("source-controller")
        .unwrap()
        .into_iter()
        .map(|c| c.spec.names.plural)
        .collect();
    assert_eq!(
        source,
        [
            "gitrepositories",
            "helmrepositories",
            "helmcharts",
            "buckets",
            "ocirepositories",
            "externalartifacts"
        ]
    );
    assert!(crds::for_component("flagger").is_none());
}

#[test]
fn storage_versions_carry_fluxs_cel_rules_on_the_spec() {
    for info in crds::kinds() {
        let crd = crds::crd_for(info);
        let rules = crds::spec_validation_rules(info.kind);
        for v in &crd.spec.versions {
            let spec = &v
                .schema
                .as_ref()
                .unwrap()
                .open_api_v3_schema
                .as_ref()
                .unwrap()
                .properties
                .as_ref()
                .unwrap()["spec"];
            let got: Vec<(&str, &str)> = spec
                .x_kubernetes_validations
                .iter()
                .flatten()
                .map(|r| (r.rule.as_str(), r.message.as_deref().unwrap_or_default()))
                .collect();
            let expected: &[(&str, &str)] = if v.storage { rules } else { &[] };
            assert_eq!(got, expected, "{} {}", info.kind, v.name);
        }
    }
    assert_eq!(
        crds::spec_validation_rules("HelmRelease")[0].1,
        "either chart or chartRef must be set"
    );
    assert_eq!(crds::spec_validation_rules("Bucket").len(), 7);
}
