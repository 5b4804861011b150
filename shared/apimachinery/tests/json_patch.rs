//! RFC 6902 JSON patch, checked against the RFC's appendix A examples and error cases.

use flux_apimachinery::{PatchError, json_patch::apply};
use serde_json::json;

#[test]
fn json_patch_adds_object_member() {
    let out = apply(
        &json!({"foo":"bar"}),
        &json!([{"op":"add","path":"/baz","value":"qux"}]),
    );
    assert_eq!(out.unwrap(), json!({"foo":"bar","baz":"qux"}));
}

#[test]
fn json_patch_adds_array_element_before_index() {
    let out = apply(
        &json!({"foo":["bar","baz"]}),
        &json!([{"op":"add","path":"/foo/1","value":"qux"}]),
    );
    assert_eq!(out.unwrap(), json!({"foo":["bar","qux","baz"]}));
}

#[test]
fn json_patch_appends_with_dash_index() {
    let out = apply(
        &json!({"foo":[1,2]}),
        &json!([{"op":"add","path":"/foo/-","value":[3]}]),
    );
    assert_eq!(out.unwrap(), json!({"foo":[1,2,[3]]}));
}

#[test]
fn json_patch_removes_and_replaces() {
    let out = apply(
        &json!({"baz":"qux","foo":"bar","arr":[1,2,3]}),
        &json!([
            {"op":"remove","path":"/baz"},
            {"op":"replace","path":"/foo","value":"boo"},
            {"op":"remove","path":"/arr/1"}
        ]),
    );
    assert_eq!(out.unwrap(), json!({"foo":"boo","arr":[1,3]}));
}

#[test]
fn json_patch_moves_and_copies_values() {
    let doc = json!({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}});
    let out = apply(
        &doc,
        &json!([
            {"op":"move","from":"/foo/waldo","path":"/qux/thud"},
            {"op":"copy","from":"/qux/corge","path":"/foo/corge"}
        ]),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"foo":{"bar":"baz","corge":"grault"},"qux":{"corge":"grault","thud":"fred"}})
    );
    let moved = apply(
        &json!({"foo":["all","grass","cows","eat"]}),
        &json!([{"op":"move","from":"/foo/1","path":"/foo/3"}]),
    );
    assert_eq!(moved.unwrap(), json!({"foo":["all","cows","eat","grass"]}));
}

#[test]
fn json_patch_test_operation_passes_and_fails() {
    let doc = json!({"baz":"qux","foo":["a",2,"c"]});
    let ok = apply(
        &doc,
        &json!([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]),
    );
    assert_eq!(ok.unwrap(), doc);
    let failed = apply(&doc, &json!([{"op":"test","path":"/baz","value":"bar"}]));
    assert_eq!(
        failed,
        Err(PatchError::TestFailed {
            path: "/baz".into()
        })
    );
}

#[test]
fn json_patch_unescapes_pointer_tokens() {
    let doc = json!({"metadata":{"annotations":{"a/b":"1","m~n":"2"}}});
    let out = apply(
        &doc,
        &json!([
            {"op":"replace","path":"/metadata/annotations/a~1b","value":"x"},
            {"op":"remove","path":"/metadata/annotations/m~0n"}
        ]),
    );
    assert_eq!(
        out.unwrap(),
        json!({"metadata":{"annotations":{"a/b":"x"}}})
    );
}

#[test]
fn json_patch_adding_to_missing_parent_is_an_error() {
    let out = apply(
        &json!({"foo":"bar"}),
        &json!([{"op":"add","path":"/baz/bat","value":"qux"}]),
    );
    assert!(matches!(out, Err(PatchError::PathNotFound(_))));
}

#[test]
fn json_patch_rejects_out_of_range_and_malformed_indexes() {
    let doc = json!({"a":[1,2]});
    for path in ["/a/3", "/a/01", "/a/-1", "/a/x"] {
        let out = apply(&doc, &json!([{"op":"add","path":path,"value":0}]));
        assert!(
            matches!(out, Err(PatchError::BadIndex { .. })),
            "{path}: {out:?}"
        );
    }
    let out = apply(&doc, &json!([{"op":"remove","path":"/a/2"}]));
    assert!(matches!(out, Err(PatchError::BadIndex { .. })));
}

#[test]
fn json_patch_is_atomic_when_a_later_operation_fails() {
    let doc = json!({"a":1});
    let out = apply(
        &doc,
        &json!([{"op":"add","path":"/b","value":2},{"op":"remove","path":"/missing"}]),
    );
    assert!(out.is_err());
    assert_eq!(doc, json!({"a":1}));
}

#[test]
fn json_patch_rejects_malformed_operations() {
    let doc = json!({});
    for patch in [
        json!({"op":"add"}),
        json!([{"path":"/a","value":1}]),
        json!([{"op":"frobnicate","path":"/a"}]),
        json!([{"op":"add","path":"/a"}]),
        json!([{"op":"add","path":"a","value":1}]),
        json!([{"op":"move","from":"/a","path":"/a/b"}]),
        json!(["not an object"]),
        json!([{"op":"add","path":"/~2","value":1}]),
    ] {
        assert!(apply(&doc, &patch).is_err(), "{patch} should be rejected");
    }
}

#[test]
fn json_patch_replaces_the_whole_document_at_the_root_pointer() {
    let out = apply(
        &json!({"a":1}),
        &json!([{"op":"replace","path":"","value":[1]}]),
    );
    assert_eq!(out.unwrap(), json!([1]));
}

#[test]
fn json_patch_test_treats_a_missing_member_as_null_like_the_api_server() {
    // kube-rs' finalizer helper tests /metadata/finalizers against null before adding the
    // first finalizer; evanphx/json-patch accepts that when the parent object exists.
    let doc = json!({"metadata": {"name": "x"}});
    let patch = json!([
        {"op": "test", "path": "/metadata/finalizers", "value": null},
        {"op": "add", "path": "/metadata/finalizers", "value": ["f"]}
    ]);
    let out = apply(&doc, &patch).unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["f"]));
    let missing_parent = json!([{"op": "test", "path": "/nope/x", "value": null}]);
    assert!(apply(&doc, &missing_parent).is_err());
    let not_null = json!([{"op": "test", "path": "/metadata/gone", "value": 1}]);
    assert!(apply(&doc, &not_null).is_err());
}
