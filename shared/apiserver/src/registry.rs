//! The resources the server serves: built-in kinds and those registered by CRDs.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use flux_apimachinery::strategic_merge::{MergeSchema, builtin_schema};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::Value;

/// Storage key of a resource: versions of one resource share it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupResource {
    pub group: String,
    pub resource: String,
}

impl GroupResource {
    pub fn new(group: &str, resource: &str) -> Self {
        Self {
            group: group.to_string(),
            resource: resource.to_string(),
        }
    }
}

/// Where the scale subresource reads and writes its numbers.
#[derive(Debug, Clone)]
pub struct ScalePaths {
    pub spec_replicas: String,
    pub status_replicas: String,
    pub label_selector: Option<String>,
}

/// A CRD additionalPrinterColumn (or a built-in column computed the same way).
#[derive(Debug, Clone)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub json_path: String,
}

/// One served version of one resource.
#[derive(Debug, Clone)]
pub struct ResourceDef {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub status: bool,
    /// The kind's strategy maintains metadata.generation (CRs and controller-driven kinds).
    pub generation: bool,
    pub scale: Option<ScalePaths>,
    pub verbs: Vec<&'static str>,
    /// openAPIV3Schema of a CRD version, as JSON.
    pub schema: Option<Arc<Value>>,
    /// The same schema parsed, for defaulting, pruning and validation.
    pub structural: Option<Arc<JSONSchemaProps>>,
    /// Merge metadata (list types, merge keys) for strategic merge and server-side apply.
    pub merge: Option<Arc<MergeSchema>>,
    pub columns: Vec<PrinterColumn>,
    /// The version objects are stored in (CRDs: the `storage: true` version).
    pub storage_version: String,
    /// Defined by a CustomResourceDefinition (no strategic merge patch, apiVersion rewriting).
    pub custom: bool,
    /// Storage of this resource is not a normal object table (reviews, token requests).
    pub virtual_only: bool,
}

