//! Strategic merge patch, following the cases documented in Kubernetes'
//! "Update API Objects in Place Using kubectl patch" task and the strategicpatch tests.

use flux_apimachinery::PatchError;
use flux_apimachinery::strategic_merge::{apply, builtin_schema};
use serde_json::{Value, json};

fn deployment(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "finalizers": ["a", "b"]},
        "spec": {"replicas": 1, "template": {"spec": {"containers": containers}}}
    })
}

fn patch_deployment(doc: &Value, patch: Value) -> Result<Value, PatchError> {
    apply(
        doc,
        &patch,
        builtin_schema("apps/v1", "Deployment").as_ref(),
    )
}

fn container_names(v: &Value) -> Vec<&str> {
    v["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[test]
fn strategic_merge_merges_containers_by_name() {
    let doc =
        deployment(json!([{"name": "app", "image": "nginx:1", "ports": [{"containerPort": 80}]}]));
    let out = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "nginx:2"},
            {"name": "sidecar", "image": "envoy"}
        ]}}}}),
    )
    .unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([
            {"name": "app", "image": "nginx:2", "ports": [{"containerPort": 80}]},
            {"name": "sidecar", "image": "envoy"}
        ])
    );
    assert_eq!(out["spec"]["replicas"], json!(1));
}

#[test]
fn strategic_merge_replaces_lists_without_merge_key() {
    let doc = deployment(json!([{"name": "app", "args": ["a", "b"]}]));
    let out = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "args": ["c"]}]}}}}),
    )
    .unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["c"])
    );
}

#[test]
fn strategic_merge_deletes_list_item_with_patch_delete() {
    let doc = deployment(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]));
    let out = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}}}}),
    )
    .unwrap();
    assert_eq!(container_names(&out), ["a", "c"]);
}

#[test]
fn strategic_merge_replaces_list_with_patch_replace_element() {
    let doc = deployment(json!([{"name": "a", "image": "x"}, {"name": "b"}]));
    let out = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "z"}, {"$patch": "replace"}]}}}}),
    )
    .unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "z"}])
    );
}

#[test]
fn strategic_merge_replaces_map_with_patch_replace() {
    let doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
    let out = apply(
        &doc,
        &json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}),
        None,
    )
    .unwrap();
    assert_eq!(out, json!({"metadata": {"labels": {"c": "3"}}}));
    let out = apply(
        &doc,
        &json!({"metadata": {"labels": {"$patch": "delete"}}}),
        None,
    )
    .unwrap();
    assert_eq!(out, json!({"metadata": {"labels": {}}}));
}

#[test]
fn strategic_merge_null_deletes_members() {
    let doc = deployment(json!([{"name": "a", "image": "x", "imagePullPolicy": "Always"}]));
    let out = patch_deployment(
        &doc,
        json!({"spec": {"replicas": null, "template": {"spec": {"containers": [{"name": "a", "imagePullPolicy": null}]}}}}),
    )
    .unwrap();
    assert!(out["spec"].get("replicas").is_none());
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "a", "image": "x"}])
    );
}

#[test]
fn strategic_merge_unions_finalizers_and_deletes_from_primitive_list() {
    let doc = deployment(json!([]));
    let out = patch_deployment(&doc, json!({"metadata": {"finalizers": ["b", "c"]}})).unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
    let out = patch_deployment(
        &doc,
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
    )
    .unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
}

#[test]
fn strategic_merge_honours_set_element_order() {
    let doc = deployment(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]));
    let out = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}],
            "containers": [{"name": "a", "image": "new"}]
        }}}}),
    )
    .unwrap();
    assert_eq!(container_names(&out), ["c", "a", "b"]);
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][1]["image"],
        json!("new")
    );
}

#[test]
fn strategic_merge_keeps_server_only_items_before_later_patch_items() {
    let doc = deployment(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]));
    let out = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}, {"name": "d"}]}}}}),
    )
    .unwrap();
    assert_eq!(container_names(&out), ["a", "b", "c", "d"]);
}

#[test]
fn strategic_merge_retain_keys_clears_unlisted_members() {
    let doc = json!({"spec": {"template": {"spec": {"volumes": [
        {"name": "data", "emptyDir": {}}
    ]}}}});
    let out = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"volumes": [
            {"name": "data", "$retainKeys": ["name", "configMap"], "configMap": {"name": "cm"}}
        ]}}}}),
    )
    .unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["volumes"],
        json!([{"name": "data", "configMap": {"name": "cm"}}])
    );
}

