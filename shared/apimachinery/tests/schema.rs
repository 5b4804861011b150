//! Structural schema defaulting, pruning and validation of custom resources.

use flux_apimachinery::schema::{FieldErrorKind, apply_defaults, prune, validate};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::{Value, json};

fn schema(v: Value) -> JSONSchemaProps {
    serde_json::from_value(v).expect("test schema is valid")
}

fn messages(obj: Value, s: &JSONSchemaProps) -> Vec<String> {
    validate(&obj, s).iter().map(ToString::to_string).collect()
}

fn kustomization_schema() -> JSONSchemaProps {
    schema(json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "required": ["interval", "sourceRef"],
                "properties": {
                    "interval": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"},
                    "prune": {"type": "boolean", "default": false},
                    "provider": {"type": "string", "enum": ["generic", "aws"]},
                    "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "format": "int32"},
                    "path": {"type": "string", "maxLength": 5, "minLength": 1},
                    "port": {"x-kubernetes-int-or-string": true},
                    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2, "x-kubernetes-list-type": "set"},
                    "sourceRef": {
                        "type": "object",
                        "required": ["kind", "name"],
                        "properties": {
                            "kind": {"type": "string"},
                            "name": {"type": "string"},
                            "namespace": {"type": "string", "default": "flux-system"}
                        }
                    },
                    "retry": {
                        "type": "object",
                        "default": {},
                        "properties": {"attempts": {"type": "integer", "default": 3}}
                    },
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                               "properties": {"known": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                    "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                                 "properties": {"spec": {"type": "object", "properties": {"x": {"type": "string"}}}}},
                    "optional": {"type": "string", "nullable": true},
                    "when": {"type": "string", "format": "date-time"},
                    "timeout": {"type": "string", "format": "duration"}
                }
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }
    }))
}

#[test]
fn defaults_fill_missing_fields_and_nested_defaults_of_defaulted_objects() {
    let mut obj =
        json!({"spec": {"interval": "1m", "sourceRef": {"kind": "GitRepository", "name": "x"}}});
    apply_defaults(&mut obj, &kustomization_schema());
    assert_eq!(obj["spec"]["prune"], json!(false));
    assert_eq!(obj["spec"]["sourceRef"]["namespace"], json!("flux-system"));
    assert_eq!(obj["spec"]["retry"], json!({"attempts": 3}));
}

#[test]
fn defaults_do_not_override_set_values_and_replace_non_nullable_nulls() {
    let mut obj = json!({"spec": {"prune": true, "sourceRef": {"namespace": null}, "optional": null, "path": null}});
    apply_defaults(&mut obj, &kustomization_schema());
    assert_eq!(obj["spec"]["prune"], json!(true));
    assert_eq!(obj["spec"]["sourceRef"]["namespace"], json!("flux-system"));
    assert_eq!(
        obj["spec"]["optional"],
        Value::Null,
        "nullable null is kept"
    );
    assert!(
        obj["spec"].get("path").is_none(),
        "non-nullable null without default is dropped"
    );
}

#[test]
fn prune_drops_unknown_fields_but_keeps_root_type_meta_and_preserved_subtrees() {
    let mut obj = json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "app", "labels": {"a": "b"}, "bogus": 1},
        "spec": {
            "interval": "1m",
            "unknown": "x",
            "labels": {"any": "thing"},
            "values": {"free": {"form": 1}, "known": {"a": "x", "b": "dropped"}},
            "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}, "spec": {"x": "1", "y": "2"}, "extra": 1}
        },
        "status": {"anything": [1, 2]},
        "junk": true
    });
    prune(&mut obj, &kustomization_schema());
    assert_eq!(
        obj,
        json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "app", "labels": {"a": "b"}},
            "spec": {
                "interval": "1m",
                "labels": {"any": "thing"},
                "values": {"free": {"form": 1}, "known": {"a": "x"}},
                "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}, "spec": {"x": "1"}}
            },
            "status": {"anything": [1, 2]}
        })
    );
}

#[test]
fn prune_removes_everything_from_an_object_schema_without_properties() {
    let s = schema(json!({"type": "object", "properties": {"spec": {"type": "object"}}}));
    let mut obj = json!({"spec": {"a": 1}});
    prune(&mut obj, &s);
    assert_eq!(obj, json!({"spec": {}}));
}

#[test]
fn validate_accepts_a_valid_object() {
    let obj = json!({
        "apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n"},
        "spec": {"interval": "10m", "provider": "aws", "replicas": 3, "port": "http",
                 "sourceRef": {"kind": "GitRepository", "name": "repo"}, "optional": null,
                 "when": "2024-01-02T03:04:05Z", "timeout": "1m30s", "tags": ["a", "b"]}
    });
    assert_eq!(messages(obj, &kustomization_schema()), Vec::<String>::new());
}

#[test]
fn validate_reports_missing_required_fields() {
    let errs = messages(
        json!({"spec": {"sourceRef": {"kind": "GitRepository"}}}),
        &kustomization_schema(),
    );
    assert_eq!(
        errs,
        [
            "spec.interval: Required value",
            "spec.sourceRef.name: Required value"
        ]
    );
}

