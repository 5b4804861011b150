//! OCIRepository `spec.verify` with cosign public keys, end to end: Debian's `docker-registry`,
//! signatures made by the `openssl` CLI (an implementation independent of the verifier) and
//! stored the way `cosign sign --key` stores them, the reconciler on the in-memory API server.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use flux_api::source::v1::{HelmChart, HelmRepository, OCIRepository};
use flux_artifact::fetch_verified;
use flux_testservers::Registry;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, Patch, PatchParams, PostParams};

mod oci_common;
use oci_common::*;

/// ECDSA P-256 key pairs and signatures through the `openssl` CLI.
struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn openssl(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("openssl must be installed");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Makes `<name>.key` (what `cosign generate-key-pair` makes, unencrypted) and returns
    /// the PEM public key.
    fn generate(&self, name: &str) -> String {
        let key = format!("{name}.key");
        self.openssl(&[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            &key,
        ]);
        String::from_utf8(self.openssl(&["ec", "-in", &key, "-pubout"])).expect("pem")
    }

    /// An Ed25519 PEM public key (cosign accepts those; this verifier not yet).
    fn ed25519(&self) -> String {
        self.openssl(&["genpkey", "-algorithm", "ed25519", "-out", "ed.key"]);
        String::from_utf8(self.openssl(&["pkey", "-in", "ed.key", "-pubout"])).expect("pem")
    }

    /// ASN.1 DER ECDSA-SHA256 signature of `payload`, as cosign makes it.
    fn sign(&self, name: &str, payload: &[u8]) -> Vec<u8> {
        let file: PathBuf = self.dir.path().join("payload.json");
        std::fs::write(&file, payload).expect("payload");
        self.openssl(&[
            "dgst",
            "-sha256",
            "-sign",
            &format!("{name}.key"),
            file.to_str().expect("utf-8"),
        ])
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The simple-signing payload `cosign sign` signs for `digest`.
fn payload(registry: &str, repo: &str, digest: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": {"docker-reference": format!("{registry}/{repo}")},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature"
        },
        "optional": null
    }))
    .expect("json")
}

/// Stores a signature of `payload` by `key` for `digest` under cosign's `.sig` tag.
async fn push_signature(
    registry: &str,
    repo: &str,
    digest: &str,
    keys: &Keys,
    key: &str,
    payload: &[u8],
) {
    let http = reqwest::Client::new();
    let signature = base64::engine::general_purpose::STANDARD.encode(keys.sign(key, payload));
    let config =
        br#"{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = push_blob(&http, registry, repo, config).await;
    let payload_digest = push_blob(&http, registry, repo, payload).await;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                    "digest": payload_digest, "size": payload.len(),
                    "annotations": {"dev.cosignproject.cosign/signature": signature}}],
    });
    let tag = format!("{}.sig", digest.replacen(':', "-", 1));
    push_manifest(registry, repo, &tag, &manifest).await;
}

fn is(obj: &OCIRepository, type_: &str, status: &str) -> bool {
    cond(obj, type_).is_some_and(|c| c.status == status)
}

fn revision(obj: &OCIRepository) -> Option<String> {
    obj.status
        .as_ref()?
        .artifact
        .as_ref()
        .map(|a| a.revision.clone())
}

fn spec(registry: &str, repo: &str, tag: &str, verify: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"interval": "1h", "url": format!("oci://{registry}/{repo}"),
        "insecure": true, "ref": {"tag": tag}, "verify": verify})
}

