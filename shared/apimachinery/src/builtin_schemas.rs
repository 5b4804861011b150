//! Merge schemas of the built-in kinds, transcribed from the `patchStrategy`/`patchMergeKey`
//! and `listType`/`listMapKeys`/`mapType`/`structType` tags of k8s.io/api (v1.33).

use crate::merge_schema::{MergeSchema, Node};

/// `metav1.ObjectMeta`.
pub(crate) fn object_meta() -> Node {
    Node::map([
        ("labels", Node::map_of(Node::Scalar)),
        ("annotations", Node::map_of(Node::Scalar)),
        ("finalizers", Node::set()),
        ("ownerReferences", Node::list_map(&["uid"], Node::map([]))),
        ("managedFields", Node::atomic_list()),
    ])
}

/// `metav1.LabelSelector` is `structType=atomic`.
fn label_selector() -> Node {
    Node::atomic_map()
}

fn conditions() -> Node {
    Node::list_map(&["type"], Node::map([]))
}

fn env_var() -> Node {
    Node::map([("valueFrom", Node::map([]))])
}

fn container() -> Node {
    Node::map([
        ("command", Node::atomic_list()),
        ("args", Node::atomic_list()),
        (
            "ports",
            Node::list_map(&["containerPort", "protocol"], Node::map([]))
                .with_key_default("protocol", "TCP".into()),
        ),
        ("env", Node::list_map(&["name"], env_var())),
        ("envFrom", Node::atomic_list()),
        (
            "volumeMounts",
            Node::list_map(&["mountPath"], Node::map([])),
        ),
        (
            "volumeDevices",
            Node::list_map(&["devicePath"], Node::map([])),
        ),
        (
            "resources",
            Node::map([
                ("limits", Node::map_of(Node::Scalar)),
                ("requests", Node::map_of(Node::Scalar)),
                ("claims", Node::list_map(&["name"], Node::map([]))),
            ]),
        ),
        ("resizePolicy", Node::atomic_list()),
        (
            "securityContext",
            Node::map([(
                "capabilities",
                Node::map([("add", Node::atomic_list()), ("drop", Node::atomic_list())]),
            )]),
        ),
    ])
}

fn pod_spec() -> Node {
    Node::map([
        (
            "volumes",
            Node::list_map(&["name"], Node::map([]).retaining_keys()),
        ),
        ("initContainers", Node::list_map(&["name"], container())),
        ("containers", Node::list_map(&["name"], container())),
        (
            "ephemeralContainers",
            Node::list_map(&["name"], container()),
        ),
        ("imagePullSecrets", Node::list_map(&["name"], Node::map([]))),
        ("tolerations", Node::atomic_list()),
        ("hostAliases", Node::list_map(&["ip"], Node::map([]))),
        ("readinessGates", Node::atomic_list()),
        (
            "topologySpreadConstraints",
            Node::list_map(&["topologyKey", "whenUnsatisfiable"], Node::map([])),
        ),
        (
            "resourceClaims",
            Node::list_map(&["name"], Node::map([]).retaining_keys()),
        ),
        ("schedulingGates", Node::list_map(&["name"], Node::map([]))),
        ("nodeSelector", atomic_string_map()),
    ])
}

/// `mapType=atomic` maps of strings (Pod nodeSelector, Service selector).
fn atomic_string_map() -> Node {
    Node::Map {
        fields: Default::default(),
        values: Some(Box::new(Node::Scalar)),
        atomic: true,
        retain_keys: false,
    }
}

fn pod_template() -> Node {
    Node::map([("metadata", object_meta()), ("spec", pod_spec())])
}

