//! kube-rs against the in-memory API server: CRUD, errors, watch, CRDs, finalizers, GC, auth.

use std::time::Duration;

use flux_apiserver::{RunningServer, ServerOptions, start};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Error as KubeError};
use serde_json::json;

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

async fn server() -> Res<(RunningServer, Client)> {
    let s = start(ServerOptions::default()).await?;
    let c = s.client().await?;
    Ok((s, c))
}

fn cm(name: &str, data: serde_json::Value) -> Res<ConfigMap> {
    Ok(serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}),
    )?)
}

fn code(e: &KubeError) -> Option<u16> {
    match e {
        KubeError::Api(s) => Some(s.code),
        _ => None,
    }
}

fn reason(e: &KubeError) -> String {
    match e {
        KubeError::Api(s) => s.reason.clone(),
        _ => String::new(),
    }
}

#[tokio::test]
async fn configmap_crud_assigns_metadata_and_rejects_stale_updates() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    let created = api
        .create(&PostParams::default(), &cm("a", json!({"k": "v"}))?)
        .await?;
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    let rv1 = created
        .metadata
        .resource_version
        .clone()
        .unwrap_or_default();

    let mut changed = created.clone();
    changed.data = Some([("k".to_string(), "w".to_string())].into());
    let updated = api.replace("a", &PostParams::default(), &changed).await?;
    assert_ne!(
        updated
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default(),
        rv1
    );
    assert_eq!(api.get("a").await?.data.unwrap_or_default()["k"], "w");

    // `changed` still carries the old resourceVersion.
    let err = api
        .replace("a", &PostParams::default(), &changed)
        .await
        .err()
        .ok_or("stale update accepted")?;
    assert_eq!((code(&err), reason(&err).as_str()), (Some(409), "Conflict"));

    let err = api
        .create(&PostParams::default(), &cm("a", json!({}))?)
        .await
        .err()
        .ok_or("duplicate accepted")?;
    assert_eq!(
        (code(&err), reason(&err).as_str()),
        (Some(409), "AlreadyExists")
    );

    api.delete("a", &DeleteParams::default()).await?;
    let err = api
        .get("a")
        .await
        .err()
        .ok_or("deleted object still readable")?;
    assert_eq!((code(&err), reason(&err).as_str()), (Some(404), "NotFound"));
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn generate_name_list_selectors_and_pagination() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    for i in 0..5 {
        let mut o = cm("", json!({}))?;
        o.metadata.name = None;
        o.metadata.generate_name = Some("gen-".into());
        o.metadata.labels = Some([("i".to_string(), (i % 2).to_string())].into());
        let made = api.create(&PostParams::default(), &o).await?;
        assert!(made.metadata.name.unwrap_or_default().starts_with("gen-"));
    }
    assert_eq!(
        api.list(&ListParams::default().labels("i=1"))
            .await?
            .items
            .len(),
        2
    );
    let first = api.list(&ListParams::default().limit(2)).await?;
    assert_eq!(first.items.len(), 2);
    let token = first
        .metadata
        .continue_
        .clone()
        .ok_or("no continue token")?;
    let rest = api
        .list(&ListParams::default().limit(10).continue_token(&token))
        .await?;
    assert_eq!(rest.items.len(), 3);
    let one = first.items[0].metadata.name.clone().unwrap_or_default();
    let by_field = api
        .list(&ListParams::default().fields(&format!("metadata.name={one}")))
        .await?;
    assert_eq!(by_field.items.len(), 1);
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn create_in_missing_namespace_is_not_found_and_bad_name_is_invalid() -> Res {
    let (s, c) = server().await?;
    let missing: Api<ConfigMap> = Api::namespaced(c.clone(), "nope");
    let err = missing
        .create(&PostParams::default(), &cm("a", json!({}))?)
        .await
        .err()
        .ok_or("created in missing namespace")?;
    assert_eq!(code(&err), Some(404));
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    let err = api
        .create(&PostParams::default(), &cm("Bad_Name", json!({}))?)
        .await
        .err()
        .ok_or("bad name accepted")?;
    assert_eq!((code(&err), reason(&err).as_str()), (Some(422), "Invalid"));
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn merge_and_json_patches_apply_and_strategic_patch_of_custom_resource_is_415() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    api.create(&PostParams::default(), &cm("p", json!({"a": "1"}))?)
        .await?;
    api.patch(
        "p",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"b": "2"}})),
    )
    .await?;
    let url = format!("{}/api/v1/namespaces/default/configmaps/p", s.url());
    let jp = json!([{"op": "replace", "path": "/data/a", "value": "x"}]).to_string();
    let (status, _) = raw(
        "PATCH",
        &url,
        "application/json-patch+json",
        jp.into_bytes(),
    )
    .await?;
    assert_eq!(status, 200);
    let data = api.get("p").await?.data.unwrap_or_default();
    assert_eq!((data["a"].as_str(), data["b"].as_str()), ("x", "2"));

    make_crd(&c).await?;
    let w = widgets(&c);
    w.create(&PostParams::default(), &widget("w", json!({"size": 2}))?)
        .await?;
    let err = w
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"size": 3}})),
        )
        .await
        .err()
        .ok_or("strategic patch of a CR accepted")?;
    assert_eq!(code(&err), Some(415));
    s.shutdown().await?;
    Ok(())
}