#[test]
fn strategic_merge_merges_env_by_name_and_service_ports_by_port() {
    let doc = deployment(
        json!([{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}]),
    );
    let out = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "env": [{"name": "Y", "value": "3"}]}]}}}}),
    )
    .unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "X", "value": "1"}, {"name": "Y", "value": "3"}])
    );
    let svc = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}});
    let out = apply(
        &svc,
        &json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
        builtin_schema("v1", "Service").as_ref(),
    )
    .unwrap();
    assert_eq!(
        out["spec"]["ports"],
        json!([{"port": 80, "targetPort": 9090}, {"port": 443}])
    );
}

#[test]
fn strategic_merge_without_schema_replaces_lists() {
    let doc = json!({"spec": {"items": [{"name": "a"}]}, "keep": 1});
    let out = apply(&doc, &json!({"spec": {"items": [{"name": "b"}]}}), None).unwrap();
    assert_eq!(out, json!({"spec": {"items": [{"name": "b"}]}, "keep": 1}));
}

#[test]
fn strategic_merge_rejects_bad_directives_and_missing_merge_keys() {
    let doc = deployment(json!([{"name": "a"}]));
    let missing_key = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
    );
    assert!(
        matches!(missing_key, Err(PatchError::Invalid(m)) if m.contains("does not contain declared merge key: name"))
    );
    let unknown = patch_deployment(&doc, json!({"spec": {"$patch": "explode"}}));
    assert!(matches!(unknown, Err(PatchError::Directive(_))));
    assert!(apply(&doc, &json!([1]), None).is_err());
    assert!(apply(&json!("x"), &json!({}), None).is_err());
}

#[test]
fn strategic_merge_keeps_member_order_of_the_document() {
    let doc = json!({"b": {"x": 1}, "a": 1, "c": [1]});
    let out = apply(&doc, &json!({"b": {"y": 2}, "c": [2], "d": 0}), None).unwrap();
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["b", "a", "c", "d"]);
}

#[test]
fn strategic_merge_puts_a_new_container_before_existing_ones() {
    // The "Update API Objects in Place Using kubectl patch" task: patching in
    // patch-demo-ctr-2 lists it before the existing patch-demo-ctr.
    let doc = deployment(json!([{"name": "patch-demo-ctr", "image": "nginx"}]));
    let out = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr-2", "image": "redis"}]}}}}),
    )
    .unwrap();
    assert_eq!(
        container_names(&out),
        ["patch-demo-ctr-2", "patch-demo-ctr"]
    );
}

#[test]
fn strategic_merge_reorders_items_named_in_the_patch() {
    let doc = deployment(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]));
    let out = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "b"}, {"name": "a"}]}}}}),
    )
    .unwrap();
    assert_eq!(container_names(&out), ["b", "a", "c"]);
}

#[test]
fn strategic_merge_rejects_retain_keys_that_drop_patched_members_and_malformed_lists() {
    let doc = json!({"spec": {"a": 1, "b": 2}});
    let bad = apply(&doc, &json!({"spec": {"$retainKeys": ["a"], "b": 3}}), None);
    assert_eq!(
        bad,
        Err(PatchError::Directive(
            "invalid patch format of retainKeys".into()
        ))
    );
    assert!(apply(&doc, &json!({"spec": {"$retainKeys": "a"}}), None).is_err());
    assert!(
        apply(
            &doc,
            &json!({"spec": {"$deleteFromPrimitiveList/x": "a"}}),
            None
        )
        .is_err()
    );
    assert!(apply(&doc, &json!({"spec": {"$setElementOrder/x": 1}}), None).is_err());
    let ok = apply(
        &doc,
        &json!({"spec": {"$retainKeys": ["a"], "a": 5, "b": null}}),
        None,
    )
    .unwrap();
    assert_eq!(ok, json!({"spec": {"a": 5}}));
}

#[test]
fn strategic_merge_refuses_patch_merge_directives_like_the_api_server() {
    let doc = deployment(json!([{"name": "a"}]));
    let in_map = patch_deployment(&doc, json!({"spec": {"$patch": "merge", "replicas": 2}}));
    assert!(
        matches!(in_map, Err(PatchError::Directive(m)) if m.starts_with("unknown patch type: merge in map"))
    );
    let in_list = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "merge"}]}}}}),
    );
    assert_eq!(
        in_list,
        Err(PatchError::Directive(
            "merging lists cannot yet be specified in the patch".into()
        ))
    );
}

#[test]
fn strategic_merge_replace_element_may_carry_other_members() {
    let doc = deployment(json!([{"name": "a"}, {"name": "b"}]));
    let out = patch_deployment(
        &doc,
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "c"}, {"name": "ignored", "$patch": "replace"}
        ]}}}}),
    )
    .unwrap();
    assert_eq!(container_names(&out), ["c"]);
}
