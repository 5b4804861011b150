//! Server-side apply field ownership, following the Kubernetes "Server-Side Apply" docs.

use flux_apimachinery::managed_fields::{ApplyError, FieldSet, Options, apply, apply_with, update};
use flux_apimachinery::strategic_merge::builtin_schema;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, Time};
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

fn now(secs: i64) -> Time {
    Time(Timestamp::from_second(1_700_000_000 + secs).unwrap())
}

fn deploy(replicas: i64, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}}
    })
}

fn schema() -> flux_apimachinery::strategic_merge::MergeSchema {
    builtin_schema("apps/v1", "Deployment").unwrap()
}

fn entry<'a>(managed: &'a [ManagedFieldsEntry], manager: &str) -> &'a ManagedFieldsEntry {
    managed
        .iter()
        .find(|e| e.manager.as_deref() == Some(manager))
        .unwrap_or_else(|| panic!("no entry for {manager}: {managed:?}"))
}

fn owns(managed: &[ManagedFieldsEntry], manager: &str, fields: Value) -> bool {
    let set =
        FieldSet::from_fields_v1(&entry(managed, manager).fields_v1.as_ref().unwrap().0).unwrap();
    let wanted = FieldSet::from_fields_v1(&fields).unwrap();
    wanted.difference(&set).is_empty()
}

#[test]
fn field_set_of_an_applied_deployment_matches_the_api_server_encoding() {
    let s = schema();
    let config = deploy(3, json!([{"name": "nginx", "image": "nginx:1.25"}]));
    let out = apply(None, &config, "kubectl", false, &[], now(0), Some(&s)).unwrap();
    // What `kubectl apply --server-side` leaves in managedFields for this Deployment:
    // the selector is atomic, containers are keyed by name and own themselves (".").
    assert_eq!(
        out.managed_fields[0].fields_v1.as_ref().unwrap().0,
        json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}}}}
                }
            }
        })
    );
}

#[test]
fn fields_v1_round_trips_keys_values_and_dot_markers() {
    let v = json!({
        "f:metadata": {"f:finalizers": {".": {}, "v:\"a\"": {}}, "f:labels": {".": {}, "f:x": {}}},
        "f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}}, "f:list": {"i:0": {}}}
    });
    let set = FieldSet::from_fields_v1(&v).unwrap();
    assert_eq!(set.to_fields_v1(), v);
    assert!(FieldSet::from_fields_v1(&json!({"x:bad": {}})).is_err());
    assert!(FieldSet::from_fields_v1(&json!({"k:{not json": {}})).is_err());
    assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
    assert!(FieldSet::from_fields_v1(&json!([])).is_err());
}

#[test]
fn apply_creates_object_owned_by_the_applier() {
    let s = schema();
    let config = deploy(3, json!([{"name": "nginx", "image": "nginx"}]));
    let out = apply(None, &config, "flux", false, &[], now(0), Some(&s)).unwrap();
    assert_eq!(out.object, config);
    assert_eq!(out.managed_fields.len(), 1);
    let e = &out.managed_fields[0];
    assert_eq!(e.operation.as_deref(), Some("Apply"));
    assert_eq!(e.fields_type.as_deref(), Some("FieldsV1"));
    assert_eq!(e.api_version.as_deref(), Some("apps/v1"));
    let fields = &e.fields_v1.as_ref().unwrap().0;
    assert!(
        fields.get("f:apiVersion").is_none(),
        "apiVersion is never tracked"
    );
    assert!(
        fields["f:metadata"].get("f:name").is_none(),
        "name is never tracked"
    );
    assert!(owns(
        &out.managed_fields,
        "flux",
        json!({"f:spec": {"f:replicas": {}}})
    ));
}