#[test]
fn validate_reports_unsupported_enum_values_like_kubernetes() {
    let errs = messages(
        json!({"spec": {"interval": "1m", "sourceRef": {"kind": "a", "name": "b"}, "provider": "foo"}}),
        &kustomization_schema(),
    );
    assert_eq!(
        errs,
        [r#"spec.provider: Unsupported value: "foo": supported values: "generic", "aws""#]
    );
}

#[test]
fn validate_reports_wrong_types_with_the_actual_type() {
    let errs = messages(
        json!({"spec": {"interval": 5, "sourceRef": {"kind": "a", "name": "b"}, "prune": "yes", "port": 1.5}}),
        &kustomization_schema(),
    );
    assert_eq!(
        errs,
        [
            r#"spec.interval: Invalid value: "integer": spec.interval in body must be of type string: "integer""#,
            r#"spec.prune: Invalid value: "string": spec.prune in body must be of type boolean: "string""#,
            r#"spec.port: Invalid value: 1.5: spec.port in body must be of type integer,string: "number""#,
        ]
    );
    let e = &validate(
        &json!({"spec": {"interval": 5, "sourceRef": {"kind": "a", "name": "b"}}}),
        &kustomization_schema(),
    )[0];
    assert_eq!(e.kind, FieldErrorKind::TypeInvalid);
}

#[test]
fn validate_checks_pattern_bounds_lengths_and_items() {
    let errs = messages(
        json!({"spec": {"interval": "soon", "sourceRef": {"kind": "a", "name": "b"},
                        "replicas": 11, "path": "toolong", "tags": ["a", "a", "b"]}}),
        &kustomization_schema(),
    );
    assert_eq!(
        errs,
        [
            r#"spec.interval: Invalid value: "soon": spec.interval in body should match '^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$'"#,
            "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
            "spec.path: Too long: may not be more than 5 bytes",
            "spec.tags: Too many: 3: must have at most 2 items",
            r#"spec.tags[1]: Duplicate value: "a""#,
        ]
    );
    let errs = messages(
        json!({"spec": {"interval": "1m", "sourceRef": {"kind": "a", "name": "b"}, "replicas": 0, "path": ""}}),
        &kustomization_schema(),
    );
    assert_eq!(
        errs,
        [
            "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
            r#"spec.path: Invalid value: "": spec.path in body should be at least 1 chars long"#,
        ]
    );
}

#[test]
fn validate_checks_formats_kubernetes_knows() {
    let errs = messages(
        json!({"spec": {"interval": "1m", "sourceRef": {"kind": "a", "name": "b"},
                        "when": "yesterday", "timeout": "5 parsecs"}}),
        &kustomization_schema(),
    );
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].starts_with("spec.when: Invalid value: \"yesterday\""));
    assert!(errs[1].contains("must be of type duration"));
}

#[test]
fn validate_rejects_null_in_non_nullable_fields() {
    let errs = messages(
        json!({"spec": {"interval": null, "sourceRef": {"kind": "a", "name": "b"}}}),
        &kustomization_schema(),
    );
    assert_eq!(
        errs,
        [
            r#"spec.interval: Invalid value: "null": spec.interval in body must be of type string: "null""#
        ]
    );
}

#[test]
fn validate_requires_type_meta_in_embedded_resources() {
    let errs = messages(
        json!({"spec": {"interval": "1m", "sourceRef": {"kind": "a", "name": "b"}, "template": {"spec": {}}}}),
        &kustomization_schema(),
    );
    assert_eq!(
        errs,
        [
            "spec.template.apiVersion: Required value: must not be empty",
            "spec.template.kind: Required value: must not be empty",
        ]
    );
}

#[test]
fn validate_evaluates_one_of_any_of_and_not() {
    let s = schema(json!({
        "type": "object",
        "properties": {"spec": {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
            "not": {"required": ["c"]}
        }}
    }));
    assert!(validate(&json!({"spec": {"a": "x"}}), &s).is_empty());
    let both = messages(json!({"spec": {"a": "x", "b": "y"}}), &s);
    assert_eq!(
        both,
        [
            r#"spec: Invalid value: "object": spec in body must validate one and only one schema (oneOf)"#
        ]
    );
    let any = schema(json!({"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 1}]}));
    assert!(validate(&json!(3), &any).is_empty());
    assert_eq!(validate(&json!("long"), &any).len(), 1);
}

#[test]
fn validate_checks_additional_properties_and_list_map_keys() {
    let s = schema(json!({
        "type": "object",
        "properties": {
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                      "items": {"type": "object", "properties": {"name": {"type": "string"}}}}
        }
    }));
    let errs = messages(
        json!({"labels": {"a": 1}, "items": [{"name": "x"}, {"name": "x"}]}),
        &s,
    );
    assert_eq!(
        errs,
        [
            r#"labels.a: Invalid value: "integer": labels.a in body must be of type string: "integer""#,
            r#"items[1]: Duplicate value: map["name":"x"]"#,
        ]
    );
}

#[test]
fn validate_reports_property_count_bounds_as_invalid() {
    let s = schema(json!({"type": "object", "properties": {"m": {
        "type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}}}}));
    assert_eq!(
        messages(json!({"m": {"a": "1", "b": "2"}}), &s),
        [r#"m: Invalid value: "object": m in body should have at most 1 properties"#]
    );
}
