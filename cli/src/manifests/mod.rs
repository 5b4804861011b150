//! Install manifests generated from code: what `flux install --export` prints and what
//! `cargo run -p xtask -- manifests` writes under `manifests/`.

pub mod components;
mod policies;
mod rbac;
mod workload;

use serde_json::{Map, Value, json};

pub use components::{COMPONENTS, ComponentSpec, DEFAULT_COMPONENTS, EXTRA_COMPONENTS};

/// The flux-rs version stamped on labels and image tags.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why manifests could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("unknown component {name:?}: valid components are {valid}")]
    UnknownComponent { name: String, valid: String },
    #[error(
        "invalid namespace {0:?}: must be a lowercase RFC 1123 label (a-z, 0-9, '-', at most 63 characters)"
    )]
    Namespace(String),
    #[error("no components selected")]
    NoComponents,
    #[error("unable to convert {what} to JSON: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("unable to render {what} as YAML: {source}")]
    Yaml {
        what: String,
        #[source]
        source: serde_yaml::Error,
    },
}

/// The knobs of `flux install` that shape the manifests.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    pub namespace: String,
    /// Component names, in any order; validated by [`install_yaml`] and friends.
    pub components: Vec<String>,
    /// Container registry prefix for the controller images.
    pub registry: String,
    /// Image tag and `app.kubernetes.io/version` label, e.g. `v0.1.0`.
    pub version: String,
    pub cluster_domain: String,
    pub log_level: String,
    pub watch_all_namespaces: bool,
    pub network_policy: bool,
}

impl Default for InstallOptions {
    fn default() -> Self {
        InstallOptions {
            namespace: "flux-system".to_string(),
            components: DEFAULT_COMPONENTS.iter().map(|s| s.to_string()).collect(),
            registry: "ghcr.io/flux-rs".to_string(),
            version: format!("v{VERSION}"),
            cluster_domain: "cluster.local".to_string(),
            log_level: "info".to_string(),
            watch_all_namespaces: true,
            network_policy: true,
        }
    }
}

impl InstallOptions {
    /// Every component, as `manifests/` holds them.
    pub fn all_components() -> Self {
        InstallOptions {
            components: COMPONENTS.iter().map(|c| c.name.to_string()).collect(),
            ..InstallOptions::default()
        }
    }

    fn validate(&self) -> Result<Vec<&'static ComponentSpec>, ManifestError> {
        let ns = &self.namespace;
        let valid_ns = !ns.is_empty()
            && ns.len() <= 63
            && ns
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !ns.starts_with('-')
            && !ns.ends_with('-');
        if !valid_ns {
            return Err(ManifestError::Namespace(ns.clone()));
        }
        let selected = components::select(self.components.iter().map(String::as_str))?;
        if selected.is_empty() {
            return Err(ManifestError::NoComponents);
        }
        Ok(selected)
    }

    /// Labels Flux puts on everything it installs.
    fn labels(&self) -> Map<String, Value> {
        let mut labels = Map::new();
        labels.insert("app.kubernetes.io/instance".into(), json!(self.namespace));
        labels.insert("app.kubernetes.io/part-of".into(), json!("flux"));
        labels.insert("app.kubernetes.io/version".into(), json!(self.version));
        labels
    }

    /// Flux's labels plus the component label.
    fn component_labels(&self, component: &str) -> Map<String, Value> {
        let mut labels = Map::new();
        labels.insert("app.kubernetes.io/component".into(), json!(component));
        labels.extend(self.labels());
        labels
    }
}

/// Renders objects as a YAML stream, each document opened with `---`.
fn render(objects: &[Value]) -> Result<String, ManifestError> {
    let mut out = String::new();
    for obj in objects {
        let what = format!(
            "{} {}",
            obj["kind"].as_str().unwrap_or("object"),
            obj["metadata"]["name"].as_str().unwrap_or("")
        );
        let doc =
            serde_yaml::to_string(obj).map_err(|source| ManifestError::Yaml { what, source })?;
        out.push_str("---\n");
        out.push_str(&doc);
    }
    Ok(out)
}

fn namespace(opts: &InstallOptions) -> Value {
    let mut labels = opts.labels();
    // Flux's namespace warns on pods that break the restricted Pod Security Standard.
    labels.insert(
        "pod-security.kubernetes.io/warn".into(),
        json!("restricted"),
    );
    labels.insert(
        "pod-security.kubernetes.io/warn-version".into(),
        json!("latest"),
    );
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": { "labels": labels, "name": opts.namespace },
    })
}

/// A component's CRDs with Flux's install labels.
fn crds(opts: &InstallOptions, spec: &ComponentSpec) -> Result<Vec<Value>, ManifestError> {
    let crds = flux_api::crds::for_component(spec.name).ok_or_else(|| {
        ManifestError::UnknownComponent {
            name: spec.name.to_string(),
            valid: flux_api::crds::COMPONENTS.join(", "),
        }
    })?;
    let mut out = Vec::with_capacity(crds.len());
    for crd in crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        let mut value = serde_json::to_value(&crd).map_err(|source| ManifestError::Json {
            what: format!("CustomResourceDefinition {name}"),
            source,
        })?;
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            let labels = meta.entry("labels").or_insert_with(|| json!({}));
            if let Some(labels) = labels.as_object_mut() {
                labels.extend(opts.component_labels(spec.name));
            }
        }
        out.push(value);
    }
    Ok(out)
}

