//! RFC 7386 merge patch, checked against the RFC's appendix A examples.

use flux_apimachinery::merge_patch::apply;
use serde_json::{Value, json};

fn check(doc: Value, patch: Value, want: Value) {
    assert_eq!(apply(&doc, &patch), want, "doc {doc} patch {patch}");
}

#[test]
fn merge_patch_follows_rfc7386_appendix_a() {
    check(json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"}));
    check(json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"}));
    check(json!({"a":"b"}), json!({"a":null}), json!({}));
    check(
        json!({"a":"b","b":"c"}),
        json!({"a":null}),
        json!({"b":"c"}),
    );
    check(json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"}));
    check(json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]}));
    check(
        json!({"a":{"b":"c"}}),
        json!({"a":{"b":"d","c":null}}),
        json!({"a":{"b":"d"}}),
    );
    check(json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]}));
    check(json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"]));
    check(json!({"a":"b"}), json!(["c"]), json!(["c"]));
    check(json!({"a":"foo"}), json!(null), json!(null));
    check(json!({"a":"foo"}), json!("bar"), json!("bar"));
    check(json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1}));
    check(json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"}));
    check(
        json!({}),
        json!({"a":{"bb":{"ccc":null}}}),
        json!({"a":{"bb":{}}}),
    );
}

#[test]
fn merge_patch_replaces_lists_of_containers_wholesale() {
    let doc = json!({"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}});
    let patch = json!({"spec":{"containers":[{"name":"a","image":"z"}]}});
    assert_eq!(
        apply(&doc, &patch),
        json!({"spec":{"containers":[{"name":"a","image":"z"}]}})
    );
}

#[test]
fn merge_patch_keeps_member_order_of_the_document() {
    let doc = json!({"z":1,"a":2,"m":3});
    let out = apply(&doc, &json!({"a":5,"b":6}));
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["z", "a", "m", "b"]);
}
