//! Server-side apply, RBAC, impersonation, token requests, dry runs, scale, simulator, persistence.

use std::time::Duration;

use flux_apiserver::{SIMULATE_ANNOTATION, ServerOptions, start};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, Error as KubeError};
use serde_json::json;

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn code(e: &KubeError) -> Option<u16> {
    match e {
        KubeError::Api(s) => Some(s.code),
        _ => None,
    }
}

fn message(e: &KubeError) -> String {
    match e {
        KubeError::Api(s) => s.message.clone(),
        _ => e.to_string(),
    }
}

#[tokio::test]
async fn server_side_apply_conflicts_name_the_owner_and_force_takes_over() -> Res {
    let s = start(ServerOptions::default()).await?;
    let api: Api<ConfigMap> = Api::namespaced(s.client().await?, "default");
    let cfg = |v: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"key": v}});
    let made = api
        .patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(cfg("a")))
        .await?;
    let managers: Vec<String> = made
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(managers, vec!["alice".to_string()]);

    let err = api
        .patch("ssa", &PatchParams::apply("bob"), &Patch::Apply(cfg("b")))
        .await
        .err()
        .ok_or("conflict not reported")?;
    assert_eq!(code(&err), Some(409));
    assert!(
        message(&err).contains("conflict with \"alice\""),
        "{}",
        message(&err)
    );

    let forced = api
        .patch(
            "ssa",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(cfg("b")),
        )
        .await?;
    assert_eq!(forced.data.unwrap_or_default()["key"], "b");
    let managers: Vec<String> = forced
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.contains(&"bob".to_string()));
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn server_side_apply_removes_fields_the_manager_stops_applying() -> Res {
    let s = start(ServerOptions::default()).await?;
    let api: Api<ConfigMap> = Api::namespaced(s.client().await?, "default");
    let pp = PatchParams::apply("alice");
    api.patch("p", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}, "data": {"a": "1", "b": "2"}}))).await?;
    let after = api.patch("p", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}, "data": {"a": "1"}}))).await?;
    let data = after.data.unwrap_or_default();
    assert!(data.contains_key("a") && !data.contains_key("b"));
    s.shutdown().await?;
    Ok(())
}

async fn grant_configmap_read(admin: &Client, ns: &str, sa: &str) -> Res {
    let roles: Api<Role> = Api::namespaced(admin.clone(), ns);
    roles.create(&PostParams::default(), &serde_json::from_value(json!({
        "metadata": {"name": "cm-read"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]
    }))?).await?;
    let rbs: Api<RoleBinding> = Api::namespaced(admin.clone(), ns);
    rbs.create(
        &PostParams::default(),
        &serde_json::from_value(json!({
            "metadata": {"name": "cm-read"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-read"},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]
        }))?,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn service_account_with_role_binding_reads_its_namespace_only() -> Res {
    let s = start(ServerOptions::default()).await?;
    let admin = s.client().await?;
    grant_configmap_read(&admin, "default", "flux").await?;
    let sa = s.service_account_client("default", "flux").await?;
    let own: Api<ConfigMap> = Api::namespaced(sa.clone(), "default");
    own.list(&ListParams::default()).await?;
    let err = own
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "x"}}))?,
        )
        .await
        .err()
        .ok_or("SA created without a grant")?;
    assert_eq!(code(&err), Some(403));
    let other: Api<ConfigMap> = Api::namespaced(sa, "kube-system");
    let err = other
        .list(&ListParams::default())
        .await
        .err()
        .ok_or("SA read kube-system")?;
    assert_eq!(code(&err), Some(403));
    assert!(
        message(&err).contains("system:serviceaccount:default:flux"),
        "{}",
        message(&err)
    );
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn admin_impersonating_a_service_account_gets_its_permissions() -> Res {
    let s = start(ServerOptions::default()).await?;
    let admin = s.client().await?;
    grant_configmap_read(&admin, "default", "flux").await?;
    let kc = s.kubeconfig_yaml().replace(
        "    token:",
        "    as: system:serviceaccount:default:flux\n    token:",
    );
    let cfg = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&kc)?,
        &Default::default(),
    )
    .await?;
    let imp = Client::try_from(cfg)?;
    Api::<ConfigMap>::namespaced(imp.clone(), "default")
        .list(&ListParams::default())
        .await?;
    let err = Api::<ConfigMap>::namespaced(imp, "kube-system")
        .list(&ListParams::default())
        .await
        .err()
        .ok_or("impersonation ignored")?;
    assert_eq!(code(&err), Some(403));
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn token_request_mints_a_working_service_account_token() -> Res {
    let s = start(ServerOptions::default()).await?;
    let admin = s.client().await?;
    let sas: Api<ServiceAccount> = Api::namespaced(admin.clone(), "default");
    sas.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "bot"}}))?,
    )
    .await?;
    let tr = sas
        .create_token_request(
            "bot",
            &PostParams::default(),
            &serde_json::from_value(json!({"spec": {"audiences": []}}))?,
        )
        .await?;
    let token = tr.status.map(|st| st.token).ok_or("no token")?;
    let kc = s.kubeconfig_yaml().replace(s.admin_token(), &token);
    let cfg = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&kc)?,
        &Default::default(),
    )
    .await?;
    let bot = Client::try_from(cfg)?;
    let err = Api::<ConfigMap>::namespaced(bot, "default")
        .list(&ListParams::default())
        .await
        .err()
        .ok_or("token acted as admin")?;
    assert!(
        message(&err).contains("system:serviceaccount:default:bot"),
        "{}",
        message(&err)
    );
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn dry_run_create_and_delete_change_nothing() -> Res {
    let s = start(ServerOptions::default()).await?;
    let api: Api<ConfigMap> = Api::namespaced(s.client().await?, "default");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "dry"}}))?;
    api.create(
        &PostParams {
            dry_run: true,
            ..Default::default()
        },
        &cm,
    )
    .await?;
    assert!(api.get_opt("dry").await?.is_none());
    api.create(&PostParams::default(), &cm).await?;
    api.delete(
        "dry",
        &DeleteParams {
            dry_run: true,
            ..Default::default()
        },
    )
    .await?;
    assert!(api.get_opt("dry").await?.is_some());
    s.shutdown().await?;
    Ok(())
}

