//! Label and field selectors, per k8s.io/apimachinery's labels and fields packages.

use std::collections::BTreeMap;

use flux_apimachinery::selectors::{FieldSelector, LabelSelector, Requirement};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector as LabelSelectorObject, LabelSelectorRequirement,
};
use serde_json::json;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn label_selector_parses_every_operator() {
    let s = LabelSelector::parse("a=b, c!=d,e in (x, y),f notin (z),!g,h,i==j,n>3,m<7").unwrap();
    assert_eq!(
        s.requirements,
        vec![
            Requirement::Equals("a".into(), "b".into()),
            Requirement::NotEquals("c".into(), "d".into()),
            Requirement::In("e".into(), vec!["x".into(), "y".into()]),
            Requirement::NotIn("f".into(), vec!["z".into()]),
            Requirement::DoesNotExist("g".into()),
            Requirement::Exists("h".into()),
            Requirement::Equals("i".into(), "j".into()),
            Requirement::GreaterThan("n".into(), 3),
            Requirement::LessThan("m".into(), 7),
        ]
    );
}

#[test]
fn label_selector_matches_like_kubernetes() {
    let s = LabelSelector::parse("app=web,tier!=db,env in (prod,stage),!legacy,team").unwrap();
    assert!(s.matches(&labels(&[("app", "web"), ("env", "prod"), ("team", "a")])));
    assert!(!s.matches(&labels(&[("app", "web"), ("env", "dev"), ("team", "a")])));
    assert!(!s.matches(&labels(&[
        ("app", "web"),
        ("env", "prod"),
        ("team", "a"),
        ("legacy", "")
    ])));
    assert!(!s.matches(&labels(&[
        ("app", "web"),
        ("env", "prod"),
        ("tier", "db"),
        ("team", "a")
    ])));
    assert!(!s.matches(&labels(&[("app", "web"), ("env", "prod")])));
}

#[test]
fn negative_label_requirements_match_objects_without_the_label() {
    let s = LabelSelector::parse("tier!=db,env notin (dev)").unwrap();
    assert!(s.matches(&BTreeMap::new()));
}

#[test]
fn empty_label_selector_selects_everything() {
    let s = LabelSelector::parse("  ").unwrap();
    assert!(s.is_everything());
    assert!(s.matches(&labels(&[("x", "y")])));
    assert!(!LabelSelector::nothing().matches(&BTreeMap::new()));
}

#[test]
fn label_selector_with_qualified_keys_matches_objects() {
    let s = LabelSelector::parse("kustomize.toolkit.fluxcd.io/name=apps").unwrap();
    let obj = json!({"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": "apps"}}});
    assert!(s.matches_object(&obj));
    assert!(!s.matches_object(&json!({"metadata": {}})));
}

#[test]
fn malformed_label_selectors_are_rejected() {
    for bad in [
        "a=b,",
        "a in x",
        "a in (x",
        "=b",
        "a b",
        "a!b",
        "Bad Key=x",
        "a=b c",
        "a=-x-",
        "n>x",
        "a in ()",
        "a notin ( )",
    ] {
        assert!(
            LabelSelector::parse(bad).is_err(),
            "{bad:?} should not parse"
        );
    }
}

#[test]
fn label_selector_object_converts_match_labels_and_expressions() {
    let obj = LabelSelectorObject {
        match_labels: Some([("app".to_string(), "web".to_string())].into()),
        match_expressions: Some(vec![
            LabelSelectorRequirement {
                key: "env".into(),
                operator: "In".into(),
                values: Some(vec!["prod".into()]),
            },
            LabelSelectorRequirement {
                key: "old".into(),
                operator: "DoesNotExist".into(),
                values: None,
            },
        ]),
    };
    let s = LabelSelector::from_object(&obj).unwrap();
    assert!(s.matches(&labels(&[("app", "web"), ("env", "prod")])));
    assert!(!s.matches(&labels(&[("app", "web"), ("env", "prod"), ("old", "1")])));
    let bad = LabelSelectorObject {
        match_labels: None,
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "env".into(),
            operator: "In".into(),
            values: None,
        }]),
    };
    assert!(LabelSelector::from_object(&bad).is_err());
    let unknown_op = LabelSelectorObject {
        match_labels: None,
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "env".into(),
            operator: "Like".into(),
            values: None,
        }]),
    };
    assert!(LabelSelector::from_object(&unknown_op).is_err());
}

#[test]
fn field_selector_matches_metadata_and_nested_fields() {
    let event = json!({
        "metadata": {"name": "e1", "namespace": "flux-system"},
        "involvedObject": {"kind": "Kustomization", "name": "apps"},
        "type": "Warning",
        "count": 3
    });
    let s = FieldSelector::parse(
        "metadata.namespace=flux-system,involvedObject.kind==Kustomization,type!=Normal",
    )
    .unwrap();
    assert!(s.matches(&event));
    assert!(FieldSelector::parse("count=3").unwrap().matches(&event));
    assert!(
        !FieldSelector::parse("metadata.name=e2")
            .unwrap()
            .matches(&event)
    );
    assert!(
        FieldSelector::parse("spec.nodeName=")
            .unwrap()
            .matches(&event),
        "missing reads as empty"
    );
    assert!(FieldSelector::parse("").unwrap().matches(&event));
}

#[test]
fn field_selector_values_honour_escapes() {
    let s = FieldSelector::parse(r"metadata.name=a\,b\=c").unwrap();
    assert!(s.matches(&json!({"metadata": {"name": "a,b=c"}})));
    assert!(FieldSelector::parse("metadata.name").is_err());
    assert!(FieldSelector::parse(r"metadata.name=a\x").is_err());
}
