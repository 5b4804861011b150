//! The `flux` commands that talk to a cluster (get, suspend, resume, reconcile, check, events,
//! export, tree), run as the real binary against the in-memory API server.

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

/// An API server with Flux's CRDs, a `flux-system` namespace and a kubeconfig for the binary.
struct Cluster {
    rt: tokio::runtime::Runtime,
    server: Option<flux_apiserver::RunningServer>,
    client: kube::Client,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Cluster {
    fn start() -> Cluster {
        Self::start_with(flux_apiserver::ServerOptions::default(), true)
    }

    fn start_with(opts: flux_apiserver::ServerOptions, install_crds: bool) -> Cluster {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let (server, client) = rt.block_on(async {
            let server = flux_apiserver::start(opts).await.unwrap();
            let client = server.client().await.unwrap();
            let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
            for crd in flux_api::crds::all().into_iter().filter(|_| install_crds) {
                crds.create(&PostParams::default(), &crd).await.unwrap();
            }
            (server, client)
        });
        server.write_kubeconfig(&kubeconfig).unwrap();
        let cluster = Cluster {
            rt,
            server: Some(server),
            client,
            kubeconfig,
            _dir: dir,
        };
        cluster.create_core(
            "v1",
            "Namespace",
            "namespaces",
            None,
            json!({"metadata": {"name": "flux-system"}}),
        );
        cluster
    }

    /// Runs `flux ARGS --kubeconfig KUBECONFIG`.
    fn flux(&self, args: &[&str]) -> Output {
        self.flux_with(args, &self.kubeconfig)
    }

    fn flux_with(&self, args: &[&str], kubeconfig: &Path) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_flux"))
            .args(args)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .env_remove("KUBECONFIG")
            .output()
            .unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    fn resource(kind: &str) -> ApiResource {
        let info = flux_api::crds::find_kind(kind).unwrap();
        ApiResource {
            group: info.group.into(),
            version: info.storage_version.into(),
            api_version: info.api_version(),
            kind: info.kind.into(),
            plural: info.plural.into(),
        }
    }

    fn api(&self, kind: &str, ns: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), ns, &Self::resource(kind))
    }

    fn create_core(
        &self,
        api_version: &str,
        kind: &str,
        plural: &str,
        ns: Option<&str>,
        mut obj: Value,
    ) {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let ar = ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: api_version.into(),
            kind: kind.into(),
            plural: plural.into(),
        };
        obj["apiVersion"] = json!(api_version);
        obj["kind"] = json!(kind);
        let api: Api<DynamicObject> = match ns {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        };
        let obj: DynamicObject = serde_json::from_value(obj).unwrap();
        self.rt
            .block_on(api.create(&PostParams::default(), &obj))
            .unwrap();
    }

    /// Creates a Flux object with `spec`, then sets its `status` as a controller would.
    fn create(&self, kind: &str, ns: &str, name: &str, spec: Value, status: Value) {
        let info = flux_api::crds::find_kind(kind).unwrap();
        let obj: DynamicObject = serde_json::from_value(json!({
            "apiVersion": info.api_version(), "kind": kind,
            "metadata": {"name": name, "namespace": ns}, "spec": spec,
        }))
        .unwrap();
        let api = self.api(kind, ns);
        self.rt.block_on(async {
            api.create(&PostParams::default(), &obj).await.unwrap();
            if !status.is_null() {
                api.patch_status(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": status})),
                )
                .await
                .unwrap();
            }
        });
    }
}

impl Cluster {
    fn read(&self, kind: &str, ns: &str, name: &str) -> Value {
        let obj = self.rt.block_on(self.api(kind, ns).get(name)).unwrap();
        serde_json::to_value(obj).unwrap()
    }

    /// Stands in for a controller: every object of `kind` in `ns` that is not suspended and
    /// has an unhandled reconcile request or an unobserved generation gets `status` merged in,
    /// with `lastHandledReconcileAt` and `observedGeneration` caught up.
    fn fake_controller(&self, kind: &str, ns: &str, status: Value) {
        let api = self.api(kind, ns);
        self.rt.spawn(async move {
            loop {
                for obj in api.list(&Default::default()).await.unwrap().items {
                    let obj = serde_json::to_value(obj).unwrap();
                    if obj["spec"]["suspend"] == json!(true) {
                        continue;
                    }
                    let requested = &obj["metadata"]["annotations"][REQUESTED_AT];
                    let generation = &obj["metadata"]["generation"];
                    if requested == &obj["status"]["lastHandledReconcileAt"]
                        && generation == &obj["status"]["observedGeneration"]
                    {
                        continue;
                    }
                    let mut patch = status.clone();
                    patch["observedGeneration"] = generation.clone();
                    if !requested.is_null() {
                        patch["lastHandledReconcileAt"] = requested.clone();
                    }
                    let name = obj["metadata"]["name"].as_str().unwrap();
                    api.patch_status(
                        name,
                        &PatchParams::default(),
                        &Patch::Merge(json!({"status": patch})),
                    )
                    .await
                    .unwrap();
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        });
    }
}

const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.rt.block_on(server.shutdown());
        }
    }
}