#[test]
fn apply_conflicts_with_another_appliers_field_and_names_it() {
    let s = schema();
    let first = apply(
        None,
        &deploy(3, json!([{"name": "a", "image": "x"}])),
        "flux",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap();
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 5}});
    let err = apply(
        Some(&first.object),
        &other,
        "hpa",
        false,
        &first.managed_fields,
        now(1),
        Some(&s),
    )
    .unwrap_err();
    let ApplyError::Conflicts(conflicts) = err else {
        panic!("expected conflicts")
    };
    assert_eq!(
        conflicts.to_string(),
        r#"Apply failed with 1 conflict: conflict with "flux": .spec.replicas"#
    );
    assert_eq!(conflicts.conflicts[0].manager, "flux");
}

#[test]
fn forced_apply_takes_ownership_from_the_other_manager() {
    let s = schema();
    let first = apply(
        None,
        &deploy(3, json!([{"name": "a", "image": "x"}])),
        "flux",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap();
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 5}});
    let out = apply(
        Some(&first.object),
        &other,
        "hpa",
        true,
        &first.managed_fields,
        now(1),
        Some(&s),
    )
    .unwrap();
    assert_eq!(out.object["spec"]["replicas"], json!(5));
    assert!(owns(
        &out.managed_fields,
        "hpa",
        json!({"f:spec": {"f:replicas": {}}})
    ));
    assert!(!owns(
        &out.managed_fields,
        "flux",
        json!({"f:spec": {"f:replicas": {}}})
    ));
    assert!(owns(
        &out.managed_fields,
        "flux",
        json!({"f:spec": {"f:selector": {}}})
    ));
}

#[test]
fn applying_the_same_value_shares_ownership_without_conflict() {
    let s = schema();
    let first = apply(
        None,
        &deploy(3, json!([])),
        "flux",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap();
    let same = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}});
    let out = apply(
        Some(&first.object),
        &same,
        "other",
        false,
        &first.managed_fields,
        now(1),
        Some(&s),
    )
    .unwrap();
    assert!(owns(
        &out.managed_fields,
        "flux",
        json!({"f:spec": {"f:replicas": {}}})
    ));
    assert!(owns(
        &out.managed_fields,
        "other",
        json!({"f:spec": {"f:replicas": {}}})
    ));
}

#[test]
fn fields_no_longer_applied_are_removed_unless_another_manager_owns_them() {
    let s = schema();
    let mut config = deploy(3, json!([]));
    config["metadata"]["labels"] = json!({"app": "web", "tier": "front", "team": "a"});
    let first = apply(None, &config, "flux", false, &[], now(0), Some(&s)).unwrap();
    let shared = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"team": "a"}}});
    let second = apply(
        Some(&first.object),
        &shared,
        "other",
        false,
        &first.managed_fields,
        now(1),
        Some(&s),
    )
    .unwrap();
    config["metadata"]["labels"] = json!({"app": "web"});
    let third = apply(
        Some(&second.object),
        &config,
        "flux",
        false,
        &second.managed_fields,
        now(2),
        Some(&s),
    )
    .unwrap();
    assert_eq!(
        third.object["metadata"]["labels"],
        json!({"app": "web", "team": "a"})
    );
}

#[test]
fn containers_from_two_appliers_merge_by_name_and_removed_ones_are_pruned() {
    let s = schema();
    let first = apply(
        None,
        &deploy(1, json!([{"name": "app", "image": "a:1"}])),
        "flux",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap();
    let sidecar = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "envoy"}]}}}});
    let second = apply(
        Some(&first.object),
        &sidecar,
        "injector",
        false,
        &first.managed_fields,
        now(1),
        Some(&s),
    )
    .unwrap();
    let names: Vec<&str> = second.object["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app", "proxy"]);
    let third = apply(
        Some(&second.object),
        &deploy(1, json!([{"name": "web", "image": "w:1"}])),
        "flux",
        false,
        &second.managed_fields,
        now(2),
        Some(&s),
    )
    .unwrap();
    let names: Vec<&str> = third.object["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["proxy", "web"]);
}