fn workload(spec_fields: Vec<(&'static str, Node)>) -> Node {
    let mut fields = vec![("selector", label_selector()), ("template", pod_template())];
    fields.extend(spec_fields);
    Node::map([
        ("metadata", object_meta()),
        ("spec", Node::map(fields)),
        ("status", Node::map([("conditions", conditions())])),
    ])
}

fn job_spec() -> Node {
    Node::map([
        ("selector", label_selector()),
        ("template", pod_template()),
        (
            "podFailurePolicy",
            Node::map([("rules", Node::atomic_list())]),
        ),
    ])
}

fn with_meta(fields: Vec<(&'static str, Node)>) -> Node {
    let mut all = vec![("metadata", object_meta())];
    all.extend(fields);
    Node::map(all)
}

/// Merge schema of a built-in kind, or `None` for kinds this server does not know (custom
/// resources take theirs from the CRD with [`MergeSchema::from_json_schema`]).
pub fn builtin_schema(api_version: &str, kind: &str) -> Option<MergeSchema> {
    let root = match (api_version, kind) {
        ("apps/v1", "Deployment" | "ReplicaSet" | "DaemonSet") => workload(vec![]),
        ("apps/v1", "StatefulSet") => workload(vec![("volumeClaimTemplates", Node::atomic_list())]),
        ("batch/v1", "Job") => with_meta(vec![
            ("spec", job_spec()),
            ("status", Node::map([("conditions", conditions())])),
        ]),
        ("batch/v1", "CronJob") => with_meta(vec![(
            "spec",
            Node::map([(
                "jobTemplate",
                Node::map([("metadata", object_meta()), ("spec", job_spec())]),
            )]),
        )]),
        ("v1", "Pod") => with_meta(vec![
            ("spec", pod_spec()),
            (
                "status",
                Node::map([
                    ("conditions", conditions()),
                    ("podIPs", Node::list_map(&["ip"], Node::map([]))),
                ]),
            ),
        ]),
        ("v1", "PodTemplate") => with_meta(vec![("template", pod_template())]),
        ("v1", "ReplicationController") => with_meta(vec![(
            "spec",
            Node::map([
                ("selector", atomic_string_map()),
                ("template", pod_template()),
            ]),
        )]),
        ("v1", "Service") => with_meta(vec![
            (
                "spec",
                Node::map([
                    (
                        "ports",
                        Node::list_map(&["port", "protocol"], Node::map([]))
                            .with_key_default("protocol", "TCP".into()),
                    ),
                    ("selector", atomic_string_map()),
                    ("clusterIPs", Node::atomic_list()),
                    ("externalIPs", Node::atomic_list()),
                    ("ipFamilies", Node::atomic_list()),
                    ("loadBalancerSourceRanges", Node::atomic_list()),
                ]),
            ),
            ("status", Node::map([("conditions", conditions())])),
        ]),
        ("v1", "ServiceAccount") => with_meta(vec![
            ("secrets", Node::list_map(&["name"], Node::map([]))),
            ("imagePullSecrets", Node::atomic_list()),
        ]),
        ("v1", "Namespace") => with_meta(vec![
            ("spec", Node::map([("finalizers", Node::atomic_list())])),
            ("status", Node::map([("conditions", conditions())])),
        ]),
        ("v1", "Node") => with_meta(vec![
            ("spec", Node::map([("taints", Node::atomic_list())])),
            ("status", Node::map([("conditions", conditions())])),
        ]),
        ("v1", "PersistentVolumeClaim") => with_meta(vec![
            ("spec", Node::map([("accessModes", Node::atomic_list())])),
            ("status", Node::map([("conditions", conditions())])),
        ]),
        (
            "v1",
            "ConfigMap" | "Secret" | "Event" | "Endpoints" | "LimitRange" | "ResourceQuota"
            | "PersistentVolume",
        ) => with_meta(vec![
            ("data", Node::map_of(Node::Scalar)),
            ("binaryData", Node::map_of(Node::Scalar)),
            ("stringData", Node::map_of(Node::Scalar)),
        ]),
        ("rbac.authorization.k8s.io/v1", "Role" | "ClusterRole") => with_meta(vec![
            ("rules", Node::atomic_list()),
            (
                "aggregationRule",
                Node::map([("clusterRoleSelectors", Node::atomic_list())]),
            ),
        ]),
        ("rbac.authorization.k8s.io/v1", "RoleBinding" | "ClusterRoleBinding") => with_meta(vec![
            ("subjects", Node::atomic_list()),
            ("roleRef", Node::atomic_map()),
        ]),
        ("networking.k8s.io/v1", "Ingress") => with_meta(vec![(
            "spec",
            Node::map([("rules", Node::atomic_list()), ("tls", Node::atomic_list())]),
        )]),
        ("networking.k8s.io/v1", "NetworkPolicy") => with_meta(vec![(
            "spec",
            Node::map([
                ("podSelector", label_selector()),
                ("ingress", Node::atomic_list()),
                ("egress", Node::atomic_list()),
                ("policyTypes", Node::atomic_list()),
            ]),
        )]),
        ("coordination.k8s.io/v1", "Lease") => with_meta(vec![]),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => with_meta(vec![
            (
                "spec",
                Node::map([
                    ("versions", Node::atomic_list()),
                    (
                        "names",
                        Node::map([
                            ("shortNames", Node::atomic_list()),
                            ("categories", Node::atomic_list()),
                        ]),
                    ),
                ]),
            ),
            ("status", Node::map([("conditions", conditions())])),
        ]),
        ("policy/v1", "PodDisruptionBudget") => with_meta(vec![
            ("spec", Node::map([("selector", label_selector())])),
            ("status", Node::map([("conditions", conditions())])),
        ]),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => with_meta(vec![
            ("spec", Node::map([("metrics", Node::atomic_list())])),
            ("status", Node::map([("conditions", conditions())])),
        ]),
        _ => return None,
    };
    Some(MergeSchema {
        root,
        builtin: true,
    })
}

/// Replaces the `metadata` member of a custom resource's root with `ObjectMeta`'s schema, so
/// finalizers and owner references merge like they do on every kind.
pub(crate) fn with_object_meta(mut root: Node) -> Node {
    if root == Node::Deduced {
        root = Node::map([]);
    }
    if let Node::Map { fields, .. } = &mut root {
        fields.insert("metadata".into(), object_meta());
    }
    root
}