fn ready(status: &str, message: &str) -> Value {
    json!([{"type": "Ready", "status": status, "reason": "Test", "message": message,
        "lastTransitionTime": "2026-01-01T00:00:00Z"}])
}

const SHA: &str = "696f056df216eea4f9401adbee0ff744d4df390f";

fn git_spec() -> Value {
    json!({"url": "https://github.com/stefanprodan/podinfo", "interval": "1m", "ref": {"branch": "main"}})
}

fn git_status(ready_status: &str, message: &str) -> Value {
    json!({"observedGeneration": 1, "conditions": ready(ready_status, message),
        "artifact": {"revision": format!("main@sha1:{SHA}"), "path": "p", "url": "http://x/p",
            "digest": "sha256:0", "lastUpdateTime": "2026-01-01T00:00:00Z"}})
}

fn ks_spec(source: &str) -> Value {
    json!({"interval": "10m", "path": "./", "prune": true,
        "sourceRef": {"kind": "GitRepository", "name": source}})
}

/// Two GitRepositories in flux-system, one failing, and one in another namespace.
fn git_fleet(c: &Cluster) {
    c.create(
        "GitRepository",
        "flux-system",
        "podinfo",
        git_spec(),
        git_status(
            "True",
            &format!("stored artifact for revision 'main@sha1:{SHA}'"),
        ),
    );
    c.create(
        "GitRepository",
        "flux-system",
        "broken",
        git_spec(),
        json!({"observedGeneration": 1, "conditions": ready("False", "authentication required")}),
    );
    c.create_core(
        "v1",
        "Namespace",
        "namespaces",
        None,
        json!({"metadata": {"name": "apps"}}),
    );
    c.create(
        "GitRepository",
        "apps",
        "team",
        json!({"url": "https://example.com/team", "interval": "5m", "suspend": true}),
        Value::Null,
    );
}