#[test]
fn update_moves_changed_fields_to_the_updater_and_apply_then_conflicts() {
    let s = schema();
    let first = apply(
        None,
        &deploy(3, json!([{"name": "a", "image": "x"}])),
        "flux",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap();
    let mut edited = first.object.clone();
    edited["spec"]["replicas"] = json!(7);
    edited["metadata"]["annotations"] = json!({"note": "hi"});
    let managed = update(
        Some(&first.object),
        &edited,
        "kubectl-edit",
        "Update",
        &first.managed_fields,
        now(1),
        Some(&s),
    );
    assert!(owns(
        &managed,
        "kubectl-edit",
        json!({"f:spec": {"f:replicas": {}}, "f:metadata": {"f:annotations": {".": {}, "f:note": {}}}})
    ));
    assert!(!owns(
        &managed,
        "flux",
        json!({"f:spec": {"f:replicas": {}}})
    ));
    let err = apply(
        Some(&edited),
        &deploy(3, json!([{"name": "a", "image": "x"}])),
        "flux",
        false,
        &managed,
        now(2),
        Some(&s),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas"#
    );
}

#[test]
fn update_without_changes_keeps_managed_fields() {
    let s = schema();
    let first = apply(
        None,
        &deploy(3, json!([])),
        "flux",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap();
    let managed = update(
        Some(&first.object),
        &first.object,
        "kubectl-edit",
        "Update",
        &first.managed_fields,
        now(1),
        Some(&s),
    );
    assert_eq!(managed, first.managed_fields);
}

#[test]
fn update_on_create_owns_every_field_and_removal_drops_ownership() {
    let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
    let s = builtin_schema("v1", "ConfigMap");
    let managed = update(
        None,
        &obj,
        "kubectl-create",
        "Update",
        &[],
        now(0),
        s.as_ref(),
    );
    assert!(owns(
        &managed,
        "kubectl-create",
        json!({"f:data": {".": {}, "f:a": {}, "f:b": {}}})
    ));
    let mut removed = obj.clone();
    removed["data"].as_object_mut().unwrap().shift_remove("b");
    let managed = update(
        Some(&obj),
        &removed,
        "other",
        "Update",
        &managed,
        now(1),
        s.as_ref(),
    );
    assert!(!owns(
        &managed,
        "kubectl-create",
        json!({"f:data": {"f:b": {}}})
    ));
}

#[test]
fn first_apply_on_an_unmanaged_object_conflicts_with_before_first_apply() {
    let s = schema();
    let live = deploy(3, json!([]));
    let err = apply(
        Some(&live),
        &deploy(4, json!([])),
        "flux",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains(r#"conflict with "before-first-apply" using apps/v1: .spec.replicas"#),
        "{err}"
    );
}

#[test]
fn multiple_conflicts_are_grouped_by_manager() {
    let s = schema();
    let first = apply(
        None,
        &deploy(3, json!([{"name": "a", "image": "x"}])),
        "flux",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap();
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 5, "template": {"spec": {"containers": [{"name": "a", "image": "y"}]}}}});
    let err = apply(
        Some(&first.object),
        &other,
        "hpa",
        false,
        &first.managed_fields,
        now(1),
        Some(&s),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"flux\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"a\"].image"
    );
}

#[test]
fn status_is_not_owned_through_the_main_resource_of_a_kind_with_status() {
    let s = schema();
    let mut config = deploy(1, json!([]));
    config["status"] = json!({"replicas": 1});
    let out = apply_with(
        None,
        &config,
        "flux",
        false,
        &[],
        now(0),
        &Options::main_resource_with_status(Some(&s)),
    )
    .unwrap();
    assert!(
        out.managed_fields[0]
            .fields_v1
            .as_ref()
            .unwrap()
            .0
            .get("f:status")
            .is_none()
    );
}

#[test]
fn apply_rejects_a_configuration_that_is_not_an_object() {
    assert!(matches!(
        apply(None, &json!([1]), "m", false, &[], now(0), None),
        Err(ApplyError::Invalid(_))
    ));
}

#[test]
fn entry_time_moves_only_when_the_object_changes() {
    let s = schema();
    let config = deploy(3, json!([]));
    let first = apply(None, &config, "flux", false, &[], now(0), Some(&s)).unwrap();
    let again = apply(
        Some(&first.object),
        &config,
        "flux",
        false,
        &first.managed_fields,
        now(60),
        Some(&s),
    )
    .unwrap();
    assert_eq!(again.managed_fields[0].time, Some(now(0)));
    let changed = apply(
        Some(&first.object),
        &deploy(4, json!([])),
        "flux",
        false,
        &first.managed_fields,
        now(90),
        Some(&s),
    )
    .unwrap();
    assert_eq!(changed.managed_fields[0].time, Some(now(90)));

    let mut edited = first.object.clone();
    edited["spec"]["replicas"] = json!(5);
    let by_edit = update(
        Some(&first.object),
        &edited,
        "edit",
        "Update",
        &first.managed_fields,
        now(100),
        Some(&s),
    );
    let mut edited_again = edited.clone();
    edited_again["spec"]["replicas"] = json!(6);
    let by_edit_again = update(
        Some(&edited),
        &edited_again,
        "edit",
        "Update",
        &by_edit,
        now(200),
        Some(&s),
    );
    assert_eq!(
        entry(&by_edit_again, "edit").time,
        Some(now(200)),
        "modifying an owned field is a change"
    );
}

#[test]
fn update_creating_a_builtin_marks_new_maps_and_items_but_not_zero_value_structs() {
    let s = schema();
    let obj = deploy(
        2,
        json!([{"name": "nginx", "image": "nginx", "resources": {"limits": {"cpu": "1"}}}]),
    );
    let managed = update(
        None,
        &obj,
        "kubectl-create",
        "Update",
        &[],
        now(0),
        Some(&s),
    );
    // As the API server records `kubectl create deployment`: spec and template exist in a
    // zero-valued Deployment, so only labels and the container item own themselves.
    assert_eq!(
        entry(&managed, "kubectl-create")
            .fields_v1
            .as_ref()
            .unwrap()
            .0,
        json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                        ".": {}, "f:image": {}, "f:name": {},
                        "f:resources": {".": {}, "f:limits": {".": {}, "f:cpu": {}}}
                    }}}
                }
            }
        })
    );
}

