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
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let (server, client) = rt.block_on(async {
            let server = flux_apiserver::start(flux_apiserver::ServerOptions::default())
                .await
                .unwrap();
            let client = server.client().await.unwrap();
            let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
            for crd in flux_api::crds::all() {
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