#[test]
fn get_sources_git_prints_flux_table() {
    let c = Cluster::start();
    git_fleet(&c);

    let out = c.flux(&["get", "sources", "git"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "NAME   \tREVISION          \tSUSPENDED\tREADY\tMESSAGE                                           \n\
         broken \t                  \tFalse    \tFalse\tauthentication required                          \t\n\
         podinfo\tmain@sha1:696f056d\tFalse    \tTrue \tstored artifact for revision 'main@sha1:696f056d'\t\n"
    );

    let out = c.flux(&["get", "sources", "git", "-A", "--no-header"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Without a header, SUSPENDED is only as wide as its widest value.
    assert_eq!(
        out.stdout,
        "apps       \tteam   \t                  \tTrue \tFalse\twaiting to be reconciled                         \t\n\
         flux-system\tbroken \t                  \tFalse\tFalse\tauthentication required                          \t\n\
         flux-system\tpodinfo\tmain@sha1:696f056d\tFalse\tTrue \tstored artifact for revision 'main@sha1:696f056d'\t\n"
    );

    let out = c.flux(&["get", "sources", "git", "--status-selector", "ready=false"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "NAME  \tREVISION\tSUSPENDED\tREADY\tMESSAGE                 \n\
         broken\t        \tFalse    \tFalse\tauthentication required\t\n"
    );

    let out = c.flux(&["get", "sources", "git", "podinfo", "-n", "flux-system"]);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    assert!(out.stdout.lines().nth(1).unwrap().starts_with("podinfo\t"));
}

#[test]
fn get_reports_missing_objects_and_bad_selectors() {
    let c = Cluster::start();
    git_fleet(&c);

    let out = c.flux(&["get", "ks", "nothere"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "✗ Kustomization object 'nothere' not found in \"flux-system\" namespace\n"
    );

    let out = c.flux(&["get", "helmreleases", "-n", "apps"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "✗ no HelmRelease objects found in \"apps\" namespace\n"
    );

    let out = c.flux(&["get", "sources", "git", "--status-selector", "Ready"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "✗ expected status selector in type=status or type!=status format, but found: Ready\n"
    );
}

#[test]
fn get_all_prefixes_kinds_and_skips_empty_ones() {
    let c = Cluster::start();
    git_fleet(&c);
    c.create(
        "Kustomization",
        "flux-system",
        "apps",
        ks_spec("podinfo"),
        json!({"observedGeneration": 1, "lastAppliedRevision": format!("main@sha1:{SHA}"),
            "conditions": ready("True", &format!("Applied revision: main@sha1:{SHA}"))}),
    );
    c.create(
        "Alert",
        "flux-system",
        "slack",
        json!({"providerRef": {"name": "slack"},
        "eventSources": [{"kind": "Kustomization", "name": "*"}]}),
        Value::Null,
    );

    let out = c.flux(&["get", "all"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    assert_eq!(
        out.stdout,
        "NAME                 \tREVISION          \tSUSPENDED\tREADY\tMESSAGE                                           \n\
         gitrepository/broken \t                  \tFalse    \tFalse\tauthentication required                          \t\n\
         gitrepository/podinfo\tmain@sha1:696f056d\tFalse    \tTrue \tstored artifact for revision 'main@sha1:696f056d'\t\n\
         \n\
         NAME              \tREVISION          \tSUSPENDED\tREADY\tMESSAGE                              \n\
         kustomization/apps\tmain@sha1:696f056d\tFalse    \tTrue \tApplied revision: main@sha1:696f056d\t\n\
         \n\
         NAME       \tSUSPENDED\tREADY\tMESSAGE        \n\
         alert/slack\tFalse    \tTrue \tAlert is Ready\t\n\
         \n"
    );
}

#[test]
fn context_flag_selects_the_kubeconfig_context() {
    let c = Cluster::start();
    git_fleet(&c);
    // Current context points at a closed port; only --context reaches the server.
    let text = std::fs::read_to_string(&c.kubeconfig).unwrap();
    let text = text
        .replace("current-context: flux-local", "current-context: elsewhere")
        .replace(
            "contexts:\n",
            "contexts:\n- name: elsewhere\n  context:\n    cluster: nowhere\n    user: admin\n",
        )
        .replace(
            "clusters:\n",
            "clusters:\n- name: nowhere\n  cluster:\n    server: http://127.0.0.1:9\n",
        );
    let two = c._dir.path().join("two-contexts");
    std::fs::write(&two, text).unwrap();

    let out = c.flux_with(&["get", "sources", "git", "--no-header"], &two);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.starts_with("✗ "), "{}", out.stderr);

    let out = c.flux_with(
        &[
            "get",
            "sources",
            "git",
            "--no-header",
            "--context",
            "flux-local",
        ],
        &two,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);

    let out = c.flux_with(&["get", "sources", "git", "--context", "missing"], &two);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("missing"), "{}", out.stderr);
}

fn applied() -> Value {
    json!({"lastAppliedRevision": format!("main@sha1:{SHA}"),
        "conditions": ready("True", &format!("Applied revision: main@sha1:{SHA}"))})
}

#[test]
fn suspend_then_resume_waits_for_ready() {
    let c = Cluster::start();
    git_fleet(&c);
    c.create(
        "Kustomization",
        "flux-system",
        "apps",
        ks_spec("podinfo"),
        applied(),
    );

    let out = c.flux(&[
        "suspend",
        "ks",
        "apps",
        "missing",
        "apps",
        "--reason",
        "maintenance",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "► suspending kustomization apps in flux-system namespace\n\
         ✔ kustomization suspended\n\
         ✗ Kustomization missing not found in flux-system namespace\n"
    );
    let ks = c.read("Kustomization", "flux-system", "apps");
    assert_eq!(ks["spec"]["suspend"], json!(true));
    assert_eq!(
        ks["metadata"]["annotations"]["suspend.toolkit.fluxcd.io/reason"],
        json!("maintenance")
    );

    let out = c.flux(&["get", "ks", "--no-header"]);
    assert!(
        out.stdout.starts_with("apps\tmain@sha1:696f056d\tTrue\t"),
        "{}",
        out.stdout
    );

    let out = c.flux(&["reconcile", "ks", "apps"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "✗ resource is suspended\n");

    c.fake_controller("Kustomization", "flux-system", applied());
    let out = c.flux(&["resume", "kustomization", "apps"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "► resuming kustomization apps in flux-system namespace\n\
             ✔ kustomization resumed\n\
             ◎ waiting for Kustomization reconciliation\n\
             ✔ Kustomization apps reconciliation completed\n\
             ✔ applied revision main@sha1:{SHA}\n"
        )
    );
    let ks = c.read("Kustomization", "flux-system", "apps");
    assert_eq!(ks["spec"]["suspend"], json!(false));
    assert!(
        ks["metadata"]["annotations"]
            .get("suspend.toolkit.fluxcd.io/reason")
            .is_none()
    );
}

#[test]
fn suspend_all_and_resume_without_wait() {
    let c = Cluster::start();
    git_fleet(&c);

    let out = c.flux(&["suspend", "source", "git", "--all"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "► suspending source git broken in flux-system namespace\n\
         ✔ source git suspended\n\
         ► suspending source git podinfo in flux-system namespace\n\
         ✔ source git suspended\n"
    );
    for name in ["broken", "podinfo"] {
        assert_eq!(
            c.read("GitRepository", "flux-system", name)["spec"]["suspend"],
            json!(true)
        );
    }
    // The other namespace is out of scope.
    assert_eq!(
        c.read("GitRepository", "apps", "team")["spec"]["suspend"],
        json!(true)
    );

    let out = c.flux(&["resume", "source", "git", "podinfo", "--wait=false"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "► resuming source git podinfo in flux-system namespace\n✔ source git resumed\n"
    );
    assert_eq!(
        c.read("GitRepository", "flux-system", "podinfo")["spec"]["suspend"],
        json!(false)
    );
    assert_eq!(
        c.read("GitRepository", "flux-system", "broken")["spec"]["suspend"],
        json!(true)
    );

    let out = c.flux(&["suspend", "kustomization"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "✗ kustomization name is required\n");
}

#[test]
fn reconcile_with_source_annotates_and_waits_for_both() {
    let c = Cluster::start();
    git_fleet(&c);
    c.create(
        "Kustomization",
        "flux-system",
        "apps",
        ks_spec("podinfo"),
        applied(),
    );
    c.fake_controller("GitRepository", "flux-system", git_status("True", "stored"));
    c.fake_controller("Kustomization", "flux-system", applied());

    let out = c.flux(&["reconcile", "ks", "apps", "--with-source"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "► annotating GitRepository podinfo in flux-system namespace\n\
             ✔ GitRepository annotated\n\
             ◎ waiting for GitRepository reconciliation\n\
             ✔ fetched revision main@sha1:{SHA}\n\
             ► annotating Kustomization apps in flux-system namespace\n\
             ✔ Kustomization annotated\n\
             ◎ waiting for Kustomization reconciliation\n\
             ✔ applied revision main@sha1:{SHA}\n"
        )
    );
    for (kind, name) in [("GitRepository", "podinfo"), ("Kustomization", "apps")] {
        let obj = c.read(kind, "flux-system", name);
        let requested = &obj["metadata"]["annotations"][REQUESTED_AT];
        assert!(requested.is_string(), "{obj}");
        assert_eq!(&obj["status"]["lastHandledReconcileAt"], requested);
    }
}

#[test]
fn reconcile_reports_failure_missing_objects_and_timeouts() {
    let c = Cluster::start();
    git_fleet(&c);
    c.create(
        "Kustomization",
        "flux-system",
        "apps",
        ks_spec("podinfo"),
        applied(),
    );

    let out = c.flux(&["reconcile", "kustomization", "nope"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "✗ Kustomization 'flux-system/nope' not found\n");

    // Nothing handles the request: the command gives up at --timeout.
    let out = c.flux(&["reconcile", "ks", "apps", "--timeout", "3s"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.ends_with(
            "✗ timeout waiting for Kustomization 'flux-system/apps' reconciliation: context deadline exceeded\n"
        ),
        "{}",
        out.stderr
    );

    c.fake_controller(
        "Kustomization",
        "flux-system",
        json!({"conditions": ready("False", "kustomize build failed")}),
    );
    let out = c.flux(&["reconcile", "ks", "apps"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "► annotating Kustomization apps in flux-system namespace\n\
         ✔ Kustomization annotated\n\
         ◎ waiting for Kustomization reconciliation\n\
         ✗ Kustomization reconciliation failed: 'kustomize build failed'\n"
    );
}

#[test]
fn check_pre_reads_the_server_version() {
    let c = Cluster::start();
    let out = c.flux(&["check", "--pre"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "► Checking flux pre-requisites\n\
             ✔ flux {} is a flux-rs build\n\
             ► Checking kubernetes pre-requisites\n\
             ✔ kubernetes 1.33.0-flux-rs>=1.30.0-0\n\
             ► All pre-requisites checks passed\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn check_fails_without_an_installation() {
    let c = Cluster::start();
    let out = c.flux(&["check"]);
    assert_eq!(out.code, 1);
    let tail: Vec<&str> = out.stderr.lines().skip(4).collect();
    assert_eq!(
        tail,
        [
            "► Checking flux installation status",
            "✔ bootstrapped: false",
            "► Checking flux controllers",
            "✗ no controllers found in the 'flux-system' namespace with the label selector 'app.kubernetes.io/part-of=flux'",
            "► Checking flux crds",
            "✗ no crds found with the label selector 'app.kubernetes.io/part-of=flux'",
            "✗ checks failed",
        ]
    );
}

#[test]
fn check_passes_after_flux_install() {
    let opts = flux_apiserver::ServerOptions {
        simulate_workloads: true,
        ..Default::default()
    };
    let c = Cluster::start_with(opts, false);
    let install = c.flux(&["install", "--export"]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    c.rt.block_on(async {
        for doc in serde_yaml::Deserializer::from_str(&install.stdout) {
            let obj: Value = serde::Deserialize::deserialize(doc).unwrap();
            if obj.is_null() {
                continue;
            }
            let (group, version) = obj["apiVersion"]
                .as_str()
                .unwrap()
                .rsplit_once('/')
                .unwrap_or(("", obj["apiVersion"].as_str().unwrap()));
            let gvk =
                kube::api::GroupVersionKind::gvk(group, version, obj["kind"].as_str().unwrap());
            let (ar, caps) = kube::discovery::pinned_kind(&c.client, &gvk).await.unwrap();
            let api: Api<DynamicObject> = match caps.scope {
                kube::discovery::Scope::Namespaced => Api::namespaced_with(
                    c.client.clone(),
                    obj["metadata"]["namespace"].as_str().unwrap(),
                    &ar,
                ),
                kube::discovery::Scope::Cluster => Api::all_with(c.client.clone(), &ar),
            };
            let obj: DynamicObject = serde_json::from_value(obj).unwrap();
            match api.create(&PostParams::default(), &obj).await {
                Ok(_) => {}
                // flux-system exists already.
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(e) => panic!("{e}"),
            }
        }
    });

    let out = c.flux(&["check", "--poll-interval", "100ms"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = format!("v{}", env!("CARGO_PKG_VERSION"));
    let expected: Vec<String> = [
        "► Checking flux installation status".to_string(),
        format!("✔ distribution: flux-{v}"),
        "✔ bootstrapped: false".to_string(),
        "✔ helm-controller: deployment ready".to_string(),
        "✔ kustomize-controller: deployment ready".to_string(),
        "✔ notification-controller: deployment ready".to_string(),
        "✔ source-controller: deployment ready".to_string(),
        "► Checking flux controllers".to_string(),
        format!("✔ ghcr.io/flux-rs/helm-controller:{v}"),
        format!("✔ ghcr.io/flux-rs/kustomize-controller:{v}"),
        format!("✔ ghcr.io/flux-rs/notification-controller:{v}"),
        format!("✔ ghcr.io/flux-rs/source-controller:{v}"),
        "► Checking flux crds".to_string(),
        "✔ alerts.notification.toolkit.fluxcd.io/v1beta3".to_string(),
    ]
    .to_vec();
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        &lines[4..4 + expected.len()],
        expected.as_slice(),
        "{}",
        out.stderr
    );
    assert!(lines.contains(&"✔ kustomizations.kustomize.toolkit.fluxcd.io/v1"));
    assert_eq!(lines.last(), Some(&"► All checks passed"));
}

fn ago(seconds: i64) -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    k8s_openapi::jiff::Timestamp::from_second(now.as_second() - seconds)
        .unwrap()
        .to_string()
}

/// An Event about `object` ("Kind/name") with its type, reason and message, first and last
/// seen that many seconds ago, `count` times.
fn event(
    c: &Cluster,
    name: &str,
    object: &str,
    what: [&str; 3],
    (first_ago, last_ago, count): (i64, i64, i64),
) {
    let (kind, object) = object.split_once('/').unwrap();
    let [type_, reason, message] = what;
    c.create_core(
        "v1",
        "Event",
        "events",
        Some("flux-system"),
        json!({"metadata": {"name": name, "namespace": "flux-system"},
            "involvedObject": {"kind": kind, "name": object, "namespace": "flux-system"},
            "type": type_, "reason": reason, "message": message, "count": count,
            "firstTimestamp": ago(first_ago), "lastTimestamp": ago(last_ago),
            "source": {"component": "kustomize-controller"}}),
    );
}

const DAY: i64 = 86400;

#[test]
fn events_of_flux_objects_oldest_first() {
    let c = Cluster::start();
    git_fleet(&c);
    c.create(
        "Kustomization",
        "flux-system",
        "apps",
        ks_spec("podinfo"),
        applied(),
    );
    event(
        &c,
        "e1",
        "Kustomization/apps",
        [
            "Normal",
            "ReconciliationSucceeded",
            "Reconciliation finished",
        ],
        (10 * DAY, 10 * DAY, 1),
    );
    event(
        &c,
        "e2",
        "GitRepository/podinfo",
        ["Normal", "NewArtifact", "stored artifact"],
        (20 * DAY, 12 * DAY, 3),
    );
    event(
        &c,
        "e3",
        "GitRepository/broken",
        ["Warning", "GitOperationFailed", "auth failed"],
        (3 * DAY, 3 * DAY, 1),
    );
    event(
        &c,
        "e4",
        "Pod/web-1",
        ["Normal", "Pulled", "image pulled"],
        (DAY, DAY, 1),
    );

    let out = c.flux(&["events"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "LAST SEEN        \tTYPE   \tREASON                 \tOBJECT               \tMESSAGE                 \n\
         12d (x3 over 20d)\tNormal \tNewArtifact            \tGitRepository/podinfo\tstored artifact        \t\n\
         10d              \tNormal \tReconciliationSucceeded\tKustomization/apps   \tReconciliation finished\t\n\
         3d               \tWarning\tGitOperationFailed     \tGitRepository/broken \tauth failed            \t\n"
    );

    let out = c.flux(&["events", "--for", "Kustomization/apps", "--types", "Normal"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let objects: Vec<&str> = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(3).unwrap().trim())
        .collect();
    assert_eq!(objects, ["GitRepository/podinfo", "Kustomization/apps"]);

    let out = c.flux(&["events", "--types", "Warning", "--no-such-flag"]);
    assert_eq!(out.code, 1);

    let out = c.flux(&["events", "-n", "apps"]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr, "✗ No events found in apps namespace.\n");
}

#[test]
fn export_prints_spec_without_status_or_server_fields() {
    let c = Cluster::start();
    git_fleet(&c);
    // timeout is the CRD's default, filled in by the API server as Flux's export shows it.
    let out = c.flux(&["export", "source", "git", "podinfo"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: podinfo\n  namespace: flux-system\nspec:\n  interval: 1m\n  ref:\n    branch: main\n  timeout: 60s\n  url: https://github.com/stefanprodan/podinfo\n"
    );

    let out = c.flux(&["export", "source", "git", "--all"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.matches("---\n").count(), 2);
    assert!(!out.stdout.contains("status"), "{}", out.stdout);
    assert!(!out.stdout.contains("uid"), "{}", out.stdout);

    let out = c.flux(&["export", "ks", "nope"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "✗ Kustomization 'flux-system/nope' not found\n");
}

#[test]
fn tree_expands_nested_kustomizations() {
    let c = Cluster::start();
    let inventory = |ids: &[&str]| json!({"entries": ids.iter().map(|id| json!({"id": id, "v": "v1"})).collect::<Vec<_>>()});
    c.create(
        "Kustomization",
        "flux-system",
        "flux-system",
        ks_spec("flux-system"),
        json!({"inventory": inventory(&[
            "_flux-system__Namespace",
            "flux-system_source-controller_apps_Deployment",
            "flux-system_infrastructure_kustomize.toolkit.fluxcd.io_Kustomization",
            "flux-system_flux-system_source.toolkit.fluxcd.io_GitRepository",
        ])}),
    );
    c.create(
        "Kustomization",
        "flux-system",
        "infrastructure",
        ks_spec("flux-system"),
        json!({"inventory": inventory(&[
            "_cert-manager__Namespace",
            "cert-manager_cert-manager_source.toolkit.fluxcd.io_HelmRepository",
            "cert-manager_cert-manager_helm.toolkit.fluxcd.io_HelmRelease",
        ])}),
    );
    c.create(
        "Kustomization",
        "flux-system",
        "empty",
        ks_spec("flux-system"),
        Value::Null,
    );

    let out = c.flux(&["tree", "kustomization", "flux-system"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // cmd/flux/testdata/tree/tree.golden in fluxcd/flux2, fewer Deployments.
    assert_eq!(
        out.stdout,
        "Kustomization/flux-system/flux-system\n\
         ├── Namespace/flux-system\n\
         ├── Deployment/flux-system/source-controller\n\
         ├── Kustomization/flux-system/infrastructure\n\
         │   ├── Namespace/cert-manager\n\
         │   ├── HelmRepository/cert-manager/cert-manager\n\
         │   └── HelmRelease/cert-manager/cert-manager\n\
         └── GitRepository/flux-system/flux-system\n\
         \n"
    );

    let out = c.flux(&["tree", "ks", "flux-system", "--compact"]);
    assert_eq!(
        out.stdout,
        "Kustomization/flux-system/flux-system\n\
         ├── Kustomization/flux-system/infrastructure\n\
         │   ├── HelmRepository/cert-manager/cert-manager\n\
         │   └── HelmRelease/cert-manager/cert-manager\n\
         └── GitRepository/flux-system/flux-system\n\
         \n"
    );

    let out = c.flux(&["tree", "kustomization", "empty"]);
    assert_eq!(out.stdout, "Kustomization/flux-system/empty\n\n");

    let out = c.flux(&["tree", "kustomization", "nope"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "✗ Kustomization 'flux-system/nope' not found\n");
}

fn helm_release_status(ready_status: &str, message: &str) -> Value {
    json!({"observedGeneration": 1, "helmChart": "flux-system/flux-system-podinfo",
        "lastAttemptedRevision": "6.0.0", "conditions": ready(ready_status, message),
        "history": [{"digest": "sha256:1", "name": "podinfo", "namespace": "flux-system",
            "version": 1, "status": "deployed", "chartName": "podinfo", "chartVersion": "6.0.0",
            "configDigest": "sha256:2", "firstDeployed": "2026-01-01T00:00:00Z",
            "lastDeployed": "2026-01-01T00:00:00Z"}]})
}

fn helm_fleet(c: &Cluster) {
    c.create(
        "HelmRelease",
        "flux-system",
        "podinfo",
        json!({"interval": "10m", "chart": {"spec": {"chart": "podinfo",
            "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}}}),
        helm_release_status(
            "True",
            "Helm install succeeded for release flux-system/podinfo.v1 with chart podinfo@6.0.0",
        ),
    );
    c.create(
        "HelmChart",
        "flux-system",
        "flux-system-podinfo",
        json!({"chart": "podinfo", "interval": "10m",
            "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}),
        json!({"observedGeneration": 1, "conditions": ready("True", "pulled 'podinfo' chart with version '6.0.0'"),
            "artifact": {"revision": "6.0.0", "path": "p", "url": "http://x/p",
                "digest": "sha256:0", "lastUpdateTime": "2026-01-01T00:00:00Z"}}),
    );
}

#[test]
fn get_helmreleases_and_image_columns() {
    let c = Cluster::start();
    helm_fleet(&c);
    c.create(
        "ImageRepository",
        "flux-system",
        "podinfo",
        json!({"image": "ghcr.io/stefanprodan/podinfo", "interval": "1m"}),
        json!({"observedGeneration": 1, "conditions": ready("True", "successful scan: found 10 tags"),
            "lastScanResult": {"tagCount": 10, "scanTime": "2026-01-02T03:04:05.123Z"}}),
    );
    c.create(
        "ImagePolicy",
        "flux-system",
        "podinfo",
        json!({"imageRepositoryRef": {"name": "podinfo"}, "policy": {"semver": {"range": "5.0.x"}}}),
        json!({"observedGeneration": 1, "latestRef": {"name": "ghcr.io/stefanprodan/podinfo", "tag": "5.0.3"},
            "conditions": ready("True", "Latest image tag for ghcr.io/stefanprodan/podinfo resolved to 5.0.3")}),
    );

    let out = c.flux(&["get", "hr"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "NAME   \tREVISION\tSUSPENDED\tREADY\tMESSAGE                                                                            \n\
         podinfo\t6.0.0   \tFalse    \tTrue \tHelm install succeeded for release flux-system/podinfo.v1 with chart podinfo@6.0.0\t\n"
    );

    let out = c.flux(&["get", "images", "repository", "--no-header"]);
    assert_eq!(
        out.stdout,
        "podinfo\t2026-01-02T03:04:05Z\tFalse\tTrue\tsuccessful scan: found 10 tags\t\n"
    );

    let out = c.flux(&["get", "image", "policy"]);
    assert_eq!(
        out.stdout,
        "NAME   \tIMAGE                       \tTAG  \tREADY\tMESSAGE                                                             \n\
         podinfo\tghcr.io/stefanprodan/podinfo\t5.0.3\tTrue \tLatest image tag for ghcr.io/stefanprodan/podinfo resolved to 5.0.3\t\n"
    );

    let out = c.flux(&["get", "sources", "chart", "-l", "team=a"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "✗ no HelmChart objects found in \"flux-system\" namespace\n"
    );
    c.rt.block_on(c.api("HelmChart", "flux-system").patch(
        "flux-system-podinfo",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"team": "a"}}})),
    ))
    .unwrap();
    let out = c.flux(&["get", "sources", "chart", "-l", "team=a", "--no-header"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("flux-system-podinfo\t6.0.0\tFalse\tTrue\t"),
        "{}",
        out.stdout
    );
}

#[test]
fn reconcile_helmrelease_with_source_goes_through_its_chart() {
    let c = Cluster::start();
    helm_fleet(&c);
    c.fake_controller("HelmChart", "flux-system", json!({}));
    c.fake_controller("HelmRelease", "flux-system", json!({}));

    let out = c.flux(&["reconcile", "hr", "podinfo", "--with-source", "--force"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "► annotating HelmChart flux-system-podinfo in flux-system namespace\n\
         ✔ HelmChart annotated\n\
         ◎ waiting for HelmChart reconciliation\n\
         ✔ fetched revision 6.0.0\n\
         ► annotating HelmRelease podinfo in flux-system namespace\n\
         ✔ HelmRelease annotated\n\
         ◎ waiting for HelmRelease reconciliation\n\
         ✔ applied revision 6.0.0\n"
    );
    let hr = c.read("HelmRelease", "flux-system", "podinfo");
    let annotations = &hr["metadata"]["annotations"];
    assert_eq!(
        annotations["reconcile.fluxcd.io/forceAt"],
        annotations[REQUESTED_AT]
    );
    let chart = c.read("HelmChart", "flux-system", "flux-system-podinfo");
    assert!(
        chart["metadata"]["annotations"]
            .get("reconcile.fluxcd.io/forceAt")
            .is_none()
    );
}

#[test]
fn get_watch_prints_changes_as_they_happen() {
    use std::io::{BufRead, BufReader};

    let c = Cluster::start();
    c.create(
        "Kustomization",
        "flux-system",
        "apps",
        ks_spec("podinfo"),
        applied(),
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_flux"))
        // --timeout ends the watch, and the test, should a change never arrive.
        .args(["get", "ks", "--watch", "--timeout", "60s", "--kubeconfig"])
        .arg(&c.kubeconfig)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().unwrap().unwrap();
    assert_eq!(
        next(),
        "NAME\tREVISION          \tSUSPENDED\tREADY\tMESSAGE                              "
    );
    assert_eq!(
        next(),
        "apps\tmain@sha1:696f056d\tFalse    \tTrue \tApplied revision: main@sha1:696f056d\t"
    );

    // The initial list is printed: changes from now on reach the open watch.
    c.rt.block_on(c.api("Kustomization", "flux-system").patch_status(
        "apps",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"conditions": ready("False", "build failed")}})),
    ))
    .unwrap();
    assert_eq!(
        next(),
        "apps\tmain@sha1:696f056d\tFalse\tFalse\tbuild failed\t"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let out = c.flux(&["get", "all", "--watch"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "✗ expected a single resource type, but found all\n"
    );
}

#[test]
fn get_names_a_kind_whose_crd_is_missing() {
    let c = Cluster::start_with(flux_apiserver::ServerOptions::default(), false);
    let out = c.flux(&["get", "kustomizations"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "✗ no matches for kind \"Kustomization\" in version \"kustomize.toolkit.fluxcd.io/v1\"\n"
    );
    // `get all` leaves uninstalled kinds out.
    let out = c.flux(&["get", "all"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn events_watch_prints_new_events() {
    use std::io::{BufRead, BufReader};

    let c = Cluster::start();
    event(
        &c,
        "e1",
        "Kustomization/apps",
        ["Normal", "ReconciliationSucceeded", "done"],
        (10 * DAY, 10 * DAY, 1),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_flux"))
        // --timeout ends the watch, and the test, should an event never arrive.
        .args(["events", "--watch", "--timeout", "60s", "--kubeconfig"])
        .arg(&c.kubeconfig)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().unwrap().unwrap();
    assert_eq!(
        next(),
        "LAST SEEN\tTYPE  \tREASON                 \tOBJECT            \tMESSAGE "
    );
    assert_eq!(
        next(),
        "10d      \tNormal\tReconciliationSucceeded\tKustomization/apps\tdone   \t"
    );

    event(
        &c,
        "e2",
        "GitRepository/podinfo",
        ["Warning", "GitOperationFailed", "auth failed"],
        (3 * DAY, 3 * DAY, 1),
    );
    assert_eq!(
        next(),
        "3d\tWarning\tGitOperationFailed\tGitRepository/podinfo\tauth failed\t"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn reconcile_of_an_object_without_controller_is_a_no_op() {
    let c = Cluster::start();
    c.create(
        "Provider",
        "flux-system",
        "slack",
        json!({"type": "slack", "channel": "general"}),
        Value::Null,
    );
    let out = c.flux(&["reconcile", "alert-provider", "slack"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "✔ reconciliation not supported by the object\n");
    let provider = c.read("Provider", "flux-system", "slack");
    assert!(
        provider["metadata"]["annotations"]
            .get(REQUESTED_AT)
            .is_none()
    );

    let out = c.flux(&["reconcile", "ks"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "✗ Kustomization name is required\n");
}

#[test]
fn get_output_json_and_yaml() {
    let c = Cluster::start();
    git_fleet(&c);
    let out = c.flux(&["get", "sources", "git", "podinfo", "-o", "yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "- Message: stored artifact for revision 'main@sha1:696f056d'\n  Name: podinfo\n  Namespace: flux-system\n  Ready: True\n  Revision: main@sha1:696f056d\n  Suspended: False\n"
    );
    let parsed: Value = serde_yaml::from_str(&out.stdout).unwrap();
    assert_eq!(
        parsed[0]["Message"],
        "stored artifact for revision 'main@sha1:696f056d'"
    );
    let out = c.flux(&["get", "sources", "git", "-A", "-o", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let records: Value = serde_json::from_str(&out.stdout).unwrap();
    let names: Vec<(&str, &str)> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["Namespace"].as_str().unwrap(),
                r["Name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("apps", "team"),
            ("flux-system", "broken"),
            ("flux-system", "podinfo")
        ]
    );
    assert_eq!(records[1]["Message"], "authentication required");
}
