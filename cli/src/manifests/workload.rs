//! Per-controller ServiceAccount, Services and Deployment, hardened as Flux's are.

use serde_json::{Value, json};

use super::InstallOptions;
use super::components::ComponentSpec;

const METRICS_PORT: i32 = 8080;
const HEALTH_PORT: i32 = 9440;

/// The ServiceAccount, Services and Deployment of `spec`, in apply order.
pub fn objects(opts: &InstallOptions, spec: &ComponentSpec) -> Vec<Value> {
    let mut out = vec![service_account(opts, spec)];
    out.extend(
        spec.services
            .iter()
            .map(|svc| service(opts, spec, svc.name, svc.target_port)),
    );
    out.push(deployment(opts, spec));
    out
}

fn controller_labels(opts: &InstallOptions, spec: &ComponentSpec) -> Value {
    let mut labels = opts.component_labels(spec.name);
    labels.insert("control-plane".into(), json!("controller"));
    Value::Object(labels)
}

fn service_account(opts: &InstallOptions, spec: &ComponentSpec) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "labels": Value::Object(opts.component_labels(spec.name)),
            "name": spec.name,
            "namespace": opts.namespace,
        },
    })
}

fn service(opts: &InstallOptions, spec: &ComponentSpec, name: &str, target_port: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "labels": controller_labels(opts, spec),
            "name": name,
            "namespace": opts.namespace,
        },
        "spec": {
            "ports": [{ "name": "http", "port": 80, "protocol": "TCP", "targetPort": target_port }],
            "selector": { "app": spec.name },
            "type": "ClusterIP",
        },
    })
}

fn args(opts: &InstallOptions, spec: &ComponentSpec) -> Vec<String> {
    let mut args = Vec::new();
    if spec.sends_events {
        args.push(format!(
            "--events-addr=http://notification-controller.{}.svc.{}./",
            opts.namespace, opts.cluster_domain
        ));
    }
    args.push(format!(
        "--watch-all-namespaces={}",
        opts.watch_all_namespaces
    ));
    args.push(format!("--log-level={}", opts.log_level));
    args.push("--log-encoding=json".to_string());
    args.push("--enable-leader-election".to_string());
    match spec.name {
        "source-controller" => {
            args.push("--storage-path=/data".to_string());
            args.push(format!(
                "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.{}.",
                opts.cluster_domain
            ));
        }
        "image-reflector-controller" => args.push("--storage-path=/data".to_string()),
        _ => {}
    }
    args
}

fn deployment(opts: &InstallOptions, spec: &ComponentSpec) -> Value {
    let mut ports: Vec<Value> = spec
        .ports
        .iter()
        .map(|(name, port)| json!({ "containerPort": port, "name": name, "protocol": "TCP" }))
        .collect();
    ports.push(json!({ "containerPort": METRICS_PORT, "name": "http-prom", "protocol": "TCP" }));
    ports.push(json!({ "containerPort": HEALTH_PORT, "name": "healthz", "protocol": "TCP" }));

    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    if spec.data_volume {
        mounts.push(json!({ "mountPath": "/data", "name": "data" }));
        volumes.push(json!({ "emptyDir": {}, "name": "data" }));
    }
    // The root filesystem is read-only; controllers write scratch files to /tmp only.
    mounts.push(json!({ "mountPath": "/tmp", "name": "tmp" }));
    volumes.push(json!({ "emptyDir": {}, "name": "tmp" }));

    let mut pod_labels = opts.component_labels(spec.name);
    pod_labels.insert("app".into(), json!(spec.name));

    let strategy = if spec.recreate {
        json!({ "type": "Recreate" })
    } else {
        json!({ "type": "RollingUpdate" })
    };

    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "labels": controller_labels(opts, spec),
            "name": spec.name,
            "namespace": opts.namespace,
        },
        "spec": {
            "replicas": 1,
            "selector": { "matchLabels": { "app": spec.name } },
            "strategy": strategy,
            "template": {
                "metadata": {
                    "annotations": {
                        "prometheus.io/port": METRICS_PORT.to_string(),
                        "prometheus.io/scrape": "true",
                    },
                    "labels": Value::Object(pod_labels),
                },
                "spec": {
                    "containers": [{
                        "args": args(opts, spec),
                        "env": [
                            {
                                "name": "RUNTIME_NAMESPACE",
                                "valueFrom": { "fieldRef": { "fieldPath": "metadata.namespace" } },
                            },
                            // Size tokio's worker pool to the CPU limit (rounded up), not to
                            // the node's core count; Flux sets GOMAXPROCS the same way.
                            {
                                "name": "TOKIO_WORKER_THREADS",
                                "valueFrom": {
                                    "resourceFieldRef": { "containerName": "manager", "resource": "limits.cpu" },
                                },
                            },
                        ],
                        "image": format!("{}/{}:{}", opts.registry, spec.name, opts.version),
                        "imagePullPolicy": "IfNotPresent",
                        "livenessProbe": {
                            "httpGet": { "path": "/healthz", "port": "healthz" },
                        },
                        "name": "manager",
                        "ports": ports,
                        "readinessProbe": {
                            "httpGet": { "path": "/readyz", "port": "healthz" },
                        },
                        // Well under Flux's 1 CPU / 1Gi limits: flux-rs controllers are lean.
                        "resources": {
                            "limits": { "cpu": "500m", "memory": spec.memory_limit },
                            "requests": { "cpu": "25m", "memory": "32Mi" },
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "capabilities": { "drop": ["ALL"] },
                            "readOnlyRootFilesystem": true,
                            "runAsNonRoot": true,
                            "seccompProfile": { "type": "RuntimeDefault" },
                        },
                        "volumeMounts": mounts,
                    }],
                    "nodeSelector": { "kubernetes.io/os": "linux" },
                    // Lets a mounted cloud identity token be read by the non-root user.
                    "securityContext": { "fsGroup": 1337 },
                    "serviceAccountName": spec.name,
                    "terminationGracePeriodSeconds": spec.termination_grace_seconds,
                    "volumes": volumes,
                },
            },
        },
    })
}
