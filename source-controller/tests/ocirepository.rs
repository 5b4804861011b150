//! OCIRepository end to end: Debian's `docker-registry` on loopback, artifacts pushed in Flux's
//! media types over the registry API, the reconciler on the in-memory API server, and the
//! stored artifact downloaded, verified and unpacked.

use std::time::Duration;

use flux_artifact::{UnpackLimits, fetch_verified, unpack};
use flux_testservers::Registry;
use kube::api::{Api, Patch, PatchParams, PostParams};

mod oci_common;
use oci_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocirepository_pulls_tag_and_semver_with_flux_revisions_and_verified_artifact() {
    let registry = Registry::start(false);
    let h = Harness::start().await;
    let latest = push_artifact(
        &registry.addr,
        "fleet/apps",
        "latest",
        &[("apps/app.yaml", "kind: ConfigMap\n")],
    )
    .await;
    h.create(
        "apps",
        serde_json::json!({"interval": "1m", "url": format!("oci://{}/fleet/apps", registry.addr),
            "insecure": true, "ref": {"tag": "latest"}}),
    )
    .await;
    let obj = h.wait("apps", ready).await;
    let artifact = obj
        .status
        .clone()
        .and_then(|s| s.artifact)
        .expect("artifact");
    assert_eq!(artifact.revision, format!("latest@{latest}"));
    let hex = latest.trim_start_matches("sha256:");
    assert_eq!(
        artifact.path,
        format!("ocirepository/flux-system/apps/{hex}.tar.gz")
    );
    assert_eq!(
        cond(&obj, "Ready").map(|c| c.message.clone()),
        Some(format!("stored artifact for digest 'latest@{latest}'"))
    );
    assert_eq!(
        artifact
            .metadata
            .get("org.opencontainers.image.source")
            .map(String::as_str),
        Some("https://github.com/example/fleet")
    );
    let bytes = fetch_verified(
        &reqwest::Client::new(),
        &artifact.url,
        artifact.digest.as_deref().expect("digest"),
        1 << 20,
    )
    .await
    .expect("download");
    let out = tempfile::tempdir().expect("tempdir");
    unpack(&bytes, out.path(), UnpackLimits::default()).expect("unpack");
    assert_eq!(
        std::fs::read_to_string(out.path().join("apps/app.yaml")).expect("file"),
        "kind: ConfigMap\n"
    );
    assert!(h.has_event("apps", "Normal", "NewArtifact").await);

    // Semver picks the highest matching tag.
    push_artifact(
        &registry.addr,
        "fleet/apps",
        "1.0.0",
        &[("a.yaml", "v: 1\n")],
    )
    .await;
    let v11 = push_artifact(
        &registry.addr,
        "fleet/apps",
        "1.1.0",
        &[("a.yaml", "v: 11\n")],
    )
    .await;
    push_artifact(
        &registry.addr,
        "fleet/apps",
        "2.0.0",
        &[("a.yaml", "v: 2\n")],
    )
    .await;
    h.create(
        "ranged",
        serde_json::json!({"interval": "1m", "url": format!("oci://{}/fleet/apps", registry.addr),
            "insecure": true, "ref": {"semver": ">=1.0.0 <2.0.0"}}),
    )
    .await;
    let obj = h.wait("ranged", ready).await;
    assert_eq!(
        obj.status.and_then(|s| s.artifact).map(|a| a.revision),
        Some(format!("1.1.0@{v11}"))
    );

    // A missing tag is a pull failure; the last artifact stays.
    let patch = serde_json::json!({"spec": {"ref": {"tag": "nope"}}});
    h.api()
        .patch("apps", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let obj = h.wait("apps", failed).await;
    let fetch = cond(&obj, "FetchFailed").expect("FetchFailed");
    assert_eq!(fetch.reason, "OCIArtifactPullFailed");
    assert!(
        fetch.message.contains("manifest 'nope' not found"),
        "{}",
        fetch.message
    );
    assert_eq!(
        obj.status.and_then(|s| s.artifact).map(|a| a.revision),
        Some(format!("latest@{latest}"))
    );
    assert!(
        h.has_event("apps", "Warning", "OCIArtifactPullFailed")
            .await
    );

    // A verify spec whose key Secret is missing fails instead of passing unverified content
    // (signed artifacts are covered in tests/oci_verify.rs).
    h.create(
        "signed",
        serde_json::json!({"interval": "1m", "url": format!("oci://{}/fleet/apps", registry.addr),
            "insecure": true, "verify": {"provider": "cosign", "secretRef": {"name": "cosign-pub"}}}),
    )
    .await;
    let obj = h.wait("signed", failed).await;
    let verified = cond(&obj, "SourceVerified").expect("SourceVerified");
    assert_eq!(verified.status, "False");
    assert_eq!(verified.reason, "VerificationError");
    assert!(
        verified.message.contains("provider 'cosign'"),
        "{}",
        verified.message
    );
    assert!(obj.status.and_then(|s| s.artifact).is_none());

    // A layer selector naming a media type the artifact lacks is a layer operation failure.
    h.create(
        "wrong-layer",
        serde_json::json!({"interval": "1m", "url": format!("oci://{}/fleet/apps", registry.addr),
            "insecure": true, "layerSelector": {"mediaType": "application/x-nothing"}}),
    )
    .await;
    let obj = h.wait("wrong-layer", failed).await;
    assert_eq!(
        cond(&obj, "FetchFailed").map(|c| c.reason.clone()),
        Some("OCIArtifactLayerOperationFailed".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocirepository_behind_htpasswd_needs_the_dockerconfigjson_secret() {
    let registry = Registry::start(true);
    let h = Harness::start().await;
    let mut headers = reqwest::header::HeaderMap::new();
    // "flux:s3cret" in base64.
    let basic = "Basic Zmx1eDpzM2NyZXQ=";
    headers.insert("authorization", basic.parse().expect("header"));
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client");
    let digest = push_artifact_with(
        &http,
        &registry.addr,
        "private/app",
        "v1",
        &[("x.yaml", "x: 1\n")],
    )
    .await;
    let spec = serde_json::json!({"interval": "1m", "insecure": true, "ref": {"tag": "v1"},
        "url": format!("oci://{}/private/app", registry.addr), "secretRef": {"name": "regcred"}});
    h.create("private", spec).await;
    let obj = h.wait("private", failed).await;
    assert_eq!(
        cond(&obj, "FetchFailed").map(|c| c.reason.clone()),
        Some("AuthenticationFailed".to_string()),
        "a missing secret is an authentication failure"
    );

    let config =
        serde_json::json!({"auths": {registry.addr.clone(): {"auth": "Zmx1eDp3cm9uZw=="}}});
    let secret = |config: &serde_json::Value| -> k8s_openapi::api::core::v1::Secret {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "regcred", "namespace": NS},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": config.to_string()}
        }))
        .expect("secret")
    };
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(h.client.clone(), NS);
    secrets
        .create(&PostParams::default(), &secret(&config))
        .await
        .expect("secret");
    let obj = h
        .wait("private", |o| {
            cond(o, "FetchFailed").is_some_and(|c| c.message.contains("401"))
        })
        .await;
    assert_eq!(
        cond(&obj, "FetchFailed").map(|c| c.reason.clone()),
        Some("AuthenticationFailed".to_string()),
        "a wrong password is an authentication failure"
    );
    let text = serde_json::to_string(&obj).expect("json");
    assert!(
        !text.contains("Zmx1eDp3cm9uZw"),
        "credentials leaked: {text}"
    );

    let config = serde_json::json!({"auths": {registry.addr.clone(): {"username": "flux", "password": "s3cret"}}});
    secrets
        .replace("regcred", &PostParams::default(), &secret(&config))
        .await
        .expect("replace secret");
    let obj = h.wait("private", ready).await;
    assert_eq!(
        obj.status.and_then(|s| s.artifact).map(|a| a.revision),
        Some(format!("v1@{digest}"))
    );
}