fn deployment(name: &str, annotations: serde_json::Value) -> Res<Deployment> {
    Ok(serde_json::from_value(json!({
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    }))?)
}

#[tokio::test]
async fn scale_subresource_reads_and_sets_replicas() -> Res {
    let s = start(ServerOptions::default()).await?;
    let api: Api<Deployment> = Api::namespaced(s.client().await?, "default");
    api.create(&PostParams::default(), &deployment("web", json!({}))?)
        .await?;
    let scale = api.get_scale("web").await?;
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(2));
    api.patch_scale(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 4}})),
    )
    .await?;
    let d = api.get("web").await?;
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(4));
    assert_eq!(d.metadata.generation, Some(2));
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn simulator_makes_deployments_available_unless_annotated_to_fail() -> Res {
    let s = start(ServerOptions {
        simulate_workloads: true,
        ..Default::default()
    })
    .await?;
    let api: Api<Deployment> = Api::namespaced(s.client().await?, "default");
    api.create(&PostParams::default(), &deployment("good", json!({}))?)
        .await?;
    api.create(
        &PostParams::default(),
        &deployment("bad", json!({SIMULATE_ANNOTATION: "fail"}))?,
    )
    .await?;
    let cond = |d: &Deployment, t: &str| {
        d.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == t))
            .map(|c| c.status.clone())
    };
    for _ in 0..50 {
        let good = api.get("good").await?;
        let bad = api.get("bad").await?;
        if cond(&good, "Available").is_some() && cond(&bad, "Available").is_some() {
            assert_eq!(cond(&good, "Available").as_deref(), Some("True"));
            assert_eq!(good.status.as_ref().and_then(|s| s.ready_replicas), Some(2));
            assert_eq!(
                good.status.as_ref().and_then(|s| s.observed_generation),
                Some(1)
            );
            assert_eq!(cond(&bad, "Available").as_deref(), Some("False"));
            children_follow_the_deployment(&s).await?;
            s.shutdown().await?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("simulator did not report status".into())
}

#[tokio::test]
async fn state_file_keeps_objects_across_restarts() -> Res {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("state.json");
    let opts = ServerOptions {
        state_file: Some(file.clone()),
        ..Default::default()
    };
    let s = start(opts.clone()).await?;
    let api: Api<ConfigMap> = Api::namespaced(s.client().await?, "default");
    api.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "kept"}, "data": {"a": "b"}}))?,
    )
    .await?;
    let rv = s.resource_version();
    s.shutdown().await?;

    let s = start(opts).await?;
    assert!(s.resource_version() >= rv);
    let api: Api<ConfigMap> = Api::namespaced(s.client().await?, "default");
    assert_eq!(api.get("kept").await?.data.unwrap_or_default()["a"], "b");
    s.shutdown().await?;

    std::fs::write(&file, b"{broken")?;
    let err = start(ServerOptions {
        state_file: Some(file),
        ..Default::default()
    })
    .await
    .err()
    .ok_or("broken state loaded")?;
    assert!(err.to_string().contains("state.json"));
    Ok(())
}

