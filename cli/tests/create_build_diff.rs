//! `flux create source git|kustomization` (with and without --export), run as the real binary;
//! the applied objects land in the in-memory API server.

use std::path::PathBuf;
use std::process::Command;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn flux(args: &[&str], kubeconfig: Option<&PathBuf>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flux"));
    cmd.args(args).env_remove("KUBECONFIG");
    if let Some(k) = kubeconfig {
        cmd.arg("--kubeconfig").arg(k);
    }
    let out = cmd.output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

struct Cluster {
    rt: tokio::runtime::Runtime,
    server: Option<flux_apiserver::RunningServer>,
    client: kube::Client,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Cluster {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let (server, client) = rt.block_on(async {
            let server = flux_apiserver::start(flux_apiserver::ServerOptions {
                simulate_workloads: true,
                ..Default::default()
            })
            .await
            .unwrap();
            let client = server.client().await.unwrap();
            let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
            for crd in flux_api::crds::all() {
                crds.create(&PostParams::default(), &crd).await.unwrap();
            }
            let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
            let obj = serde_json::from_value(json!({"metadata": {"name": "flux-system"}})).unwrap();
            ns.create(&PostParams::default(), &obj).await.unwrap();
            (server, client)
        });
        server.write_kubeconfig(&kubeconfig).unwrap();
        Cluster {
            rt,
            server: Some(server),
            client,
            kubeconfig,
            _dir: dir,
        }
    }

    fn api(&self, kind: &str) -> Api<DynamicObject> {
        let info = flux_api::crds::find_kind(kind).unwrap();
        let ar = ApiResource {
            group: info.group.into(),
            version: info.storage_version.into(),
            api_version: info.api_version(),
            kind: info.kind.into(),
            plural: info.plural.into(),
        };
        Api::namespaced_with(self.client.clone(), "flux-system", &ar)
    }

    fn flux(&self, args: &[&str]) -> Output {
        flux(args, Some(&self.kubeconfig))
    }

    /// Stands in for the controller of `kind`: marks every object whose generation it has
    /// not observed yet with `status`.
    fn fake_controller(&self, kind: &str, status: Value) {
        let api = self.api(kind);
        self.rt.spawn(async move {
            loop {
                for obj in api.list(&Default::default()).await.unwrap().items {
                    let obj = serde_json::to_value(obj).unwrap();
                    let generation = &obj["metadata"]["generation"];
                    if generation == &obj["status"]["observedGeneration"] {
                        continue;
                    }
                    let mut patch = status.clone();
                    patch["observedGeneration"] = generation.clone();
                    let name = obj["metadata"]["name"].as_str().unwrap();
                    let _ = api
                        .patch_status(
                            name,
                            &PatchParams::default(),
                            &Patch::Merge(json!({"status": patch})),
                        )
                        .await;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        });
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.rt.block_on(server.shutdown());
        }
    }
}

fn ready() -> Value {
    json!([{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "ok",
        "lastTransitionTime": "2026-01-01T00:00:00Z"}])
}

#[test]
fn create_source_git_export_matches_flux_goldens() {
    // cmd/flux/testdata/create_source_git/export.golden in fluxcd/flux2, at v1.
    let out = flux(
        &[
            "create",
            "source",
            "git",
            "podinfo",
            "--namespace=default",
            "--url=https://github.com/stefanprodan/podinfo",
            "--branch=master",
            "--ignore-paths=.cosign,non-existent-dir/",
            "--export",
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: podinfo\n  namespace: default\nspec:\n  ignore: |-\n    .cosign\n    non-existent-dir/\n  interval: 1m0s\n  ref:\n    branch: master\n  url: https://github.com/stefanprodan/podinfo\n"
    );
    // cmd/flux/testdata/create_source_git/source-git-tag.yaml.
    let out = flux(
        &[
            "create",
            "source",
            "git",
            "podinfo",
            "--url=https://github.com/stefanprodan/podinfo",
            "--tag=test",
            "--export",
        ],
        None,
    );
    assert_eq!(
        out.stdout,
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: podinfo\n  namespace: flux-system\nspec:\n  interval: 1m0s\n  ref:\n    tag: test\n  url: https://github.com/stefanprodan/podinfo\n"
    );
    let out = flux(
        &[
            "create",
            "source",
            "git",
            "podinfo",
            "--url=https://x/y",
            "--branch=main",
            "--commit=abc",
            "--secret-ref=creds",
            "--interval=5m",
            "--export",
        ],
        None,
    );
    assert!(
        out.stdout
            .contains("  ref:\n    branch: main\n    commit: abc\n  secretRef:\n    name: creds\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("  interval: 5m0s\n"), "{}", out.stdout);

    let no_ref = flux(
        &[
            "create",
            "source",
            "git",
            "x",
            "--url=https://x/y",
            "--export",
        ],
        None,
    );
    assert_eq!(no_ref.code, 1);
    assert!(
        no_ref.stderr.contains("a Git ref is required"),
        "{}",
        no_ref.stderr
    );
    let bad_scheme = flux(
        &[
            "create",
            "source",
            "git",
            "x",
            "--url=ftp://x/y",
            "--branch=m",
            "--export",
        ],
        None,
    );
    assert_eq!(bad_scheme.code, 1);
    assert!(
        bad_scheme.stderr.contains("scheme 'ftp' not supported"),
        "{}",
        bad_scheme.stderr
    );
}

#[test]
fn create_kustomization_export_matches_flux_goldens() {
    // cmd/flux/testdata/create_kustomization/with-sops-decryption.yaml in fluxcd/flux2.
    let out = flux(
        &[
            "create",
            "kustomization",
            "mysql",
            "--source=GitRepository/apps",
            "--path=./apps",
            "--decryption-provider=sops",
            "--decryption-secret=sops-age",
            "--export",
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: mysql\n  namespace: flux-system\nspec:\n  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n  interval: 1m0s\n  path: ./apps\n  prune: false\n  sourceRef:\n    kind: GitRepository\n    name: apps\n"
    );
    let out = flux(
        &[
            "create",
            "ks",
            "web",
            "--source=apps.other",
            "--path=apps/web",
            "--prune",
            "--wait",
            "--health-check=Deployment/web.default",
            "--depends-on=infra,flux-system/crds",
            "--target-namespace=web",
            "--interval=10m",
            "--export",
        ],
        None,
    );
    assert_eq!(
        out.stdout,
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: web\n  namespace: flux-system\nspec:\n  dependsOn:\n  - name: infra\n  - name: crds\n    namespace: flux-system\n  healthChecks:\n  - kind: Deployment\n    name: web\n    namespace: default\n  interval: 10m0s\n  path: ./apps/web\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: apps\n    namespace: other\n  targetNamespace: web\n  timeout: 2m0s\n  wait: true\n"
    );
    let bad = flux(
        &[
            "create",
            "ks",
            "x",
            "--source=apps",
            "--health-check=Pod/x.y",
            "--export",
        ],
        None,
    );
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("invalid health check kind 'Pod'"),
        "{}",
        bad.stderr
    );
}

#[test]
fn create_applies_and_waits_for_ready() {
    let cluster = Cluster::start();
    cluster.fake_controller(
        "GitRepository",
        json!({"conditions": ready(), "artifact": {"revision": "main@sha1:abc", "path": "p",
            "url": "http://x/p", "digest": "sha256:0", "lastUpdateTime": "2026-01-01T00:00:00Z"}}),
    );
    cluster.fake_controller(
        "Kustomization",
        json!({"conditions": ready(), "lastAppliedRevision": "main@sha1:abc"}),
    );
    let out = cluster.flux(&[
        "create",
        "source",
        "git",
        "podinfo",
        "--url=https://github.com/stefanprodan/podinfo",
        "--branch=main",
        "--timeout=30s",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // cmd/flux/testdata/create_source_git/success.golden, with this revision.
    assert_eq!(
        out.stderr,
        "✚ generating GitRepository source\n► applying GitRepository source\n✔ GitRepository source created\n◎ waiting for GitRepository source reconciliation\n✔ GitRepository source reconciliation completed\n✔ fetched revision: main@sha1:abc\n"
    );
    let repo = cluster
        .rt
        .block_on(cluster.api("GitRepository").get("podinfo"))
        .unwrap();
    assert_eq!(repo.data["spec"]["ref"]["branch"], "main");

    let out = cluster.flux(&[
        "create",
        "kustomization",
        "podinfo",
        "--source=podinfo",
        "--path=./kustomize",
        "--prune",
        "--timeout=30s",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for line in [
        "✔ Kustomization created",
        "✔ Kustomization podinfo is ready",
        "✔ applied revision main@sha1:abc",
    ] {
        assert!(out.stderr.contains(line), "{line:?} in\n{}", out.stderr);
    }
    let again = cluster.flux(&[
        "create",
        "kustomization",
        "podinfo",
        "--source=podinfo",
        "--path=./deploy",
        "--timeout=30s",
    ]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("✔ Kustomization updated"),
        "{}",
        again.stderr
    );
    let ks = cluster
        .rt
        .block_on(cluster.api("Kustomization").get("podinfo"))
        .unwrap();
    assert_eq!(ks.data["spec"]["path"], "./deploy");
    assert_eq!(ks.data["spec"]["prune"], false);
}

/// A directory with a kustomization of a ConfigMap (with a post-build variable), a Secret and a
/// Deployment, and the Flux Kustomization that builds it.
fn app_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- app.yaml\n",
    )
    .unwrap();
    std::fs::write(
        p.join("app.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: default\ndata:\n  greeting: ${greeting:=hi}\n\
---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web\n  namespace: default\nstringData:\n  password: hunter2\n\
---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n",
    )
    .unwrap();
    std::fs::write(
        p.join("ks.yaml"),
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: web\n  namespace: flux-system\nspec:\n  interval: 1m\n  path: ./\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: repo\n  postBuild:\n    substitute:\n      greeting: hello\n",
    )
    .unwrap();
    dir
}

#[test]
fn build_kustomization_dry_run_labels_and_substitutes() {
    let dir = app_dir();
    let path = dir.path().to_str().unwrap();
    let file = dir.path().join("ks.yaml");
    let out = flux(
        &[
            "build",
            "kustomization",
            "web",
            "--path",
            path,
            "--kustomization-file",
            file.to_str().unwrap(),
            "--dry-run",
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("greeting: hello"), "{}", out.stdout);
    assert!(
        out.stdout.contains("kustomize.toolkit.fluxcd.io/name: web"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("kustomize.toolkit.fluxcd.io/namespace: flux-system"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.matches("\n---\n").count(), 2, "{}", out.stdout);
    // The directory itself is left as it was.
    let kustomization = std::fs::read_to_string(dir.path().join("kustomization.yaml")).unwrap();
    assert!(!kustomization.contains("fluxcd"), "{kustomization}");

    let no_file = flux(&["build", "ks", "web", "--path", path, "--dry-run"], None);
    assert_eq!(no_file.code, 1);
    assert!(
        no_file.stderr.contains("requires a kustomization file"),
        "{}",
        no_file.stderr
    );
}

#[test]
fn build_and_diff_kustomization_against_the_cluster() {
    let cluster = Cluster::start();
    let dir = app_dir();
    let path = dir.path().to_str().unwrap();
    // The Kustomization in the cluster takes its variable from a ConfigMap.
    let ks: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "web", "namespace": "flux-system"},
        "spec": {"interval": "1m", "path": "./", "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "repo"},
            "postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]}},
    }))
    .unwrap();
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(cluster.client.clone(), "flux-system");
    let vars = serde_json::from_value(
        json!({"metadata": {"name": "vars"}, "data": {"greeting": "from-cluster"}}),
    )
    .unwrap();
    cluster.rt.block_on(async {
        cluster
            .api("Kustomization")
            .create(&PostParams::default(), &ks)
            .await
            .unwrap();
        cms.create(&PostParams::default(), &vars).await.unwrap();
    });

    let built = cluster.flux(&["build", "ks", "web", "--path", path]);
    assert_eq!(built.code, 0, "{}", built.stderr);
    assert!(
        built.stdout.contains("greeting: from-cluster"),
        "{}",
        built.stdout
    );

    // Nothing deployed yet: every object is created, and the exit code says so.
    let diff = cluster.flux(&["diff", "ks", "web", "--path", path]);
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    assert_eq!(
        diff.stdout,
        "► ConfigMap/default/web created\n► Secret/default/web created\n► Deployment/default/web created\n"
    );
    assert!(diff.stderr.is_empty(), "{}", diff.stderr);

    // Apply what was built, as the controller would.
    let objects: Vec<Value> = serde_yaml::Deserializer::from_str(&built.stdout)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let resource = |obj: &Value| {
        let (api_version, kind) = (
            obj["apiVersion"].as_str().unwrap(),
            obj["kind"].as_str().unwrap(),
        );
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let plural = format!("{}s", kind.to_lowercase());
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: api_version.into(),
            kind: kind.into(),
            plural,
        }
    };
    let api_of = |obj: &Value| -> Api<DynamicObject> {
        Api::namespaced_with(cluster.client.clone(), "default", &resource(obj))
    };
    cluster.rt.block_on(async {
        for obj in &objects {
            let name = obj["metadata"]["name"].as_str().unwrap();
            api_of(obj)
                .patch(
                    name,
                    &PatchParams::apply("kustomize-controller").force(),
                    &Patch::Apply(obj),
                )
                .await
                .unwrap();
        }
    });
    let clean = cluster.flux(&["diff", "ks", "web", "--path", path]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert_eq!(clean.stdout, "");

    // Someone edits the live objects: the diff names the fields, Secret values masked.
    cluster.rt.block_on(async {
        let deploy = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
        api_of(deploy)
            .patch(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": 3}})),
            )
            .await
            .unwrap();
        let secret = objects.iter().find(|o| o["kind"] == "Secret").unwrap();
        api_of(secret)
            .patch(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"password": "b3RoZXI="}})),
            )
            .await
            .unwrap();
    });
    let drift = cluster.flux(&["diff", "ks", "web", "--path", path]);
    assert_eq!(drift.code, 1, "{}", drift.stderr);
    assert!(
        drift.stdout.contains(
            "► Deployment/default/web drifted\n\nspec.replicas\n± value change\n- 3\n+ 1\n"
        ),
        "{}",
        drift.stdout
    );
    assert!(drift.stdout.contains("► Secret/default/web drifted\n\ndata.password\n± value change\n- *** (before)\n+ *** (after)\n"), "{}", drift.stdout);
    assert!(
        !drift.stdout.contains("hunter2") && !drift.stdout.contains("b3RoZXI="),
        "{}",
        drift.stdout
    );
    assert!(!drift.stdout.contains("ConfigMap"), "{}", drift.stdout);

    // An object the last apply recorded and the build no longer has is reported as deleted.
    let old = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "old", "namespace": "default"}, "data": {"a": "b"}});
    cluster.rt.block_on(async {
        api_of(&old)
            .patch(
                "old",
                &PatchParams::apply("kustomize-controller"),
                &Patch::Apply(&old),
            )
            .await
            .unwrap();
        cluster
            .api("Kustomization")
            .patch_status(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"inventory": {"entries": [
                    {"id": "default_old__ConfigMap", "v": "v1"},
                    {"id": "default_web__ConfigMap", "v": "v1"},
                    {"id": "default_gone__ConfigMap", "v": "v1"},
                ]}}})),
            )
            .await
            .unwrap();
    });
    let pruned = cluster.flux(&["diff", "ks", "web", "--path", path]);
    assert_eq!(pruned.code, 1, "{}", pruned.stderr);
    assert!(
        pruned.stdout.ends_with("► ConfigMap/default/old deleted\n"),
        "{}",
        pruned.stdout
    );
    assert!(
        !pruned.stdout.contains("ConfigMap/default/web"),
        "{}",
        pruned.stdout
    );
    assert!(!pruned.stdout.contains("gone"), "{}", pruned.stdout);
}