#[test]
fn update_creating_a_custom_resource_marks_every_new_object() {
    let crd_schema: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps =
        serde_json::from_value(json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {
                    "interval": {"type": "string"},
                    "sourceRef": {"type": "object", "properties": {"kind": {"type": "string"}, "name": {"type": "string"}}}
                }}
            }
        }))
        .unwrap();
    let s = flux_apimachinery::merge_schema::MergeSchema::from_json_schema(&crd_schema);
    let obj = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "k"},
        "spec": {"interval": "1m", "sourceRef": {"kind": "GitRepository", "name": "r"}}});
    let managed = update(
        None,
        &obj,
        "kubectl-create",
        "Update",
        &[],
        now(0),
        Some(&s),
    );
    assert_eq!(
        entry(&managed, "kubectl-create")
            .fields_v1
            .as_ref()
            .unwrap()
            .0,
        json!({"f:spec": {".": {}, "f:interval": {}, "f:sourceRef": {".": {}, "f:kind": {}, "f:name": {}}}})
    );
    let applied = apply(None, &obj, "flux", false, &[], now(0), Some(&s)).unwrap();
    assert_eq!(
        applied.managed_fields[0].fields_v1.as_ref().unwrap().0,
        json!({"f:spec": {"f:interval": {}, "f:sourceRef": {"f:kind": {}, "f:name": {}}}}),
        "appliers own declared objects only through their leaves"
    );
}

#[test]
fn applied_free_form_entries_holding_objects_own_themselves() {
    let obj = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "k"},
        "spec": {"values": {"image": {"tag": "1"}}}});
    let applied = apply(None, &obj, "flux", false, &[], now(0), None).unwrap();
    assert_eq!(
        applied.managed_fields[0].fields_v1.as_ref().unwrap().0,
        json!({"f:spec": {".": {}, "f:values": {".": {}, "f:image": {".": {}, "f:tag": {}}}}})
    );
}