impl ResourceDef {
    /// Where objects of this resource are stored (shared by all its versions).
    pub fn gr(&self) -> GroupResource {
        if self.group == "events.k8s.io" {
            return GroupResource::new("", "events");
        }
        GroupResource::new(&self.group, &self.plural)
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

struct Builtin {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    all: bool,
    status: bool,
    scale: bool,
}

#[allow(clippy::too_many_arguments)]
const fn b(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    all: bool,
    status: bool,
    scale: bool,
) -> Builtin {
    Builtin {
        group,
        version,
        kind,
        plural,
        namespaced,
        short,
        all,
        status,
        scale,
    }
}

#[rustfmt::skip]
const BUILTINS: &[Builtin] = &[
    b(
        "",
        "v1",
        "Namespace",
        "namespaces",
        false,
        &["ns"],
        false,
        true,
        false,
    ),
    b(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        true,
        &["cm"],
        false,
        false,
        false,
    ),
    b(
        "",
        "v1",
        "Secret",
        "secrets",
        true,
        &[],
        false,
        false,
        false,
    ),
    b(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        true,
        &["sa"],
        false,
        false,
        false,
    ),
    b(
        "",
        "v1",
        "Service",
        "services",
        true,
        &["svc"],
        true,
        true,
        false,
    ),
    b(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        true,
        &["ep"],
        false,
        false,
        false,
    ),
    b(
        "",
        "v1",
        "Event",
        "events",
        true,
        &["ev"],
        false,
        false,
        false,
    ),
    b("", "v1", "Pod", "pods", true, &["po"], true, true, false),
    b(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
        &["pvc"],
        false,
        true,
        false,
    ),
    b(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        true,
        &["deploy"],
        true,
        true,
        true,
    ),
    b(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        true,
        &["rs"],
        true,
        true,
        true,
    ),
    b(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        true,
        &["sts"],
        true,
        true,
        true,
    ),
    b(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        true,
        &["ds"],
        true,
        true,
        false,
    ),
    b("batch", "v1", "Job", "jobs", true, &[], true, true, false),
    b(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        true,
        &["cj"],
        true,
        true,
        false,
    ),
    b(
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        true,
        &["ing"],
        false,
        true,
        false,
    ),
    b(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
        &["netpol"],
        false,
        false,
        false,
    ),
    b(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
        &["hpa"],
        true,
        true,
        false,
    ),
    b(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        &["pdb"],
        false,
        true,
        false,
    ),
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        true,
        &[],
        false,
        false,
        false,
    ),
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
        &[],
        false,
        false,
        false,
    ),
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
        &[],
        false,
        false,
        false,
    ),
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        &[],
        false,
        false,
        false,
    ),
    b(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        true,
        &[],
        false,
        false,
        false,
    ),
    b(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        true,
        &["ev"],
        false,
        false,
        false,
    ),
    b(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        &["crd", "crds"],
        false,
        true,
        false,
    ),
    // Kinds Helm charts and install manifests commonly carry (plain storage, no controller).
    b("", "v1", "ResourceQuota", "resourcequotas", true, &["quota"], false, true, false),
    b("", "v1", "LimitRange", "limitranges", true, &["limits"], false, false, false),
    b("", "v1", "PersistentVolume", "persistentvolumes", false, &["pv"], false, true, false),
    b("", "v1", "Node", "nodes", false, &["no"], false, true, false),
    b("", "v1", "ReplicationController", "replicationcontrollers", true, &["rc"], true, true, true),
    b("", "v1", "PodTemplate", "podtemplates", true, &[], false, false, false),
    b("apps", "v1", "ControllerRevision", "controllerrevisions", true, &[], false, false, false),
    b("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true, &[], false, false, false),
    b("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false, &[], false, false, false),
    b("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, &["sc"], false, false, false),
    b("storage.k8s.io", "v1", "CSIDriver", "csidrivers", false, &[], false, false, false),
    b("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, &["pc"], false, false, false),
    b("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false, &[], false, false, false),
    b("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false, &[], false, false, false),
    b("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false, &[], false, false, false),
    b("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", false, &[], false, true, false),
    b("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", false, &[], false, false, false),
    b("apiregistration.k8s.io", "v1", "APIService", "apiservices", false, &[], false, true, false),
    b("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", false, &["csr"], false, true, false),
];

/// Built-in resources whose registry strategy sets and bumps metadata.generation.
const GENERATION_KINDS: &[&str] = &[
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "ingresses",
    "networkpolicies",
    "horizontalpodautoscalers",
    "poddisruptionbudgets",
];

fn builtin_defs() -> Vec<Arc<ResourceDef>> {
    let mut out: Vec<Arc<ResourceDef>> = BUILTINS
        .iter()
        .map(|x| {
            let scale = x.scale.then(|| ScalePaths {
                spec_replicas: ".spec.replicas".into(),
                status_replicas: ".status.replicas".into(),
                label_selector: Some(".status.selector".into()),
            });
            Arc::new(ResourceDef {
                group: x.group.into(),
                version: x.version.into(),
                kind: x.kind.into(),
                plural: x.plural.into(),
                singular: x.kind.to_ascii_lowercase(),
                namespaced: x.namespaced,
                short_names: x.short.iter().map(|s| s.to_string()).collect(),
                categories: if x.all { vec!["all".into()] } else { vec![] },
                status: x.status,
                generation: GENERATION_KINDS.contains(&x.plural)
                    || x.group == "apiextensions.k8s.io",
                scale,
                verbs: ALL_VERBS.to_vec(),
                schema: None,
                structural: None,
                merge: builtin_schema(
                    &if x.group.is_empty() {
                        x.version.to_string()
                    } else {
                        format!("{}/{}", x.group, x.version)
                    },
                    x.kind,
                )
                .map(Arc::new),
                columns: crate::table::builtin_columns(x.group, x.plural),
                custom: false,
                virtual_only: false,
                storage_version: x.version.into(),
            })
        })
        .collect();
    for (group, kind, plural, namespaced) in [
        (
            "authorization.k8s.io",
            "SelfSubjectAccessReview",
            "selfsubjectaccessreviews",
            false,
        ),
        (
            "authorization.k8s.io",
            "SubjectAccessReview",
            "subjectaccessreviews",
            false,
        ),
        (
            "authentication.k8s.io",
            "SelfSubjectReview",
            "selfsubjectreviews",
            false,
        ),
        (
            "authentication.k8s.io",
            "TokenReview",
            "tokenreviews",
            false,
        ),
    ] {
        out.push(Arc::new(ResourceDef {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_ascii_lowercase(),
            namespaced,
            short_names: vec![],
            categories: vec![],
            status: false,
            generation: false,
            scale: None,
            verbs: vec!["create"],
            schema: None,
            structural: None,
            merge: None,
            columns: vec![],
            custom: false,
            virtual_only: true,
            storage_version: "v1".into(),
        }));
    }
    out
}

/// Kubernetes version priority: GA before beta before alpha, higher numbers first.
pub fn version_priority(v: &str) -> (u8, i64, i64) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let Ok(major) = digits.parse::<i64>() else {
        return (0, 0, 0);
    };
    let tail = &rest[digits.len()..];
    if tail.is_empty() {
        return (3, major, 0);
    }
    let (level, num) = if let Some(n) = tail.strip_prefix("beta") {
        (2, n)
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n)
    } else {
        return (0, 0, 0);
    };
    match num.parse::<i64>() {
        Ok(n) => (level, major, n),
        Err(_) => (0, 0, 0),
    }
}

#[derive(Default)]
struct Index {
    defs: Vec<Arc<ResourceDef>>,
    /// group -> version -> plural, so lookups borrow the URL's segments without allocating.
    by_path: HashMap<String, HashMap<String, HashMap<String, Arc<ResourceDef>>>>,
}

/// All served resources; CRD-backed entries are replaced whenever a CRD changes.
pub struct Registry {
    builtins: Vec<Arc<ResourceDef>>,
    index: RwLock<Arc<Index>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    pub fn new() -> Self {
        let builtins = builtin_defs();
        let r = Self {
            builtins,
            index: RwLock::new(Arc::default()),
        };
        r.set_custom(Vec::new());
        r
    }

    /// Replace the CRD-defined resources with `custom`.
    pub fn set_custom(&self, custom: Vec<Arc<ResourceDef>>) {
        let mut defs = self.builtins.clone();
        defs.extend(custom);
        let mut by_path: HashMap<String, HashMap<String, HashMap<String, Arc<ResourceDef>>>> =
            HashMap::new();
        for d in &defs {
            by_path
                .entry(d.group.clone())
                .or_default()
                .entry(d.version.clone())
                .or_default()
                .insert(d.plural.clone(), d.clone());
        }
        let idx = Arc::new(Index { defs, by_path });
        match self.index.write() {
            Ok(mut g) => *g = idx,
            Err(p) => *p.into_inner() = idx,
        }
    }

    fn snapshot(&self) -> Arc<Index> {
        match self.index.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceDef>> {
        self.snapshot()
            .by_path
            .get(group)?
            .get(version)?
            .get(plural)
            .cloned()
    }

    pub fn all(&self) -> Vec<Arc<ResourceDef>> {
        self.snapshot().defs.clone()
    }

    /// Any def of this storage group/resource (used for GC and namespace cleanup).
    pub fn by_gr(&self, gr: &GroupResource) -> Option<Arc<ResourceDef>> {
        let mut c: Vec<_> = self
            .all()
            .into_iter()
            .filter(|d| d.group == gr.group && d.plural == gr.resource)
            .collect();
        c.sort_by_key(|d| std::cmp::Reverse(version_priority(&d.version)));
        c.into_iter().next()
    }

    /// Served groups with their versions, preferred version first.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for d in self.all() {
            match groups.iter_mut().find(|(g, _)| *g == d.group) {
                Some((_, vs)) => {
                    if !vs.contains(&d.version) {
                        vs.push(d.version.clone())
                    }
                }
                None => groups.push((d.group.clone(), vec![d.version.clone()])),
            }
        }
        for (_, vs) in groups.iter_mut() {
            vs.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        }
        groups
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str()
}

/// Resource defs for every served version of a CRD object (JSON).
pub fn defs_from_crd(crd: &Value) -> Vec<Arc<ResourceDef>> {
    let spec = match crd.get("spec") {
        Some(s) => s,
        None => return vec![],
    };
    let (Some(group), Some(plural), Some(kind)) = (
        str_at(spec, &["group"]),
        str_at(spec, &["names", "plural"]),
        str_at(spec, &["names", "kind"]),
    ) else {
        return vec![];
    };
    let singular = str_at(spec, &["names", "singular"])
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_ascii_lowercase());
    let strings = |key: &str| -> Vec<String> {
        spec.get("names")
            .and_then(|n| n.get(key))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let namespaced = str_at(spec, &["scope"]) != Some("Cluster");
    let storage_version = spec
        .get("versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        })
        .and_then(|v| v.get("name")?.as_str())
        .unwrap_or("")
        .to_string();
    let mut out = Vec::new();
    for v in spec
        .get("versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if v.get("served").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let Some(name) = v.get("name").and_then(Value::as_str) else {
            continue;
        };
        let schema = v
            .get("schema")
            .and_then(|s| s.get("openAPIV3Schema"))
            .cloned();
        let structural: Option<Arc<JSONSchemaProps>> = schema
            .as_ref()
            .and_then(|s| serde_json::from_value(s.clone()).ok())
            .map(Arc::new);
        let sub = v.get("subresources");
        let status = sub.and_then(|s| s.get("status")).is_some();
        let scale = sub.and_then(|s| s.get("scale")).map(|s| ScalePaths {
            spec_replicas: str_at(s, &["specReplicasPath"])
                .unwrap_or(".spec.replicas")
                .into(),
            status_replicas: str_at(s, &["statusReplicasPath"])
                .unwrap_or(".status.replicas")
                .into(),
            label_selector: str_at(s, &["labelSelectorPath"]).map(str::to_string),
        });
        let columns = v
            .get("additionalPrinterColumns")
            .and_then(Value::as_array)
            .map(|cols| {
                cols.iter()
                    .filter_map(|c| {
                        Some(PrinterColumn {
                            name: c.get("name")?.as_str()?.to_string(),
                            type_: c
                                .get("type")
                                .and_then(Value::as_str)
                                .unwrap_or("string")
                                .into(),
                            format: c.get("format").and_then(Value::as_str).unwrap_or("").into(),
                            description: c
                                .get("description")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .into(),
                            priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                            json_path: c.get("jsonPath")?.as_str()?.to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Arc::new(ResourceDef {
            group: group.into(),
            version: name.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: singular.clone(),
            namespaced,
            short_names: strings("shortNames"),
            categories: strings("categories"),
            status,
            generation: true,
            scale,
            verbs: ALL_VERBS.to_vec(),
            schema: schema.clone().map(Arc::new),
            structural: structural.clone(),
            merge: structural
                .as_deref()
                .map(|s| Arc::new(MergeSchema::from_json_schema(s))),
            columns,
            custom: true,
            virtual_only: false,
            storage_version: storage_version.clone(),
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_priority_orders_ga_then_beta_then_alpha() {
        let mut v = vec!["v1alpha1", "v1beta2", "v2", "v1", "v1beta1", "foo"];
        v.sort_by_key(|x| std::cmp::Reverse(version_priority(x)));
        assert_eq!(v, vec!["v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]);
    }

    #[test]
    fn crd_defs_skip_unserved_versions_and_read_subresources() {
        let crd = serde_json::json!({"spec": {"group": "x.io", "scope": "Cluster",
        "names": {"plural": "foos", "kind": "Foo", "shortNames": ["fo"]},
        "versions": [
            {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}}},
            {"name": "v0", "served": false, "storage": false}
        ]}});
        let defs = defs_from_crd(&crd);
        assert_eq!(defs.len(), 1);
        assert!(defs[0].status && !defs[0].namespaced);
        assert_eq!(defs[0].short_names, vec!["fo"]);
        assert_eq!(defs[0].singular, "foo");
    }
}