#[tokio::test]
async fn unknown_token_is_401_and_unprivileged_impersonation_is_403() -> Res {
    let s = start(ServerOptions::default()).await?;
    let kc = s.kubeconfig_yaml().replace(s.admin_token(), "not-a-token");
    let cfg = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&kc)?,
        &Default::default(),
    )
    .await?;
    let err = Api::<ConfigMap>::namespaced(Client::try_from(cfg)?, "default")
        .list(&ListParams::default())
        .await
        .err()
        .ok_or("unknown token accepted")?;
    assert_eq!(code(&err), Some(401));

    let token = s.token_for_user("mallory", &[]);
    let kc = s
        .kubeconfig_yaml()
        .replace(s.admin_token(), &token)
        .replace(
            "    token:",
            "    as: admin\n    as-groups: [\"system:masters\"]\n    token:",
        );
    let cfg = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&kc)?,
        &Default::default(),
    )
    .await?;
    let err = Api::<ConfigMap>::namespaced(Client::try_from(cfg)?, "default")
        .list(&ListParams::default())
        .await
        .err()
        .ok_or("mallory impersonated the admin")?;
    assert_eq!(code(&err), Some(403));
    assert!(
        message(&err).contains("cannot impersonate"),
        "{}",
        message(&err)
    );
    s.shutdown().await?;
    Ok(())
}

async fn children_follow_the_deployment(s: &flux_apiserver::RunningServer) -> Res {
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use k8s_openapi::api::core::v1::Pod;
    let c = s.client().await?;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let sets: Api<ReplicaSet> = Api::namespaced(c.clone(), "default");
    let running = |list: &[Pod]| {
        list.iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .count()
    };
    let mut seen = 0;
    for _ in 0..50 {
        let list = pods
            .list(&ListParams::default().labels("app=good"))
            .await?
            .items;
        seen = running(&list);
        if seen == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, 2, "two running pods for a two-replica deployment");
    let rs = sets
        .list(&ListParams::default().labels("app=good"))
        .await?
        .items;
    assert_eq!(rs.len(), 1);
    Api::<Deployment>::namespaced(c, "default")
        .delete("good", &DeleteParams::default())
        .await?;
    for _ in 0..50 {
        if pods
            .list(&ListParams::default().labels("app=good"))
            .await?
            .items
            .is_empty()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("pods outlived their deployment".into())
}

#[tokio::test]
async fn changing_a_deployment_selector_is_rejected_as_immutable() -> Res {
    let s = start(ServerOptions::default()).await?;
    let api: Api<Deployment> = Api::namespaced(s.client().await?, "default");
    api.create(&PostParams::default(), &deployment("web", json!({}))?)
        .await?;
    let patch = json!({"spec": {"selector": {"matchLabels": {"app": "other"}},
                                "template": {"metadata": {"labels": {"app": "other"}}}}});
    let err = api
        .patch("web", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .err()
        .ok_or("selector change accepted")?;
    assert_eq!(code(&err), Some(422));
    assert!(
        message(&err).contains("field is immutable"),
        "{}",
        message(&err)
    );
    s.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn new_namespace_gets_a_default_service_account_with_tokens() -> Res {
    let s = start(ServerOptions::default()).await?;
    let c = s.client().await?;
    let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(c.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "tenant"}}))?,
    )
    .await?;
    let sas: Api<ServiceAccount> = Api::namespaced(c, "tenant");
    assert!(sas.get_opt("default").await?.is_some());
    let tr = sas
        .create_token_request(
            "default",
            &PostParams::default(),
            &serde_json::from_value(json!({"spec": {"audiences": []}}))?,
        )
        .await?;
    assert!(tr.status.is_some_and(|s| !s.token.is_empty()));
    s.shutdown().await?;
    Ok(())
}