#[test]
fn applied_ports_match_live_ports_whose_protocol_was_defaulted() {
    let s = builtin_schema("v1", "Service").unwrap();
    let config = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}]}});
    let created = apply(None, &config, "flux", false, &[], now(0), Some(&s)).unwrap();
    assert_eq!(
        created.managed_fields[0].fields_v1.as_ref().unwrap().0,
        json!({"f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}, "f:targetPort": {}}}}})
    );
    // The server defaults the protocol before storing.
    let mut live = created.object.clone();
    live["spec"]["ports"][0]["protocol"] = json!("TCP");
    let mut changed = config.clone();
    changed["spec"]["ports"][0]["targetPort"] = json!(9090);
    let out = apply(
        Some(&live),
        &changed,
        "flux",
        false,
        &created.managed_fields,
        now(1),
        Some(&s),
    )
    .unwrap();
    assert_eq!(
        out.object["spec"]["ports"],
        json!([{"port": 80, "targetPort": 9090, "protocol": "TCP"}]),
        "one port, merged by its defaulted key"
    );
}

#[test]
fn applied_list_items_follow_the_configuration_order_and_live_only_items_stay_in_place() {
    let s = schema();
    let live = apply(
        None,
        &deploy(1, json!([{"name": "a"}, {"name": "b"}, {"name": "c"}])),
        "other",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap();
    let config = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}, {"name": "a"}, {"name": "d"}]}}}});
    let out = apply(
        Some(&live.object),
        &config,
        "flux",
        false,
        &live.managed_fields,
        now(1),
        Some(&s),
    )
    .unwrap();
    let names: Vec<&str> = out.object["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b", "c", "a", "d"]);
    assert_eq!(
        out.object["spec"]["template"]["spec"]["containers"][1],
        json!({"name": "c", "image": "x"})
    );
}

#[test]
fn managed_fields_sent_with_a_write_replace_the_live_ones_and_empty_entry_clears_them() {
    use flux_apimachinery::managed_fields::managed_fields_for_write;
    let s = schema();
    let created = apply(
        None,
        &deploy(1, json!([])),
        "flux",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap();
    let mut live = created.object.clone();
    live["metadata"]["managedFields"] = serde_json::to_value(&created.managed_fields).unwrap();

    let mut plain_update = live.clone();
    plain_update["metadata"]
        .as_object_mut()
        .unwrap()
        .shift_remove("managedFields");
    assert_eq!(
        managed_fields_for_write(Some(&live), &plain_update, None),
        created.managed_fields
    );

    let mut edited = live.clone();
    let mut entries = created.managed_fields.clone();
    entries[0].manager = Some("renamed".into());
    edited["metadata"]["managedFields"] = serde_json::to_value(&entries).unwrap();
    assert_eq!(
        managed_fields_for_write(Some(&live), &edited, None),
        entries
    );
    assert_eq!(
        managed_fields_for_write(Some(&live), &edited, Some("status")),
        created.managed_fields,
        "subresource writes keep the live managed fields"
    );

    let mut cleared = live.clone();
    cleared["metadata"]["managedFields"] = json!([{}]);
    assert!(managed_fields_for_write(Some(&live), &cleared, None).is_empty());
}

#[test]
fn apply_rejects_managed_fields_and_duplicate_list_keys_in_the_configuration() {
    let s = schema();
    let mut with_managed = deploy(1, json!([]));
    with_managed["metadata"]["managedFields"] = json!([]);
    let err = apply(None, &with_managed, "flux", false, &[], now(0), Some(&s)).unwrap_err();
    assert_eq!(
        err,
        ApplyError::Invalid("metadata.managedFields must be nil".into())
    );

    let duplicate = deploy(
        1,
        json!([{"name": "app", "image": "a"}, {"name": "app", "image": "b"}]),
    );
    let err = apply(None, &duplicate, "flux", false, &[], now(0), Some(&s)).unwrap_err();
    assert_eq!(
        err,
        ApplyError::Invalid(
            r#".spec.template.spec.containers: duplicate entries for key [name="app"]"#.into()
        )
    );
}

#[test]
fn set_items_are_owned_by_value_and_pruned_when_no_longer_applied() {
    let s = schema();
    let mut config = deploy(1, json!([]));
    config["metadata"]["finalizers"] = json!(["a.io/x", "b.io/y"]);
    let first = apply(None, &config, "flux", false, &[], now(0), Some(&s)).unwrap();
    assert!(owns(
        &first.managed_fields,
        "flux",
        json!({"f:metadata": {"f:finalizers": {"v:\"a.io/x\"": {}, "v:\"b.io/y\"": {}}}})
    ));
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "finalizers": ["c.io/z"]}});
    let second = apply(
        Some(&first.object),
        &other,
        "other",
        false,
        &first.managed_fields,
        now(1),
        Some(&s),
    )
    .unwrap();
    assert_eq!(
        second.object["metadata"]["finalizers"],
        json!(["a.io/x", "b.io/y", "c.io/z"])
    );
    config["metadata"]["finalizers"] = json!(["b.io/y"]);
    let third = apply(
        Some(&second.object),
        &config,
        "flux",
        false,
        &second.managed_fields,
        now(2),
        Some(&s),
    )
    .unwrap();
    assert_eq!(
        third.object["metadata"]["finalizers"],
        json!(["b.io/y", "c.io/z"])
    );
}