/// Waits for SourceVerified False and checks that the failure is reported everywhere and that
/// nothing was stored.
async fn assert_refused(h: &Harness, name: &str, needle: &str) -> OCIRepository {
    let obj = h.wait(name, |o| is(o, "SourceVerified", "False")).await;
    let verified = cond(&obj, "SourceVerified").expect("SourceVerified");
    assert_eq!(verified.reason, "VerificationError", "{name}");
    assert!(
        verified.message.contains(needle),
        "{name}: {}",
        verified.message
    );
    let ready = cond(&obj, "Ready").expect("Ready");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "VerificationError"),
        "{name}"
    );
    assert_eq!(ready.message, verified.message, "{name}");
    assert_eq!(revision(&obj), None, "{name}: nothing is stored unverified");
    assert!(
        h.has_event(name, "Warning", "VerificationError").await,
        "{name}"
    );
    obj
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosign_signatures_are_checked_against_the_secret_public_keys() {
    let registry = Registry::start(false);
    let reg = registry.addr.as_str();
    let h = Harness::start().await;
    let keys = Keys::new();
    let trusted = keys.generate("trusted");
    keys.generate("stranger");
    h.secret(
        "cosign-keys",
        &[("cosign.pub", trusted.as_str()), ("notes.txt", "not a key")],
    )
    .await;
    let private = std::fs::read_to_string(keys.path().join("trusted.key")).expect("key");
    h.secret("no-pub", &[("cosign.key", private.as_str())])
        .await;
    let keyed = serde_json::json!({"provider": "cosign", "secretRef": {"name": "cosign-keys"}});

    // Signed with the trusted key: verified and stored.
    let digest = push_artifact(reg, "fleet/signed", "v1", &[("app.yaml", "a: 1\n")]).await;
    push_signature(
        reg,
        "fleet/signed",
        &digest,
        &keys,
        "trusted",
        &payload(reg, "fleet/signed", &digest),
    )
    .await;
    h.create("signed", spec(reg, "fleet/signed", "v1", keyed.clone()))
        .await;
    let obj = h.wait("signed", |o| is(o, "Ready", "True")).await;
    let verified = cond(&obj, "SourceVerified").expect("SourceVerified");
    assert_eq!(verified.status, "True");
    assert_eq!(verified.reason, "Succeeded");
    assert_eq!(
        verified.message,
        format!("verified signature of revision v1@{digest}")
    );
    assert_eq!(revision(&obj), Some(format!("v1@{digest}")));

    // No signature at all.
    push_artifact(reg, "fleet/unsigned", "v1", &[("app.yaml", "b: 1\n")]).await;
    h.create("unsigned", spec(reg, "fleet/unsigned", "v1", keyed.clone()))
        .await;
    assert_refused(&h, "unsigned", "no signature found").await;

    // Signed, but by a key the Secret does not hold.
    let digest = push_artifact(reg, "fleet/stranger", "v1", &[("app.yaml", "c: 1\n")]).await;
    push_signature(
        reg,
        "fleet/stranger",
        &digest,
        &keys,
        "stranger",
        &payload(reg, "fleet/stranger", &digest),
    )
    .await;
    h.create("stranger", spec(reg, "fleet/stranger", "v1", keyed.clone()))
        .await;
    assert_refused(&h, "stranger", "no matching signatures were found").await;

    // A genuine signature, but of another image, copied under this image's signature tag.
    let digest = push_artifact(reg, "fleet/copied", "v1", &[("app.yaml", "d: 1\n")]).await;
    let elsewhere = push_artifact(reg, "fleet/copied", "v0", &[("app.yaml", "d: 0\n")]).await;
    push_signature(
        reg,
        "fleet/copied",
        &digest,
        &keys,
        "trusted",
        &payload(reg, "fleet/copied", &elsewhere),
    )
    .await;
    h.create("copied", spec(reg, "fleet/copied", "v1", keyed.clone()))
        .await;
    assert_refused(&h, "copied", &format!("signs digest '{elsewhere}'")).await;

    // The Secret holds no `.pub` entry, or does not exist.
    let no_pub = serde_json::json!({"provider": "cosign", "secretRef": {"name": "no-pub"}});
    h.create("no-pub", spec(reg, "fleet/signed", "v1", no_pub))
        .await;
    assert_refused(&h, "no-pub", "no cosign public keys").await;
    let ed25519 = keys.ed25519();
    h.secret("ed25519", &[("ed.pub", ed25519.as_str())]).await;
    let ed = serde_json::json!({"provider": "cosign", "secretRef": {"name": "ed25519"}});
    h.create("ed25519", spec(reg, "fleet/signed", "v1", ed))
        .await;
    assert_refused(
        &h,
        "ed25519",
        "'ed.pub' is an Ed25519 key (only ECDSA P-256 keys",
    )
    .await;
    let missing = serde_json::json!({"provider": "cosign", "secretRef": {"name": "missing"}});
    h.create("missing", spec(reg, "fleet/signed", "v1", missing))
        .await;
    assert_refused(&h, "missing", "secrets \"missing\" not found").await;

    // Keyless cosign and notation are refused as unsupported; retrying cannot help.
    h.create(
        "keyless",
        spec(
            reg,
            "fleet/signed",
            "v1",
            serde_json::json!({"provider": "cosign"}),
        ),
    )
    .await;
    let obj = assert_refused(
        &h,
        "keyless",
        "'cosign keyless': keyless verification is not supported yet",
    )
    .await;
    assert!(is(&obj, "Stalled", "True"));
    h.create(
        "notation",
        spec(
            reg,
            "fleet/signed",
            "v1",
            serde_json::json!({"provider": "notation", "secretRef": {"name": "cosign-keys"}}),
        ),
    )
    .await;
    let obj = assert_refused(&h, "notation", "notation verification is not supported yet").await;
    assert!(is(&obj, "Stalled", "True"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_failure_keeps_the_last_verified_artifact_and_results_are_cached() {
    let registry = Registry::start(false);
    let reg = registry.addr.as_str();
    let h = Harness::start().await;
    let keys = Keys::new();
    let trusted = keys.generate("trusted");
    h.secret("cosign-keys", &[("cosign.pub", trusted.as_str())])
        .await;
    let keyed = serde_json::json!({"provider": "cosign", "secretRef": {"name": "cosign-keys"}});
    let repo = "fleet/apps";
    let first = push_artifact(reg, repo, "latest", &[("app.yaml", "v: 1\n")]).await;
    push_signature(
        reg,
        repo,
        &first,
        &keys,
        "trusted",
        &payload(reg, repo, &first),
    )
    .await;
    h.create("apps", spec(reg, repo, "latest", keyed)).await;
    let obj = h.wait("apps", |o| is(o, "Ready", "True")).await;
    let good = obj.status.and_then(|s| s.artifact).expect("artifact");
    assert_eq!(good.revision, format!("latest@{first}"));

    // An unsigned new revision under the tag: refused, the verified artifact stays served.
    let second = push_artifact(reg, repo, "latest", &[("app.yaml", "v: 2\n")]).await;
    h.request_reconcile("apps", "unsigned-update").await;
    let obj = h.wait("apps", |o| is(o, "SourceVerified", "False")).await;
    assert!(
        cond(&obj, "SourceVerified")
            .expect("SourceVerified")
            .message
            .contains(&format!("fleet/apps@{second}")),
        "{:?}",
        cond(&obj, "SourceVerified")
    );
    assert!(is(&obj, "Ready", "False"));
    assert_eq!(revision(&obj), Some(format!("latest@{first}")));
    let bytes = fetch_verified(
        &reqwest::Client::new(),
        &good.url,
        good.digest.as_deref().expect("digest"),
        1 << 20,
    )
    .await
    .expect("the last verified artifact is still served");
    assert!(!bytes.is_empty());

    // Once signed, the new revision is verified and stored.
    let signature_tag = format!("{}.sig", second.replacen(':', "-", 1));
    push_signature(
        reg,
        repo,
        &second,
        &keys,
        "trusted",
        &payload(reg, repo, &second),
    )
    .await;
    h.request_reconcile("apps", "signed-update").await;
    let obj = h
        .wait("apps", |o| {
            is(o, "Ready", "True") && revision(o) == Some(format!("latest@{second}"))
        })
        .await;
    assert_eq!(
        cond(&obj, "SourceVerified").map(|c| (c.status.as_str(), c.message.clone())),
        Some((
            "True",
            format!("verified signature of revision latest@{second}")
        ))
    );

    // The verified revision is not checked again on each reconcile: with its signature gone
    // the unchanged revision stays Ready...
    let sig_manifest = reqwest::Client::new()
        .head(format!("http://{reg}/v2/{repo}/manifests/{signature_tag}"))
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .await
        .expect("head");
    let sig_digest = sig_manifest
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .expect("digest header")
        .to_string();
    let deleted = reqwest::Client::new()
        .delete(format!("http://{reg}/v2/{repo}/manifests/{sig_digest}"))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 202, "delete signature");
    let obj = h.request_reconcile("apps", "cached").await;
    assert!(is(&obj, "Ready", "True"), "{:?}", obj.status);
    assert!(is(&obj, "SourceVerified", "True"));

    // ...while a new generation verifies again.
    h.patch("apps", serde_json::json!({"spec": {"interval": "2h"}}))
        .await;
    let obj = h.wait("apps", |o| is(o, "SourceVerified", "False")).await;
    assert!(
        cond(&obj, "SourceVerified")
            .expect("SourceVerified")
            .message
            .contains("no signature found"),
        "{:?}",
        obj.status
    );
    assert_eq!(revision(&obj), Some(format!("latest@{second}")));
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
    push_manifest(registry, repo, tag, &manifest).await
}

fn chart_cond(obj: &HelmChart, type_: &str) -> Option<Condition> {
    obj.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helmchart_from_an_oci_helmrepository_checks_the_chart_signature() {
    let registry = Registry::start(false);
    let reg = registry.addr.as_str();
    let h = Harness::start().await;
    let keys = Keys::new();
    let trusted = keys.generate("trusted");
    h.secret("cosign-keys", &[("cosign.pub", trusted.as_str())])
        .await;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/charts");
    let repo = "charts/compressedchart";
    let mut digests = Vec::new();
    for v in ["0.1.0", "0.2.0"] {
        let chart =
            std::fs::read(fixtures.join(format!("compressedchart-{v}.tgz"))).expect("fixture");
        digests.push(push_chart(reg, repo, v, &chart).await);
    }
    // Only 0.1.0 is signed.
    push_signature(
        reg,
        repo,
        &digests[0],
        &keys,
        "trusted",
        &payload(reg, repo, &digests[0]),
    )
    .await;
    let helm_repo: HelmRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
        "metadata": {"name": "oci-charts", "namespace": NS},
        "spec": {"type": "oci", "insecure": true, "url": format!("oci://{reg}/charts")}
    }))
    .expect("repo");
    Api::<HelmRepository>::namespaced(h.client.clone(), NS)
        .create(&PostParams::default(), &helm_repo)
        .await
        .expect("create repo");
    let chart: HelmChart = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
        "metadata": {"name": "signed-chart", "namespace": NS},
        "spec": {"chart": "compressedchart", "version": "0.1.0", "interval": "1h",
                 "sourceRef": {"kind": "HelmRepository", "name": "oci-charts"},
                 "verify": {"provider": "cosign", "secretRef": {"name": "cosign-keys"}}}
    }))
    .expect("chart");
    let charts: Api<HelmChart> = Api::namespaced(h.client.clone(), NS);
    charts
        .create(&PostParams::default(), &chart)
        .await
        .expect("create chart");
    let wait = |done: &'static (dyn Fn(&HelmChart) -> bool + Sync)| {
        let charts = charts.clone();
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            loop {
                let obj = charts.get("signed-chart").await.expect("get");
                if done(&obj) {
                    return obj;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "timed out: {:?}",
                    obj.status
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let obj = wait(&|o| chart_cond(o, "Ready").is_some_and(|c| c.status == "True")).await;
    let verified = chart_cond(&obj, "SourceVerified").expect("SourceVerified");
    assert_eq!(
        (
            verified.status.as_str(),
            verified.reason.as_str(),
            verified.message.as_str()
        ),
        ("True", "Succeeded", "verified signature of version 0.1.0")
    );

    // The unsigned 0.2.0 is refused and 0.1.0 stays.
    charts
        .patch(
            "signed-chart",
            &PatchParams::default(),
            &Patch::Merge(&serde_json::json!({"spec": {"version": "0.2.0"}})),
        )
        .await
        .expect("patch");
    let obj = wait(&|o| chart_cond(o, "SourceVerified").is_some_and(|c| c.status == "False")).await;
    let verified = chart_cond(&obj, "SourceVerified").expect("SourceVerified");
    assert_eq!(verified.reason, "VerificationError");
    assert!(
        verified.message.starts_with(&format!(
            "chart verification error: failed to verify oci://{reg}/charts/compressedchart:0.2.0: no signature found"
        )),
        "{}",
        verified.message
    );
    let build = chart_cond(&obj, "BuildFailed").expect("BuildFailed");
    assert_eq!(build.reason, "ChartVerificationError");
    let ready = chart_cond(&obj, "Ready").expect("Ready");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "ChartVerificationError")
    );
    assert_eq!(
        obj.status.and_then(|s| s.artifact).map(|a| a.revision),
        Some("0.1.0".to_string())
    );
}
