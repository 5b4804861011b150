//! `flux install --export` run as the real binary: what a user pipes into `kubectl apply`.

use std::collections::BTreeSet;
use std::process::{Command, Output};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::Deserialize;
use serde_json::Value;

const FLUX: &str = env!("CARGO_BIN_EXE_flux");

fn flux(args: &[&str]) -> Output {
    Command::new(FLUX).args(args).output().expect("run flux")
}

fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).expect("valid YAML document"))
        .filter(|v| !v.is_null())
        .collect()
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

#[test]
fn export_with_image_extras_has_every_crd_and_six_hardened_deployments() {
    let out = flux(&[
        "install",
        "--export",
        "--components-extra=image-reflector-controller,image-automation-controller",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    let docs = documents(&yaml);

    assert_eq!(docs[0]["kind"], "Namespace");
    assert_eq!(docs[0]["metadata"]["name"], "flux-system");

    let crd_kinds: BTreeSet<String> = of_kind(&docs, "CustomResourceDefinition")
        .into_iter()
        .map(|d| {
            let crd =
                CustomResourceDefinition::deserialize(d).expect("CRD parses as a Kubernetes CRD");
            crd.spec.names.kind
        })
        .collect();
    let api_kinds: BTreeSet<String> = flux_api::crds::kinds()
        .iter()
        .map(|k| k.kind.to_string())
        .collect();
    assert_eq!(crd_kinds, api_kinds);
    let flux_kinds: BTreeSet<String> = [
        "GitRepository",
        "OCIRepository",
        "HelmRepository",
        "HelmChart",
        "Bucket",
        "Kustomization",
        "HelmRelease",
        "Provider",
        "Alert",
        "Receiver",
        "ImageRepository",
        "ImagePolicy",
        "ImageUpdateAutomation",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let missing: Vec<&String> = flux_kinds.difference(&crd_kinds).collect();
    assert!(missing.is_empty(), "Flux kinds without a CRD: {missing:?}");

    let deployments: Vec<Deployment> = of_kind(&docs, "Deployment")
        .into_iter()
        .map(|d| Deployment::deserialize(d).expect("Deployment parses"))
        .collect();
    let names: Vec<String> = deployments
        .iter()
        .filter_map(|d| d.metadata.name.clone())
        .collect();
    assert_eq!(
        names,
        [
            "source-controller",
            "kustomize-controller",
            "helm-controller",
            "notification-controller",
            "image-reflector-controller",
            "image-automation-controller"
        ]
    );
    for d in &deployments {
        let name = d.metadata.name.clone().unwrap_or_default();
        let labels = d.metadata.labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get("app.kubernetes.io/part-of").map(String::as_str),
            Some("flux"),
            "{name}"
        );
        assert_eq!(labels.get("app.kubernetes.io/component"), Some(&name));
        assert_eq!(
            labels.get("control-plane").map(String::as_str),
            Some("controller"),
            "{name}"
        );
        let spec = d.spec.as_ref().unwrap();
        assert_eq!(
            spec.selector.match_labels.as_ref().unwrap().get("app"),
            Some(&name)
        );
        let pod = spec.template.spec.as_ref().unwrap();
        assert_eq!(pod.service_account_name.as_ref(), Some(&name));
        let c = &pod.containers[0];
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!(sc.run_as_non_root, Some(true), "{name}");
        assert_eq!(sc.read_only_root_filesystem, Some(true), "{name}");
        assert_eq!(sc.allow_privilege_escalation, Some(false), "{name}");
        assert_eq!(
            sc.capabilities.as_ref().unwrap().drop.as_deref(),
            Some(&["ALL".to_string()][..]),
            "{name}"
        );
        assert_eq!(
            sc.seccomp_profile.as_ref().unwrap().type_,
            "RuntimeDefault",
            "{name}"
        );
        let live = c
            .liveness_probe
            .as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap();
        let ready = c
            .readiness_probe
            .as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap();
        assert_eq!(live.path.as_deref(), Some("/healthz"));
        assert_eq!(ready.path.as_deref(), Some("/readyz"));
        let ports: Vec<(String, i32)> = c
            .ports
            .iter()
            .flatten()
            .map(|p| (p.name.clone().unwrap_or_default(), p.container_port))
            .collect();
        assert!(
            ports.contains(&("http-prom".to_string(), 8080)),
            "{name}: {ports:?}"
        );
        assert!(
            ports.contains(&("healthz".to_string(), 9440)),
            "{name}: {ports:?}"
        );
        let env: Vec<&str> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
        assert!(
            env.contains(&"RUNTIME_NAMESPACE") && env.contains(&"TOKIO_WORKER_THREADS"),
            "{name}: {env:?}"
        );
        let limits = c.resources.as_ref().unwrap().limits.as_ref().unwrap();
        assert_eq!(limits["cpu"].0, "500m", "{name}: below Flux's 1000m");
    }

    let services: Vec<String> = of_kind(&docs, "Service")
        .into_iter()
        .map(|d| {
            Service::deserialize(d)
                .unwrap()
                .metadata
                .name
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        services,
        [
            "source-controller",
            "notification-controller",
            "webhook-receiver"
        ]
    );

    let policies: Vec<&str> = of_kind(&docs, "NetworkPolicy")
        .iter()
        .filter_map(|d| d["metadata"]["name"].as_str())
        .collect();
    assert_eq!(
        policies,
        ["allow-egress", "allow-scraping", "allow-webhooks"]
    );

    // Types before their users: the last CRD comes before the first Deployment.
    let pos = |kind: &str| docs.iter().position(|d| d["kind"] == kind).unwrap();
    let last_crd = docs
        .iter()
        .rposition(|d| d["kind"] == "CustomResourceDefinition")
        .unwrap();
    assert!(last_crd < pos("Deployment"));
}

#[test]
fn default_components_exclude_the_image_controllers() {
    let out = flux(&["install", "--export"]);
    assert_eq!(out.status.code(), Some(0));
    let docs = documents(&String::from_utf8(out.stdout).unwrap());
    let deployments: Vec<&str> = of_kind(&docs, "Deployment")
        .iter()
        .filter_map(|d| d["metadata"]["name"].as_str())
        .collect();
    assert_eq!(
        deployments,
        [
            "source-controller",
            "kustomize-controller",
            "helm-controller",
            "notification-controller"
        ]
    );
}

#[test]
fn namespace_flag_places_everything_in_that_namespace() {
    let out = flux(&[
        "install",
        "--export",
        "--namespace=gitops",
        "--components=source-controller",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let docs = documents(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(docs[0]["metadata"]["name"], "gitops");
    for d in &docs {
        if let Some(ns) = d["metadata"]["namespace"].as_str() {
            assert_eq!(ns, "gitops", "{}", d["metadata"]["name"]);
        }
    }
    assert_eq!(of_kind(&docs, "Deployment").len(), 1);
}

#[test]
fn unknown_component_fails_listing_valid_names() {
    let out = flux(&[
        "install",
        "--export",
        "--components=source-controller,image-reflector",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown component \"image-reflector\""),
        "{stderr}"
    );
    for name in flux_api::crds::COMPONENTS {
        assert!(stderr.contains(name), "{name} missing from: {stderr}");
    }
    assert!(out.stdout.is_empty());
}

#[test]
fn install_without_export_needs_a_cluster() {
    let out = flux(&["install", "--kubeconfig", "/nonexistent/kubeconfig"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kubeconfig"));
}

#[test]
fn version_flag_prints_the_version() {
    let out = flux(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("flux version {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_flag_exits_one() {
    let out = flux(&["install", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));
}