/// The files of one component under `manifests/<component>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentFiles {
    pub crds: String,
    pub rbac: String,
    pub deployment: String,
}

/// Renders one component's files.
pub fn component_files(
    opts: &InstallOptions,
    spec: &ComponentSpec,
) -> Result<ComponentFiles, ManifestError> {
    Ok(ComponentFiles {
        crds: render(&crds(opts, spec)?)?,
        rbac: render(&rbac::bindings(opts, spec))?,
        deployment: render(&workload::objects(opts, spec))?,
    })
}

/// Every file under `manifests/` (paths relative to it) for `opts`' components.
pub fn repository_files(opts: &InstallOptions) -> Result<Vec<(String, String)>, ManifestError> {
    let selected = opts.validate()?;
    let mut files = vec![
        ("namespace.yaml".to_string(), render(&[namespace(opts)])?),
        ("rbac.yaml".to_string(), render(&rbac::cluster_roles(opts))?),
        (
            "policies.yaml".to_string(),
            render(&policies::network_policies(opts))?,
        ),
    ];
    for spec in selected {
        let f = component_files(opts, spec)?;
        files.push((format!("{}/crds.yaml", spec.name), f.crds));
        files.push((format!("{}/rbac.yaml", spec.name), f.rbac));
        files.push((format!("{}/deployment.yaml", spec.name), f.deployment));
    }
    Ok(files)
}

