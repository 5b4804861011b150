//! Shared harness: the in-memory API server (RBAC and workload simulator on), the Flux CRDs,
//! an artifact server, and the Kustomization controller. Sources are published the way
//! source-controller does it: a packed tree in the Storage and `status.artifact` on the
//! GitRepository.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use flux_api::kustomize::v1::Kustomization;
use flux_artifact::{IgnoreRules, Owner, Storage};
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use kustomize_controller::kustomization::{self, Context, Options};

pub struct Harness {
    pub server: flux_apiserver::RunningServer,
    pub client: kube::Client,
    pub storage: Storage,
    _storage_dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    counter: AtomicU64,
}

pub fn options() -> Options {
    Options {
        requeue_dependency: Duration::from_millis(500),
        health_poll_interval: Duration::from_millis(200),
        ..Default::default()
    }
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(options()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let crds: Vec<_> = ["source-controller", "kustomize-controller"]
            .into_iter()
            .flat_map(|c| flux_api::crds::for_component(c).expect("component"))
            .collect();
        let opts = flux_apiserver::ServerOptions {
            rbac: true,
            simulate_workloads: true,
            ..Default::default()
        };
        let (server, client) = flux_apiserver::start_seeded_with(opts, &crds, &[])
            .await
            .expect("apiserver");
        let kubeconfig =
            kube::config::Kubeconfig::from_yaml(&server.kubeconfig_yaml()).expect("kubeconfig");
        let kube_config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("config");

        let storage_dir = tempfile::tempdir().expect("tempdir");
        let storage = flux_artifact::serve_on_loopback(storage_dir.path(), 2)
            .await
            .expect("artifact server");
        let mut h = Harness {
            server,
            client: client.clone(),
            storage,
            _storage_dir: storage_dir,
            stop: None,
            counter: AtomicU64::new(1),
        };
        for ns in ["flux-system", "apps"] {
            h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
                .await;
        }
        let ctx = Arc::new(Context {
            client: client.clone(),
            kube_config,
            recorder: flux_runtime::events::Recorder::new(
                client.clone(),
                "kustomize-controller",
                None,
            ),
            http: reqwest::Client::new(),
            options,
            backoff: Default::default(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(kustomization::run(ctx, None, None, 4, async move {
            let _ = stopped.await;
        }));
        h.stop = Some(stop);
        h
    }

    /// Server-side applies any object as the admin.
    pub async fn apply_json(&self, obj: serde_json::Value) {
        let (group, version) = match obj["apiVersion"].as_str().unwrap_or("v1").rsplit_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (
                String::new(),
                obj["apiVersion"].as_str().unwrap_or("v1").to_string(),
            ),
        };
        let kind = obj["kind"].as_str().expect("kind");
        let gvk = kube::core::GroupVersionKind::gvk(&group, &version, kind);
        let (ar, caps) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .expect("discovery");
        let name = obj["metadata"]["name"].as_str().expect("name");
        let api: Api<DynamicObject> = match caps.scope {
            kube::discovery::Scope::Namespaced => Api::namespaced_with(
                self.client.clone(),
                obj["metadata"]["namespace"].as_str().unwrap_or("default"),
                &ar,
            ),
            kube::discovery::Scope::Cluster => Api::all_with(self.client.clone(), &ar),
        };
        api.patch(
            name,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&obj),
        )
        .await
        .expect("apply");
    }

    /// Packs `files` into a new artifact of GitRepository `flux-system/<name>` and publishes it
    /// in the source's status. Returns the revision.
    pub async fn publish(&self, name: &str, files: &[(&str, &str)]) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        let rules = IgnoreRules::load(dir.path(), None).expect("rules");
        let mut archive = Vec::new();
        flux_artifact::pack_dir(dir.path(), &rules, &mut archive).expect("pack");
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let sha = format!("{n:040x}");
        let owner = Owner {
            kind: "gitrepository",
            namespace: "flux-system",
            name,
        };
        let stored = self
            .storage
            .store(&owner, &format!("{sha}.tar.gz"), &archive)
            .expect("store");
        let revision = format!("main@sha1:{sha}");
        self.apply_json(serde_json::json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {"interval": "1m", "url": "https://example.com/fleet.git", "ref": {"branch": "main"}}
        }))
        .await;
        let gvk =
            kube::core::GroupVersionKind::gvk("source.toolkit.fluxcd.io", "v1", "GitRepository");
        let ar = ApiResource::from_gvk_with_plural(&gvk, "gitrepositories");
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), "flux-system", &ar);
        let status = serde_json::json!({"status": {
            "artifact": {
                "path": stored.path,
                "url": stored.url,
                "revision": revision,
                "digest": stored.digest,
                "lastUpdateTime": "2026-01-01T00:00:00Z",
                "size": stored.size,
            },
            "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "stored", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
        }});
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .expect("status");
        revision
    }

    pub fn kustomizations(&self, ns: &str) -> Api<Kustomization> {
        Api::namespaced(self.client.clone(), ns)
    }

    /// Creates a Kustomization from its spec (source defaults to GitRepository `fleet`).
    pub async fn create_ks(&self, ns: &str, name: &str, spec: serde_json::Value) {
        let mut full = serde_json::json!({
            "interval": "10m",
            "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "fleet", "namespace": "flux-system"}
        });
        if let (Some(f), Some(s)) = (full.as_object_mut(), spec.as_object()) {
            for (k, v) in s {
                f.insert(k.clone(), v.clone());
            }
        }
        let obj: Kustomization = serde_json::from_value(serde_json::json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": ns},
            "spec": full
        }))
        .expect("kustomization");
        self.kustomizations(ns)
            .create(&PostParams::default(), &obj)
            .await
            .expect("create");
    }

    /// Polls until `done` accepts the Kustomization (30 s, then panics with its last state).
    pub async fn wait_ks(
        &self,
        ns: &str,
        name: &str,
        done: impl Fn(&Kustomization) -> bool,
    ) -> Kustomization {
        flux_runtime::testkit::wait_for(&self.kustomizations(ns), name, done).await
    }

    /// Like [`Harness::wait_ks`] for waits that must outlast a controller timeout (testkit's
    /// `wait_for` gives up after 30 s).
    pub async fn wait_ks_within(
        &self,
        ns: &str,
        name: &str,
        secs: u64,
        done: impl Fn(&Kustomization) -> bool,
    ) -> Kustomization {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(obj) = self.kustomizations(ns).get_opt(name).await.expect("get")
                && done(&obj)
            {
                return obj;
            }
            if tokio::time::Instant::now() >= deadline {
                let obj = self.kustomizations(ns).get_opt(name).await.expect("get");
                panic!(
                    "timed out waiting for {ns}/{name}; status: {:#?}",
                    obj.and_then(|o| o.status)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn get(
        &self,
        api_version: &str,
        kind: &str,
        ns: &str,
        name: &str,
    ) -> Option<serde_json::Value> {
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .expect("discovery");
        let api: Api<DynamicObject> = match caps.scope {
            kube::discovery::Scope::Namespaced => {
                Api::namespaced_with(self.client.clone(), ns, &ar)
            }
            kube::discovery::Scope::Cluster => Api::all_with(self.client.clone(), &ar),
        };
        api.get_opt(name)
            .await
            .expect("get")
            .map(|o| serde_json::to_value(o).expect("json"))
    }

    pub async fn events_for(&self, ns: &str, name: &str) -> Vec<Event> {
        flux_runtime::testkit::events_for(&self.client, ns, name).await
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn condition<'a>(
    obj: &'a Kustomization,
    type_: &str,
) -> Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    obj.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

/// Ready=True for `revision` at the current generation.
pub fn ready_at(revision: &str) -> impl Fn(&Kustomization) -> bool + '_ {
    move |k| {
        condition(k, "Ready").is_some_and(|c| c.status == "True")
            && k.status
                .as_ref()
                .and_then(|s| s.last_applied_revision.as_deref())
                == Some(revision)
            && k.status.as_ref().and_then(|s| s.observed_generation) == k.metadata.generation
    }
}

/// Ready=False with `reason`.
pub fn failed_with(reason: &str) -> impl Fn(&Kustomization) -> bool + '_ {
    move |k| condition(k, "Ready").is_some_and(|c| c.status == "False" && c.reason == reason)
}