#[test]
fn atomic_lists_are_replaced_and_conflict_as_a_whole() {
    let s = schema();
    let first = apply(
        None,
        &deploy(1, json!([{"name": "a", "args": ["--x", "--y"]}])),
        "flux",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap();
    assert!(owns(
        &first.managed_fields,
        "flux",
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {"f:args": {}}}}}}})
    ));
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "a", "args": ["--z"]}]}}}});
    let err = apply(
        Some(&first.object),
        &other,
        "other",
        false,
        &first.managed_fields,
        now(1),
        Some(&s),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Apply failed with 1 conflict: conflict with "flux": .spec.template.spec.containers[name="a"].args"#
    );
    let forced = apply(
        Some(&first.object),
        &other,
        "other",
        true,
        &first.managed_fields,
        now(1),
        Some(&s),
    )
    .unwrap();
    assert_eq!(
        forced.object["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["--z"])
    );
}

#[test]
fn a_status_subresource_apply_is_recorded_with_its_subresource() {
    let s = schema();
    let created = apply(
        None,
        &deploy(1, json!([])),
        "flux",
        false,
        &[],
        now(0),
        Some(&s),
    )
    .unwrap();
    let status = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 9}, "status": {"replicas": 1}});
    let out = apply_with(
        Some(&created.object),
        &status,
        "controller",
        false,
        &created.managed_fields,
        now(1),
        &Options::status_subresource(Some(&s)),
    )
    .unwrap();
    let e = entry(&out.managed_fields, "controller");
    assert_eq!(e.subresource.as_deref(), Some("status"));
    assert_eq!(
        e.fields_v1.as_ref().unwrap().0,
        json!({"f:status": {"f:replicas": {}}})
    );
}

#[test]
fn field_set_operations_follow_set_semantics() {
    use flux_apimachinery::managed_fields::PathElement::Field;
    let a = FieldSet::from_fields_v1(&json!({"f:spec": {"f:a": {}, "f:b": {"f:c": {}}}})).unwrap();
    let b = FieldSet::from_fields_v1(&json!({"f:spec": {"f:b": {"f:c": {}}, "f:d": {}}})).unwrap();
    assert_eq!(a.union(&b).len(), 3);
    assert_eq!(
        a.intersection(&b).to_fields_v1(),
        json!({"f:spec": {"f:b": {"f:c": {}}}})
    );
    assert_eq!(
        a.difference(&b).to_fields_v1(),
        json!({"f:spec": {"f:a": {}}})
    );
    let spec_b = vec![Field("spec".into()), Field("b".into())];
    assert!(a.has_prefix(&spec_b));
    assert!(!a.contains(&spec_b), "only the leaf below it is owned");
    assert!(!a.has_prefix(&[Field("status".into())]));
    assert!(a.without_prefixes(&[spec_b]).iter().all(|p| p.len() == 2));
    assert!(FieldSet::new().is_empty());
}