/// The single YAML stream `flux install --export` prints: the Namespace first, then CRDs,
/// RBAC, workloads and network policies, so `kubectl apply -f -` creates types before users.
pub fn install_yaml(opts: &InstallOptions) -> Result<String, ManifestError> {
    let selected = opts.validate()?;
    let mut objects = vec![namespace(opts)];
    for spec in &selected {
        objects.extend(crds(opts, spec)?);
    }
    objects.extend(rbac::cluster_roles(opts));
    for spec in &selected {
        objects.extend(rbac::bindings(opts, spec));
    }
    for spec in &selected {
        objects.extend(workload::objects(opts, spec));
    }
    if opts.network_policy {
        objects.extend(policies::network_policies(opts));
    }
    let names: Vec<&str> = selected.iter().map(|c| c.name).collect();
    // As in Flux's gotk-components.yaml the header comments open the Namespace document.
    let header = format!(
        "---\n# This manifest was generated by flux. DO NOT EDIT.\n# Flux Version: {}\n# Components: {}\n",
        opts.version,
        names.join(",")
    );
    let body = render(&objects)?;
    Ok(header + body.strip_prefix("---\n").unwrap_or(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_namespace_is_rejected() {
        for ns in ["", "Flux", "flux_system", "-flux", &"a".repeat(64)] {
            let opts = InstallOptions {
                namespace: ns.to_string(),
                ..InstallOptions::default()
            };
            assert!(
                matches!(install_yaml(&opts), Err(ManifestError::Namespace(_))),
                "{ns}"
            );
        }
    }

    #[test]
    fn empty_component_list_is_an_error() {
        let opts = InstallOptions {
            components: vec![],
            ..InstallOptions::default()
        };
        assert!(matches!(
            install_yaml(&opts),
            Err(ManifestError::NoComponents)
        ));
    }

    #[test]
    fn install_starts_with_the_namespace_and_puts_crds_before_deployments() {
        let yaml = install_yaml(&InstallOptions::default()).unwrap();
        let kinds: Vec<&str> = yaml
            .lines()
            .filter_map(|l| l.strip_prefix("kind: "))
            .collect();
        assert_eq!(kinds[0], "Namespace");
        let last_crd = kinds
            .iter()
            .rposition(|k| *k == "CustomResourceDefinition")
            .unwrap();
        let first_deploy = kinds.iter().position(|k| *k == "Deployment").unwrap();
        assert!(last_crd < first_deploy, "{kinds:?}");
        assert_eq!(kinds.last(), Some(&"NetworkPolicy"));
    }

    #[test]
    fn network_policy_false_leaves_policies_out() {
        let opts = InstallOptions {
            network_policy: false,
            ..InstallOptions::default()
        };
        let yaml = install_yaml(&opts).unwrap();
        assert!(!yaml.contains("kind: NetworkPolicy"));
        assert!(
            install_yaml(&InstallOptions::default())
                .unwrap()
                .contains("kind: NetworkPolicy")
        );
    }

    #[test]
    fn controller_args_follow_the_install_options() {
        let opts = InstallOptions {
            watch_all_namespaces: false,
            log_level: "debug".to_string(),
            cluster_domain: "example.internal".to_string(),
            registry: "registry.example/flux".to_string(),
            version: "v9.9.9".to_string(),
            components: vec!["source-controller".to_string()],
            ..InstallOptions::default()
        };
        let yaml = install_yaml(&opts).unwrap();
        assert!(yaml.contains("- --watch-all-namespaces=false"));
        assert!(yaml.contains("- --log-level=debug"));
        assert!(yaml.contains(
            "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.example.internal."
        ));
        assert!(yaml.contains(
            "--events-addr=http://notification-controller.flux-system.svc.example.internal./"
        ));
        assert!(yaml.contains("image: registry.example/flux/source-controller:v9.9.9"));
    }

    #[test]
    fn only_kustomize_and_helm_controllers_get_cluster_admin() {
        let opts = InstallOptions::all_components();
        for spec in COMPONENTS {
            let files = component_files(&opts, spec).unwrap();
            let admin = files.rbac.contains("name: cluster-admin");
            let expected = matches!(spec.name, "kustomize-controller" | "helm-controller");
            assert_eq!(admin, expected, "{}", spec.name);
            assert!(
                files.rbac.contains("name: crd-controller-flux-system"),
                "{}",
                spec.name
            );
        }
    }

    #[test]
    fn edit_and_view_roles_aggregate_into_the_builtin_roles() {
        let yaml = render(&rbac::cluster_roles(&InstallOptions::default())).unwrap();
        let docs: Vec<Value> = serde_yaml::Deserializer::from_str(&yaml)
            .map(|d| <Value as serde::Deserialize>::deserialize(d).unwrap())
            .collect();
        let names: Vec<&str> = docs
            .iter()
            .filter_map(|d| d["metadata"]["name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "crd-controller-flux-system",
                "flux-edit-flux-system",
                "flux-view-flux-system"
            ]
        );
        let view = &docs[2];
        assert_eq!(
            view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"],
            "true"
        );
        assert_eq!(view["rules"][0]["verbs"], json!(["get", "list", "watch"]));
        assert!(
            docs[1]["metadata"]["labels"]
                .get("rbac.authorization.k8s.io/aggregate-to-view")
                .is_none()
        );
    }

    #[test]
    fn header_comments_open_the_namespace_document() {
        let yaml = install_yaml(&InstallOptions::default()).unwrap();
        let mut lines = yaml.lines();
        assert_eq!(lines.next(), Some("---"));
        assert_eq!(
            lines.next(),
            Some("# This manifest was generated by flux. DO NOT EDIT.")
        );
        assert_eq!(
            lines.next(),
            Some(format!("# Flux Version: v{VERSION}").as_str())
        );
        assert_eq!(
            lines.next(),
            Some(
                "# Components: source-controller,kustomize-controller,helm-controller,notification-controller"
            )
        );
        assert_eq!(lines.next(), Some("apiVersion: v1"));
    }

    /// Deserializing into the Kubernetes types drops unknown fields; comparing the round trip
    /// with the original catches misspelt or misplaced fields.
    #[test]
    fn every_generated_object_round_trips_through_kubernetes_types() {
        use k8s_openapi::api::apps::v1::Deployment;
        use k8s_openapi::api::core::v1::{Namespace, Service, ServiceAccount};
        use k8s_openapi::api::networking::v1::NetworkPolicy;
        use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

        fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Value {
            let typed: T = serde_json::from_value(v.clone()).unwrap();
            serde_json::to_value(typed).unwrap()
        }

        let opts = InstallOptions::all_components();
        let yaml = install_yaml(&opts).unwrap();
        let mut seen = 0;
        for doc in serde_yaml::Deserializer::from_str(&yaml) {
            let v = <Value as serde::Deserialize>::deserialize(doc).unwrap();
            let back = match v["kind"].as_str().unwrap() {
                "Namespace" => round_trip::<Namespace>(&v),
                "ServiceAccount" => round_trip::<ServiceAccount>(&v),
                "Service" => round_trip::<Service>(&v),
                "Deployment" => round_trip::<Deployment>(&v),
                "ClusterRole" => round_trip::<ClusterRole>(&v),
                "ClusterRoleBinding" => round_trip::<ClusterRoleBinding>(&v),
                "NetworkPolicy" => round_trip::<NetworkPolicy>(&v),
                "CustomResourceDefinition" => round_trip::<CustomResourceDefinition>(&v),
                other => panic!("unexpected kind {other}"),
            };
            assert_eq!(back, v, "{} {}", v["kind"], v["metadata"]["name"]);
            seen += 1;
        }
        assert!(seen > 30, "{seen}");
    }

    #[test]
    fn namespace_option_moves_every_namespaced_object() {
        let opts = InstallOptions {
            namespace: "gitops".to_string(),
            ..InstallOptions::default()
        };
        let yaml = install_yaml(&opts).unwrap();
        assert!(!yaml.contains("flux-system"), "{yaml}");
        assert!(yaml.contains("namespace: gitops"));
        assert!(
            yaml.contains(
                "--events-addr=http://notification-controller.gitops.svc.cluster.local./"
            )
        );
    }
}
