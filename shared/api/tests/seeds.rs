//! Every manifest of the overview page parses into its typed kind and round-trips without losing
//! a field; bad values are rejected with errors that name the field.

use flux_api::image::v1::DEFAULT_AUTHOR_EMAIL;
use flux_api::{FluxObject, ParseError};
use serde_json::{Value, json};

const SEEDS: &str = include_str!("fixtures/seed-manifests.yaml");

fn seed_docs() -> Vec<Value> {
    serde_yaml::Deserializer::from_str(SEEDS)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

fn seed(name: &str) -> Value {
    seed_docs()
        .into_iter()
        .find(|d| d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no seed named {name}"))
}

/// Go's `omitempty`: false, "", [], {} and null mean "unset" on both sides of the comparison.
fn omit_empty(v: &Value) -> Option<Value> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(a) => {
            let items: Vec<Value> = a
                .iter()
                .map(|i| omit_empty(i).unwrap_or(Value::Null))
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(o) => {
            let map: serde_json::Map<String, Value> = o
                .iter()
                .filter_map(|(k, v)| omit_empty(v).map(|v| (k.clone(), v)))
                .collect();
            (!map.is_empty()).then_some(Value::Object(map))
        }
        other => Some(other.clone()),
    }
}

/// Defaults the types add on purpose: an ImageUpdateAutomation author without email gets Flux's bot address.
fn with_type_defaults(mut v: Value) -> Value {
    if v["kind"] == "ImageUpdateAutomation" {
        let author = &mut v["spec"]["git"]["commit"]["author"];
        if author.is_object() && author.get("email").is_none() {
            author["email"] = json!(DEFAULT_AUTHOR_EMAIL);
        }
    }
    v
}

#[test]
fn every_seed_manifest_parses_into_its_typed_kind() {
    let docs = seed_docs();
    assert_eq!(docs.len(), 24, "seed file changed");
    for doc in docs {
        let obj = FluxObject::from_json(doc.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(obj.api_version(), doc["apiVersion"].as_str().unwrap());
        assert_eq!(obj.kind(), doc["kind"].as_str().unwrap());
        assert_eq!(
            obj.metadata().name.as_deref(),
            doc["metadata"]["name"].as_str()
        );
    }
}

#[test]
fn every_seed_manifest_round_trips_without_losing_a_field() {
    for doc in seed_docs() {
        let name = doc["metadata"]["name"].clone();
        let back = FluxObject::from_json(doc.clone()).unwrap().to_json();
        assert_eq!(
            omit_empty(&back),
            omit_empty(&with_type_defaults(doc)),
            "{name} changed in the round trip"
        );
    }
}

#[test]
fn every_seed_manifest_satisfies_fluxs_cross_field_rules() {
    for obj in FluxObject::from_yaml_stream(SEEDS).unwrap() {
        assert_eq!(obj.validate(), Ok(()), "{:?}", obj.metadata().name);
    }
}

#[test]
fn the_seed_stream_parses_in_one_call() {
    let objects = FluxObject::from_yaml_stream(SEEDS).unwrap();
    assert_eq!(objects.len(), seed_docs().len());
}

#[test]
fn typed_fields_carry_the_seed_values() {
    let FluxObject::GitRepositoryV1(repo) =
        FluxObject::from_json(seed("application-repo")).unwrap()
    else {
        panic!("not a v1 GitRepository")
    };
    assert_eq!(repo.spec.url, "https://github.com/company/application.git");
    assert_eq!(repo.spec.interval.to_std().as_secs(), 60);
    assert_eq!(repo.spec.timeout().as_secs(), 60, "Flux's default timeout");
    assert_eq!(repo.spec.reference.unwrap().branch.as_deref(), Some("main"));

    let FluxObject::HelmReleaseV2(hr) = FluxObject::from_json(seed("payment-service")).unwrap()
    else {
        panic!("not a HelmRelease")
    };
    assert_eq!(hr.spec.values.as_ref().unwrap()["image"]["tag"], "v1.2.3");
    assert_eq!(
        hr.spec
            .install
            .as_ref()
            .unwrap()
            .remediation
            .as_ref()
            .unwrap()
            .retries,
        3
    );
    assert!(
        hr.spec
            .upgrade
            .as_ref()
            .unwrap()
            .remediation
            .as_ref()
            .unwrap()
            .remediate_last_failure()
    );
    assert_eq!(hr.release_name(), "payment-service");
    assert!(hr.spec.validate().is_ok());

    let FluxObject::HelmReleaseV2(hr) = FluxObject::from_json(seed("monitoring-stack")).unwrap()
    else {
        panic!("not a HelmRelease")
    };
    assert_eq!(
        hr.spec.values.as_ref().unwrap()["grafana"]["adminPassword"],
        "${GRAFANA_ADMIN_PASSWORD}",
        "values are kept verbatim, substitution is not the type's business"
    );
}

#[test]
fn kustomization_validation_client_is_accepted_and_reported_as_deprecated() {
    let obj = FluxObject::from_json(seed("tenants")).unwrap();
    let warnings = obj.deprecation_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("spec.validation") && warnings[0].contains("client"),
        "{warnings:?}"
    );
    let FluxObject::KustomizationV1(ks) = FluxObject::from_json(seed("applications")).unwrap()
    else {
        panic!()
    };
    assert!(ks.spec.deprecation_warnings().is_empty());
}

#[test]
fn image_update_automation_author_without_email_gets_flux_bot_address() {
    let obj = FluxObject::from_json(seed("application-automation")).unwrap();
    let FluxObject::ImageUpdateAutomationV1beta2(auto) = &obj else {
        panic!("not a v1beta2 ImageUpdateAutomation")
    };
    let author = &auto.spec.base.git.as_ref().unwrap().commit.author;
    assert_eq!(author.name.as_deref(), Some("FluxBot"));
    assert_eq!(author.email, "fluxcdbot@users.noreply.github.com");
}

#[test]
fn v1beta2_objects_convert_to_the_storage_version_by_rewriting_api_version() {
    let obj = FluxObject::from_json(seed("config-bucket")).unwrap();
    assert_eq!(
        obj.deprecation_warnings(),
        [
            "source.toolkit.fluxcd.io/v1beta2 Bucket is deprecated, upgrade to source.toolkit.fluxcd.io/v1",
            "spec.endpoint is not set: using s3.us-east-1.amazonaws.com (Flux requires spec.endpoint)",
        ]
    );
    let FluxObject::BucketV1(bucket) = obj.into_storage_version().unwrap() else {
        panic!("not converted to v1")
    };
    assert_eq!(bucket.spec.bucket_name, "my-config-bucket");
    assert_eq!(
        bucket.spec.endpoint().as_deref(),
        Some("s3.us-east-1.amazonaws.com")
    );
    assert_eq!(bucket.spec.region.as_deref(), Some("us-east-1"));

    let policy = FluxObject::from_json(seed("payment-service-staging")).unwrap();
    let FluxObject::ImagePolicyV1(policy) = policy.into_storage_version().unwrap() else {
        panic!("not converted to v1")
    };
    assert_eq!(
        policy.spec.filter_tags.unwrap().extract.as_deref(),
        Some("$ts")
    );
}

fn invalid_field(err: ParseError) -> (String, String) {
    match err {
        ParseError::InvalidField { path, message, .. } => (path, message),
        other => panic!("expected InvalidField, got {other:?}"),
    }
}

#[test]
fn unknown_enum_value_is_rejected_naming_the_field() {
    let mut doc = seed("slack-alerts");
    doc["spec"]["type"] = json!("foo");
    let (path, message) = invalid_field(FluxObject::from_json(doc).unwrap_err());
    assert_eq!(path, "spec.type");
    assert!(
        message.contains("unknown variant `foo`") && message.contains("slack"),
        "{message}"
    );

    let mut doc = seed("config-bucket");
    doc["apiVersion"] = json!("source.toolkit.fluxcd.io/v1");
    doc["spec"]["endpoint"] = json!("s3.amazonaws.com");
    doc["spec"]["provider"] = json!("foo");
    let err = FluxObject::from_json(doc).unwrap_err();
    assert!(
        err.to_string()
            .contains("Bucket flux-system/config-bucket: spec.provider: unknown variant `foo`"),
        "{err}"
    );
}

#[test]
fn malformed_duration_is_rejected_naming_the_field() {
    let mut doc = seed("application-repo");
    doc["spec"]["interval"] = json!("1x");
    let (path, message) = invalid_field(FluxObject::from_json(doc).unwrap_err());
    assert_eq!(path, "spec.interval");
    assert!(message.contains("invalid duration \"1x\""), "{message}");

    let mut doc = seed("payment-service");
    doc["spec"]["upgrade"]["timeout"] = json!("5 minutes");
    let (path, _) = invalid_field(FluxObject::from_json(doc).unwrap_err());
    assert_eq!(path, "spec.upgrade.timeout");
}

#[test]
fn missing_required_field_is_rejected_naming_the_field() {
    let mut doc = seed("bitnami");
    doc["spec"].as_object_mut().unwrap().remove("url");
    let err = FluxObject::from_json(doc).unwrap_err();
    assert_eq!(
        err.to_string(),
        "HelmRepository flux-system/bitnami: spec.url: required field is missing"
    );

    let mut doc = seed("applications");
    doc["spec"]["sourceRef"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    let (path, _) = invalid_field(FluxObject::from_json(doc).unwrap_err());
    assert_eq!(path, "spec.sourceRef.name");
}

#[test]
fn unknown_kinds_and_documents_without_type_meta_are_rejected() {
    let err = FluxObject::from_json(json!({"apiVersion": "v1", "kind": "ConfigMap"})).unwrap_err();
    assert!(matches!(err, ParseError::UnknownKind { .. }), "{err}");
    let err = FluxObject::from_json(json!({"kind": "GitRepository"})).unwrap_err();
    assert_eq!(err, ParseError::MissingTypeMeta("apiVersion"));
    assert!(matches!(
        FluxObject::from_yaml("a: [").unwrap_err(),
        ParseError::Yaml(_)
    ));
}
