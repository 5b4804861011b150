//! Flux's NetworkPolicies for the install namespace: allow-egress, allow-scraping,
//! allow-webhooks.

use serde_json::{Value, json};

use super::InstallOptions;

pub fn network_policies(opts: &InstallOptions) -> Vec<Value> {
    let meta = |name: &str| {
        json!({
            "labels": Value::Object(opts.labels()),
            "name": name,
            "namespace": opts.namespace,
        })
    };
    vec![
        // Controllers reach anything outwards and each other inside the namespace.
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("allow-egress"),
            "spec": {
                "egress": [{}],
                "ingress": [{ "from": [{ "podSelector": {} }] }],
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
            },
        }),
        // Prometheus in any namespace may scrape the metrics port.
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("allow-scraping"),
            "spec": {
                "ingress": [{
                    "from": [{ "namespaceSelector": {} }],
                    "ports": [{ "port": 8080, "protocol": "TCP" }],
                }],
                "podSelector": {},
                "policyTypes": ["Ingress"],
            },
        }),
        // Git and registry webhooks reach notification-controller's receiver.
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("allow-webhooks"),
            "spec": {
                "ingress": [{ "from": [{ "namespaceSelector": {} }] }],
                "podSelector": { "matchLabels": { "app": "notification-controller" } },
                "policyTypes": ["Ingress"],
            },
        }),
    ]
}