/// Pushes a chart archive as `helm push` lays it out; returns the manifest digest.
async fn push_chart(registry: &str, repo: &str, tag: &str, chart: &[u8]) -> String {
    let http = reqwest::Client::new();
    let config = b"{\"name\":\"compressedchart\"}".to_vec();
    let config_digest = push_blob(&http, registry, repo, &config).await;
    let layer_digest = push_blob(&http, registry, repo, chart).await;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                    "digest": layer_digest, "size": chart.len()}]
    });
    let body = serde_json::to_vec(&manifest).expect("json");
    let resp = http
        .put(format!("http://{registry}/v2/{repo}/manifests/{tag}"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(body.clone())
        .send()
        .await
        .expect("manifest");
    assert_eq!(resp.status(), 201, "push chart manifest");
    sha256(&body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helmchart_from_an_oci_helmrepository_resolves_the_range_over_registry_tags() {
    let registry = Registry::start(false);
    let h = Harness::start().await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/charts");
    for v in ["0.1.0", "0.2.0", "0.3.0"] {
        let chart =
            std::fs::read(fixtures.join(format!("compressedchart-{v}.tgz"))).expect("fixture");
        push_chart(&registry.addr, "charts/compressedchart", v, &chart).await;
    }
    let repo: flux_api::source::v1::HelmRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
        "metadata": {"name": "oci-charts", "namespace": NS},
        "spec": {"type": "oci", "insecure": true, "url": format!("oci://{}/charts", registry.addr)}
    }))
    .expect("repo");
    Api::<flux_api::source::v1::HelmRepository>::namespaced(h.client.clone(), NS)
        .create(&PostParams::default(), &repo)
        .await
        .expect("create repo");
    let chart: flux_api::source::v1::HelmChart = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
        "metadata": {"name": "from-oci", "namespace": NS},
        "spec": {"chart": "compressedchart", "version": ">=0.1.0 <0.3.0", "interval": "1m",
                 "sourceRef": {"kind": "HelmRepository", "name": "oci-charts"}}
    }))
    .expect("chart");
    let charts: Api<flux_api::source::v1::HelmChart> = Api::namespaced(h.client.clone(), NS);
    charts
        .create(&PostParams::default(), &chart)
        .await
        .expect("create chart");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let obj = loop {
        let obj = charts.get("from-oci").await.expect("get");
        let ready = obj.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        });
        if ready {
            break obj;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out: {:?}",
            obj.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let artifact = obj.status.and_then(|s| s.artifact).expect("artifact");
    assert_eq!(artifact.revision, "0.2.0");
    let bytes = fetch_verified(
        &reqwest::Client::new(),
        &artifact.url,
        artifact.digest.as_deref().expect("digest"),
        1 << 20,
    )
    .await
    .expect("download");
    assert_eq!(
        bytes,
        std::fs::read(fixtures.join("compressedchart-0.2.0.tgz")).expect("fixture")
    );

    // Keyless verification (no secretRef) is not supported yet: the chart fails instead of
    // being served unverified, and the last artifact stays.
    let patch = serde_json::json!({"spec": {"verify": {"provider": "cosign"}}});
    charts
        .patch("from-oci", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let obj = loop {
        let obj = charts.get("from-oci").await.expect("get");
        let verified = obj.status.as_ref().and_then(|s| {
            s.conditions
                .iter()
                .find(|c| c.type_ == "SourceVerified")
                .cloned()
        });
        if let Some(c) = verified {
            assert_eq!(c.status, "False");
            assert_eq!(c.reason, "VerificationError");
            assert!(c.message.contains("'cosign keyless'"), "{}", c.message);
            break obj;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out: {:?}",
            obj.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let status = obj.status.expect("status");
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "False")
    );
    assert_eq!(
        status.artifact.map(|a| a.revision),
        Some("0.2.0".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_behind_a_private_ca_needs_the_ca_from_cert_secret_ref() {
    let tls = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let registry = Registry::start_with(|_| {
        format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            tls.join("server.crt").display(),
            tls.join("server.key").display()
        )
    });
    let ca = std::fs::read(tls.join("ca.crt")).expect("ca");
    let http = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("ca"))
        .build()
        .expect("client");
    let url = format!("oci://{}/fleet/tls", registry.addr);
    let reference = source_controller::oci_registry::Reference::parse(&url).expect("reference");
    let pusher =
        source_controller::oci_registry::Client::new(http, reference, false, None).expect("client");
    let mut layer = Vec::new();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("app.yaml"), "kind: ConfigMap\n").expect("write");
    flux_artifact::pack_dir(
        dir.path(),
        &flux_artifact::IgnoreRules::load(dir.path(), None).expect("rules"),
        &mut layer,
    )
    .expect("pack");
    let digest = pusher
        .push_artifact("v1", layer.into(), &Default::default())
        .await
        .expect("push over https");

    let h = Harness::start().await;
    h.create(
        "tls",
        serde_json::json!({"interval": "1m", "url": url, "ref": {"tag": "v1"}}),
    )
    .await;
    let obj = h.wait("tls", failed).await;
    let message = cond(&obj, "FetchFailed")
        .expect("FetchFailed")
        .message
        .clone();
    assert!(
        message.contains("certificate"),
        "an unknown CA is named as the cause: {message}"
    );

    create_json::<k8s_openapi::api::core::v1::Secret>(
        &h.client,
        serde_json::json!({"metadata": {"name": "registry-ca", "namespace": NS},
            "stringData": {"ca.crt": String::from_utf8(ca).expect("pem")}}),
    )
    .await;
    h.api()
        .patch(
            "tls",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"certSecretRef": {"name": "registry-ca"}}})),
        )
        .await
        .expect("patch");
    let obj = h.wait("tls", ready).await;
    assert_eq!(
        obj.status.and_then(|s| s.artifact).map(|a| a.revision),
        Some(format!("v1@{digest}"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_pull_secrets_authenticate_and_cloud_providers_are_refused() {
    let registry = Registry::start(true);
    let url = format!("oci://{}/private/app", registry.addr);
    let reference = source_controller::oci_registry::Reference::parse(&url).expect("reference");
    let creds = (
        flux_testservers::REGISTRY_USER.to_string(),
        flux_testservers::REGISTRY_PASSWORD.to_string(),
    );
    let pusher = source_controller::oci_registry::Client::new(
        reqwest::Client::new(),
        reference,
        true,
        Some(creds.clone()),
    )
    .expect("client");
    let mut layer = Vec::new();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("app.yaml"), "kind: ConfigMap\n").expect("write");
    flux_artifact::pack_dir(
        dir.path(),
        &flux_artifact::IgnoreRules::load(dir.path(), None).expect("rules"),
        &mut layer,
    )
    .expect("pack");
    let digest = pusher
        .push_artifact("v1", layer.into(), &Default::default())
        .await
        .expect("push");

    let h = Harness::start().await;
    let spec = |extra: serde_json::Value| {
        // No `insecure`: a loopback registry without TLS is reached over plain http, as Flux
        // (go-containerregistry) does.
        let mut spec = serde_json::json!({"interval": "1m", "url": url,
            "ref": {"tag": "v1"}});
        spec.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        spec
    };
    h.create(
        "no-account",
        spec(serde_json::json!({"serviceAccountName": "puller"})),
    )
    .await;
    let obj = h.wait("no-account", failed).await;
    let failure = cond(&obj, "FetchFailed").expect("FetchFailed");
    assert_eq!(failure.reason, "AuthenticationFailed");
    assert!(
        failure
            .message
            .contains("serviceaccounts \"puller\" not found"),
        "{}",
        failure.message
    );

    let config = serde_json::json!({"auths": {registry.addr.clone():
        {"username": creds.0, "password": creds.1}}});
    create_json::<k8s_openapi::api::core::v1::Secret>(
        &h.client,
        serde_json::json!({"metadata": {"name": "regcred", "namespace": NS},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": config.to_string()}}),
    )
    .await;
    create_json::<k8s_openapi::api::core::v1::ServiceAccount>(
        &h.client,
        serde_json::json!({"metadata": {"name": "puller", "namespace": NS},
            "imagePullSecrets": [{"name": "regcred"}]}),
    )
    .await;
    h.create(
        "with-account",
        spec(serde_json::json!({"serviceAccountName": "puller"})),
    )
    .await;
    let obj = h.wait("with-account", ready).await;
    assert_eq!(
        obj.status.and_then(|s| s.artifact).map(|a| a.revision),
        Some(format!("v1@{digest}"))
    );

    h.create("aws", spec(serde_json::json!({"provider": "aws"})))
        .await;
    let obj = h.wait("aws", failed).await;
    let failure = cond(&obj, "FetchFailed").expect("FetchFailed");
    assert!(
        failure.message.contains("'aws'") && failure.message.contains("not supported yet"),
        "{}",
        failure.message
    );
    assert_eq!(
        cond(&obj, "Stalled").map(|c| c.status.as_str()),
        Some("True"),
        "retrying cannot make a missing provider work"
    );
}