async fn make_crd(c: &Client) -> Res {
    let crds: Api<DynamicObject> = Api::all_with(
        c.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    );
    let crd: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"type": "integer", "minimum": 1},
                        "color": {"type": "string", "enum": ["red", "blue"], "default": "red"}}},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}
    }))?;
    let made = crds.create(&PostParams::default(), &crd).await?;
    let conds = made
        .data
        .pointer("/status/conditions")
        .cloned()
        .unwrap_or_default();
    assert!(conds.as_array().is_some_and(|a| {
        a.iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    }));
    Ok(())
}

fn widgets(c: &Client) -> Api<DynamicObject> {
    Api::namespaced_with(
        c.clone(),
        "default",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("example.com", "v1", "Widget"),
            "widgets",
        ),
    )
}

fn widget(name: &str, spec: serde_json::Value) -> Res<DynamicObject> {
    Ok(serde_json::from_value(
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec, "extra": 1}),
    )?)
}

#[tokio::test]
async fn crd_registers_resource_with_defaults_pruning_and_validation() -> Res {
    let (s, c) = server().await?;
    make_crd(&c).await?;
    let w = widgets(&c);
    let made = w
        .create(
            &PostParams::default(),
            &widget("ok", json!({"size": 2, "junk": true}))?,
        )
        .await?;
    assert_eq!(
        made.data.pointer("/spec/color"),
        Some(&json!("red")),
        "default applied"
    );
    assert_eq!(
        made.data.pointer("/spec/junk"),
        None,
        "unknown field pruned"
    );
    assert_eq!(
        made.data.get("extra"),
        None,
        "unknown top-level field pruned"
    );

    let err = w
        .create(
            &PostParams::default(),
            &widget("bad", json!({"size": 0, "color": "green"}))?,
        )
        .await
        .err()
        .ok_or("invalid widget accepted")?;
    assert_eq!((code(&err), reason(&err).as_str()), (Some(422), "Invalid"));
    let msg = match &err {
        KubeError::Api(s) => s.message.clone(),
        _ => String::new(),
    };
    assert!(
        msg.contains("spec.color") && msg.contains("spec.size"),
        "{msg}"
    );

    // Status changes through the main resource are ignored; the status subresource takes them.
    let mut with_status = made.clone();
    with_status.data["status"] = json!({"phase": "Done"});
    let after = w
        .replace("ok", &PostParams::default(), &with_status)
        .await?;
    assert_eq!(after.data.get("status"), None);
    let st = w
        .patch_status(
            "ok",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Done"}})),
        )
        .await?;
    assert_eq!(st.data.pointer("/status/phase"), Some(&json!("Done")));
    assert_eq!(
        st.metadata.generation,
        Some(1),
        "status writes do not bump generation"
    );
    let spec = w
        .patch(
            "ok",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 5}})),
        )
        .await?;
    assert_eq!(spec.metadata.generation, Some(2));
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn finalizer_blocks_deletion_until_removed() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    let mut o = cm("f", json!({}))?;
    o.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &o).await?;
    api.delete("f", &DeleteParams::default()).await?;
    let pending = api.get("f").await?;
    assert!(pending.metadata.deletion_timestamp.is_some());
    api.patch(
        "f",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await?;
    let err = api
        .get("f")
        .await
        .err()
        .ok_or("object survived finalizer removal")?;
    assert_eq!(code(&err), Some(404));
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn watcher_and_reflector_follow_changes() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    api.create(&PostParams::default(), &cm("before", json!({}))?)
        .await?;
    let (reader, writer) = kube::runtime::reflector::store();
    let stream = kube::runtime::reflector(writer, watcher(api.clone(), watcher::Config::default()))
        .applied_objects()
        .boxed();
    let mut stream = stream;
    let first = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
        .await??
        .ok_or("stream ended")?;
    assert_eq!(first.metadata.name.as_deref(), Some("before"));
    api.create(&PostParams::default(), &cm("after", json!({}))?)
        .await?;
    let second = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
        .await??
        .ok_or("stream ended")?;
    assert_eq!(second.metadata.name.as_deref(), Some("after"));
    assert_eq!(reader.state().len(), 2);
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn watch_from_old_resource_version_is_expired() -> Res {
    let s = start(ServerOptions {
        watch_history: 16,
        ..Default::default()
    })
    .await?;
    let c = s.client().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    for i in 0..40 {
        api.create(&PostParams::default(), &cm(&format!("c{i}"), json!({}))?)
            .await?;
    }
    let mut events = api
        .watch(&kube::api::WatchParams::default(), "2")
        .await?
        .boxed();
    let ev = tokio::time::timeout(Duration::from_secs(5), events.try_next())
        .await??
        .ok_or("no event")?;
    match ev {
        kube::core::WatchEvent::Error(e) => assert_eq!(e.code, 410),
        other => return Err(format!("expected 410, got {other:?}").into()),
    }
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn owner_deletion_collects_dependents_in_background() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    let owner = api
        .create(&PostParams::default(), &cm("owner", json!({}))?)
        .await?;
    let mut dep = cm("dep", json!({}))?;
    dep.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "owner".into(),
            uid: owner.metadata.uid.clone().unwrap_or_default(),
            ..Default::default()
        },
    ]);
    api.create(&PostParams::default(), &dep).await?;
    api.delete("owner", &DeleteParams::background()).await?;
    for _ in 0..50 {
        if api.get_opt("dep").await?.is_none() {
            s.shutdown().await?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("dependent was not garbage collected".into())
}

#[tokio::test]
async fn deleting_namespace_removes_its_objects() -> Res {
    let (s, c) = server().await?;
    let nss: Api<Namespace> = Api::all(c.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "gone"}}))?,
    )
    .await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "gone");
    api.create(&PostParams::default(), &cm("x", json!({}))?)
        .await?;
    nss.delete("gone", &DeleteParams::default()).await?;
    for _ in 0..50 {
        if nss.get_opt("gone").await?.is_none() {
            assert!(api.get_opt("x").await?.is_none());
            s.shutdown().await?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("namespace was not removed".into())
}

#[tokio::test]
async fn service_account_without_role_binding_is_forbidden() -> Res {
    let (s, _) = server().await?;
    let sa = s.service_account_client("team-a", "flux").await?;
    let api: Api<ConfigMap> = Api::namespaced(sa, "team-b");
    let err = api
        .list(&ListParams::default())
        .await
        .err()
        .ok_or("SA read another namespace")?;
    assert_eq!(
        (code(&err), reason(&err).as_str()),
        (Some(403), "Forbidden")
    );
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn written_kubeconfig_is_accepted_by_kube() -> Res {
    let (s, _) = server().await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("kubeconfig");
    s.write_kubeconfig(&path)?;
    let kc = kube::config::Kubeconfig::read_from(&path)?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await?;
    let c = Client::try_from(cfg)?;
    let ns: Api<Namespace> = Api::all(c);
    assert!(ns.get("default").await.is_ok());
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn oversized_body_is_413_and_malformed_body_is_400() -> Res {
    let (s, _) = server().await?;
    let url = format!("{}/api/v1/namespaces/default/configmaps", s.url());
    let big = vec![b' '; 3 * 1024 * 1024 + 10];
    assert_eq!(raw("POST", &url, "application/json", big).await?.0, 413);
    let (status, body) = raw("POST", &url, "application/json", b"{not json".to_vec()).await?;
    assert_eq!(status, 400);
    assert!(
        body.contains("\"kind\":\"Status\"") && body.contains("BadRequest"),
        "{body}"
    );
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn malformed_requests_get_clear_statuses_and_leave_objects_intact() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    api.create(&PostParams::default(), &cm("keep", json!({"a": "1"}))?)
        .await?;
    let base = format!("{}/api/v1/namespaces/default/configmaps", s.url());
    let item = format!("{base}/keep");
    let missing = format!("{}/api/v1/nosuchthings", s.url());
    let cases: Vec<(&str, &str, &str, &[u8], u16)> = vec![
        (
            "PATCH",
            item.as_str(),
            "application/json-patch+json",
            br#"[{"op":"replace","path":"","value":5}]"#,
            422,
        ),
        (
            "PATCH",
            item.as_str(),
            "application/json-patch+json",
            br#"[{"op":"test","path":"/data/a","value":"2"}]"#,
            422,
        ),
        (
            "PATCH",
            item.as_str(),
            "application/merge-patch+json",
            b"[1,2]",
            400,
        ),
        ("PATCH", item.as_str(), "text/plain", b"{}", 415),
        ("DELETE", item.as_str(), "application/json", b"[1]", 400),
        (
            "POST",
            base.as_str(),
            "application/json",
            br#"{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}}"#,
            400,
        ),
        (
            "POST",
            base.as_str(),
            "application/json",
            br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#,
            400,
        ),
        (
            "POST",
            base.as_str(),
            "application/json",
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}"#,
            422,
        ),
        ("PUT", base.as_str(), "application/json", b"{}", 405),
        ("GET", missing.as_str(), "application/json", b"", 404),
    ];
    for (method, url, ctype, body, want) in cases {
        let (status, text) = raw(method, url, ctype, body.to_vec()).await?;
        assert_eq!(status, want, "{method} {url} {ctype}: {text}");
        assert!(text.contains("\"kind\":\"Status\""), "{text}");
    }
    assert_eq!(api.get("keep").await?.data.unwrap_or_default()["a"], "1");
    s.shutdown().await?;
    Ok(())
}

async fn raw(method: &str, url: &str, ctype: &str, body: Vec<u8>) -> Res<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').ok_or("bad url")?;
    let mut conn = tokio::net::TcpStream::connect(host).await?;
    let head = format!(
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await?;
    let _ = conn.write_all(&body).await;
    let mut buf = Vec::new();
    let _ = conn.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf);
    let code = text.split_whitespace().nth(1).ok_or("no status")?.parse()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((code, body))
}

#[tokio::test]
async fn strict_field_validation_rejects_unknown_fields_that_would_be_pruned() -> Res {
    let (s, c) = server().await?;
    make_crd(&c).await?;
    let w = widgets(&c);
    w.create(&PostParams::default(), &widget("v", json!({"size": 1}))?)
        .await?;
    let strict = PatchParams::default().validation(kube::api::ValidationDirective::Strict);
    let err = w
        .patch("v", &strict, &Patch::Merge(json!({"spec": {"sizee": 2}})))
        .await
        .err()
        .ok_or("unknown field accepted under Strict")?;
    assert_eq!(code(&err), Some(400));
    let msg = match &err {
        KubeError::Api(s) => s.message.clone(),
        _ => String::new(),
    };
    assert!(msg.contains("unknown field \"spec.sizee\""), "{msg}");
    let pruned = w
        .patch(
            "v",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"sizee": 2}})),
        )
        .await?;
    assert_eq!(pruned.data.pointer("/spec/sizee"), None);
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn label_selector_watch_reports_objects_leaving_the_selector_as_deleted() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    let mut o = cm("sel", json!({}))?;
    o.metadata.labels = Some([("app".to_string(), "x".to_string())].into());
    api.create(&PostParams::default(), &o).await?;
    let rv = s.resource_version().to_string();
    let mut events = api
        .watch(&kube::api::WatchParams::default().labels("app=x"), &rv)
        .await?
        .boxed();
    api.patch(
        "sel",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "y"}}})),
    )
    .await?;
    let ev = tokio::time::timeout(Duration::from_secs(5), events.try_next())
        .await??
        .ok_or("no event")?;
    assert!(matches!(ev, kube::core::WatchEvent::Deleted(_)), "{ev:?}");
    api.patch(
        "sel",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "x"}}})),
    )
    .await?;
    let ev = tokio::time::timeout(Duration::from_secs(5), events.try_next())
        .await??
        .ok_or("no event")?;
    assert!(matches!(ev, kube::core::WatchEvent::Added(_)), "{ev:?}");
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn streaming_list_watcher_receives_initial_events_then_changes() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    api.create(&PostParams::default(), &cm("one", json!({}))?)
        .await?;
    let mut stream = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut seen_init_done = false;
    let mut names = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::time::Instant::now() < deadline {
        let ev = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await??
            .ok_or("ended")?;
        match ev {
            watcher::Event::InitApply(o) => names.push(o.metadata.name.unwrap_or_default()),
            watcher::Event::InitDone => {
                seen_init_done = true;
                api.create(&PostParams::default(), &cm("two", json!({}))?)
                    .await?;
            }
            watcher::Event::Apply(o) => {
                names.push(o.metadata.name.unwrap_or_default());
                break;
            }
            _ => {}
        }
    }
    assert!(seen_init_done);
    assert_eq!(names, vec!["one".to_string(), "two".to_string()]);
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn foreground_deletion_waits_for_dependents_and_orphan_keeps_them() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    let owned_by =
        |owner: &ConfigMap| k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: owner.metadata.name.clone().unwrap_or_default(),
            uid: owner.metadata.uid.clone().unwrap_or_default(),
            block_owner_deletion: Some(true),
            ..Default::default()
        };
    let fg = api
        .create(&PostParams::default(), &cm("fg", json!({}))?)
        .await?;
    let mut child = cm("fg-child", json!({}))?;
    child.metadata.owner_references = Some(vec![owned_by(&fg)]);
    child.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &child).await?;
    api.delete("fg", &DeleteParams::foreground()).await?;
    let owner = api.get("fg").await?;
    assert!(
        owner
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"foregroundDeletion".to_string())
    );
    let mut child_deleting = false;
    for _ in 0..50 {
        if api
            .get("fg-child")
            .await?
            .metadata
            .deletion_timestamp
            .is_some()
        {
            child_deleting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        child_deleting,
        "foreground deletion did not delete the dependent"
    );
    assert!(
        api.get_opt("fg").await?.is_some(),
        "owner went before its blocking dependent"
    );
    api.patch(
        "fg-child",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await?;
    let mut gone = false;
    for _ in 0..50 {
        if api.get_opt("fg").await?.is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "owner stayed after its dependent went");

    let or = api
        .create(&PostParams::default(), &cm("or", json!({}))?)
        .await?;
    let mut kept = cm("or-child", json!({}))?;
    kept.metadata.owner_references = Some(vec![owned_by(&or)]);
    api.create(&PostParams::default(), &kept).await?;
    api.delete("or", &DeleteParams::orphan()).await?;
    for _ in 0..50 {
        if api.get_opt("or").await?.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let kept = api.get("or-child").await?;
    assert!(
        kept.metadata
            .owner_references
            .unwrap_or_default()
            .is_empty()
    );
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn delete_collection_removes_only_selected_objects() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    for (name, app) in [("a", "x"), ("b", "x"), ("c", "y")] {
        let mut o = cm(name, json!({}))?;
        o.metadata.labels = Some([("app".to_string(), app.to_string())].into());
        api.create(&PostParams::default(), &o).await?;
    }
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("app=x"),
    )
    .await?;
    let left: Vec<String> = api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect();
    assert_eq!(left, vec!["c".to_string()]);
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn deleting_a_crd_stops_serving_and_removes_its_objects() -> Res {
    let (s, c) = server().await?;
    make_crd(&c).await?;
    widgets(&c)
        .create(&PostParams::default(), &widget("w", json!({"size": 1}))?)
        .await?;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(c.clone());
    crds.delete("widgets.example.com", &DeleteParams::default())
        .await?;
    let err = widgets(&c)
        .list(&ListParams::default())
        .await
        .err()
        .ok_or("CR still served")?;
    assert_eq!(code(&err), Some(404));
    make_crd(&c).await?;
    for _ in 0..50 {
        if widgets(&c)
            .list(&ListParams::default())
            .await?
            .items
            .is_empty()
        {
            s.shutdown().await?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("custom resources outlived their CRD".into())
}

#[tokio::test]
async fn events_written_as_events_k8s_io_are_listed_as_core_events() -> Res {
    let (s, c) = server().await?;
    let new_api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(c.clone(), "default");
    new_api
        .create(&PostParams::default(), &serde_json::from_value(json!({
            "metadata": {"name": "ev1"},
            "regarding": {"kind": "ConfigMap", "name": "cfg", "namespace": "default"},
            "note": "reconciled", "reason": "Succeeded", "type": "Normal", "action": "Reconcile",
            "reportingController": "flux", "reportingInstance": "flux-0",
            "eventTime": "2026-01-01T00:00:00.000000Z"
        }))?)
        .await?;
    let core: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(c, "default");
    let listed = core
        .list(&ListParams::default().fields("involvedObject.name=cfg"))
        .await?;
    let ev = listed
        .items
        .first()
        .ok_or("event not visible through core/v1")?;
    assert_eq!(ev.message.as_deref(), Some("reconciled"));
    assert_eq!(ev.reporting_component.as_deref(), Some("flux"));
    let back = new_api.get("ev1").await?;
    assert_eq!(back.note.as_deref(), Some("reconciled"));
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn custom_resource_is_served_in_every_served_version() -> Res {
    let (s, c) = server().await?;
    let crds: Api<DynamicObject> = Api::all_with(
        c.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    );
    let version = |name: &str, storage: bool| {
        json!({"name": name, "served": true, "storage": storage,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}})
    };
    crds.create(&PostParams::default(), &serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {"group": "example.com", "scope": "Cluster", "names": {"plural": "gadgets", "kind": "Gadget"},
                 "versions": [version("v1", true), version("v1beta2", false)]}
    }))?).await?;
    let at = |v: &str| -> Api<DynamicObject> {
        Api::all_with(
            c.clone(),
            &ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("example.com", v, "Gadget"),
                "gadgets",
            ),
        )
    };
    at("v1beta2")
        .create(&PostParams::default(), &serde_json::from_value(json!({"apiVersion": "example.com/v1beta2", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"x": 1}}))?)
        .await?;
    let v1 = at("v1").get("g").await?;
    assert_eq!(
        v1.types.map(|t| t.api_version).as_deref(),
        Some("example.com/v1")
    );
    let beta = at("v1beta2").get("g").await?;
    assert_eq!(
        beta.types.map(|t| t.api_version).as_deref(),
        Some("example.com/v1beta2")
    );
    assert_eq!(beta.data.pointer("/spec/x"), Some(&json!(1)));
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn kube_finalizer_helper_adds_runs_cleanup_and_releases_the_object() -> Res {
    use kube::runtime::controller::Action;
    use kube::runtime::finalizer::{Event as Fin, finalizer};
    use std::sync::Arc;
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    api.create(&PostParams::default(), &cm("fin", json!({}))?)
        .await?;
    let name = "example.com/cleanup";
    let run = |obj: ConfigMap| {
        let api = api.clone();
        async move {
            finalizer(&api, name, Arc::new(obj), |ev| async move {
                Ok::<_, std::convert::Infallible>(match ev {
                    Fin::Apply(_) => Action::requeue(Duration::from_secs(1)),
                    Fin::Cleanup(_) => Action::await_change(),
                })
            })
            .await
        }
    };
    run(api.get("fin").await?).await?;
    assert_eq!(
        api.get("fin").await?.metadata.finalizers,
        Some(vec![name.to_string()])
    );
    assert_eq!(
        run(api.get("fin").await?).await?,
        Action::requeue(Duration::from_secs(1))
    );
    api.delete("fin", &DeleteParams::default()).await?;
    let pending = api.get("fin").await?;
    assert!(pending.metadata.deletion_timestamp.is_some());
    assert_eq!(run(pending).await?, Action::await_change());
    assert!(api.get_opt("fin").await?.is_none());
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn metadata_watcher_and_list_get_partial_object_metadata() -> Res {
    let (s, c) = server().await?;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    api.create(
        &PostParams::default(),
        &cm("meta", json!({"secret-ish": "value"}))?,
    )
    .await?;
    let list = api.list_metadata(&ListParams::default()).await?;
    let item = list
        .items
        .iter()
        .find(|m| m.metadata.name.as_deref() == Some("meta"))
        .ok_or("missing")?;
    assert_eq!(
        item.types.as_ref().map(|t| t.kind.as_str()),
        Some("PartialObjectMetadata")
    );
    let meta_api: Api<kube::core::PartialObjectMeta<ConfigMap>> =
        Api::namespaced(s.client().await?, "default");
    let mut stream = watcher(meta_api, watcher::Config::default())
        .applied_objects()
        .boxed();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
        .await??
        .ok_or("ended")?;
    assert_eq!(first.metadata.name.as_deref(), Some("meta"));
    s.shutdown().await?;
    Ok(())
}
