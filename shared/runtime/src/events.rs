//! Events as Flux emits them: a Kubernetes Event (core/v1) on the object, and the same event as
//! JSON POSTed to notification-controller (`--events-addr`) for alerting.
//!
//! Posting is best effort: a few quick retries in the background, then the event is dropped, so
//! a missing notification-controller never slows a reconcile down. Callers must never put a
//! secret value in a message or in metadata.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event as KubeEvent, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use k8s_openapi::jiff::{Timestamp, Unit};
use kube::api::{Api, PostParams};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Error,
}

/// The payload notification-controller accepts (Flux's `event/v1beta1.Event`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FluxEvent {
    pub involved_object: ObjectReference,
    pub severity: Severity,
    pub timestamp: String,
    pub message: String,
    pub reason: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    pub reporting_controller: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reporting_instance: String,
}

#[derive(Clone)]
pub struct Recorder {
    client: kube::Client,
    controller: String,
    instance: String,
    events_url: Option<String>,
    http: reqwest::Client,
}

impl Recorder {
    /// `events_addr` is `--events-addr` (empty or `None` disables posting).
    pub fn new(client: kube::Client, controller: &str, events_addr: Option<&str>) -> Self {
        let instance = std::env::var("POD_NAME")
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_default();
        Recorder {
            client,
            controller: controller.to_string(),
            instance,
            events_url: events_addr.filter(|a| !a.is_empty()).map(|a| a.to_string()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Records one event. `metadata` keys are short (`revision`); on the Kubernetes Event they
    /// become annotations prefixed with the object's API group, as Flux writes them.
    pub async fn record(
        &self,
        object: &ObjectReference,
        severity: Severity,
        reason: &str,
        message: &str,
        metadata: BTreeMap<String, String>,
    ) {
        let now = Timestamp::now();
        let event = kube_event(
            object,
            severity,
            reason,
            message,
            &metadata,
            &self.controller,
            now,
        );
        let namespace = event
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let api: Api<KubeEvent> = Api::namespaced(self.client.clone(), &namespace);
        if let Err(err) = api.create(&PostParams::default(), &event).await {
            tracing::warn!(error = %err, reason, "failed to record Kubernetes event");
        }
        if let Some(url) = &self.events_url {
            let payload = FluxEvent {
                involved_object: object.clone(),
                severity,
                timestamp: now.round(Unit::Second).unwrap_or(now).to_string(),
                message: message.to_string(),
                reason: reason.to_string(),
                metadata,
                reporting_controller: self.controller.clone(),
                reporting_instance: self.instance.clone(),
            };
            tokio::spawn(post_with_retries(self.http.clone(), url.clone(), payload));
        }
    }
}

async fn post_with_retries(http: reqwest::Client, url: String, payload: FluxEvent) {
    let mut delay = Duration::from_millis(200);
    for attempt in 1..=3 {
        match http.post(&url).json(&payload).send().await {
            Ok(resp) if resp.status().is_success() => return,
            Ok(resp) if resp.status().is_client_error() => {
                tracing::debug!(status = %resp.status(), "event rejected by {url}");
                return;
            }
            Ok(_) | Err(_) if attempt < 3 => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            _ => {}
        }
    }
    tracing::debug!(reason = payload.reason, "dropped event: {url} unreachable");
}

/// The core/v1 Event for one occurrence, named like client-go names them.
pub fn kube_event(
    object: &ObjectReference,
    severity: Severity,
    reason: &str,
    message: &str,
    metadata: &BTreeMap<String, String>,
    controller: &str,
    now: Timestamp,
) -> KubeEvent {
    let group = object
        .api_version
        .as_deref()
        .and_then(|v| v.split_once('/').map(|(g, _)| g))
        .unwrap_or("");
    let annotations: BTreeMap<String, String> = metadata
        .iter()
        .map(|(k, v)| {
            let key = if group.is_empty() {
                k.clone()
            } else {
                format!("{group}/{k}")
            };
            (key, v.clone())
        })
        .collect();
    let name = format!(
        "{}.{:x}",
        object.name.as_deref().unwrap_or("object"),
        now.as_nanosecond()
    );
    KubeEvent {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(object.namespace.clone().unwrap_or_else(|| "default".into())),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        },
        involved_object: object.clone(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        type_: Some(
            match severity {
                Severity::Info => "Normal",
                Severity::Error => "Warning",
            }
            .to_string(),
        ),
        source: Some(EventSource {
            component: Some(controller.to_string()),
            host: None,
        }),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        event_time: Some(MicroTime(now)),
        count: Some(1),
        reporting_component: Some(controller.to_string()),
        reporting_instance: Some(controller.to_string()),
        action: Some(reason.to_string()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gitrepo() -> ObjectReference {
        ObjectReference {
            api_version: Some("source.toolkit.fluxcd.io/v1".into()),
            kind: Some("GitRepository".into()),
            name: Some("fleet".into()),
            namespace: Some("flux-system".into()),
            ..Default::default()
        }
    }

    #[test]
    fn kube_event_carries_group_prefixed_metadata_and_flux_type() {
        let mut meta = BTreeMap::new();
        meta.insert("revision".to_string(), "main@sha1:abc".to_string());
        let ev = kube_event(
            &gitrepo(),
            Severity::Error,
            "GitOperationFailed",
            "branch 'x' not found",
            &meta,
            "source-controller",
            Timestamp::now(),
        );
        assert_eq!(ev.type_.as_deref(), Some("Warning"));
        assert_eq!(ev.metadata.namespace.as_deref(), Some("flux-system"));
        assert!(
            ev.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("fleet."))
        );
        let ann = ev.metadata.annotations.expect("annotations");
        assert_eq!(
            ann.get("source.toolkit.fluxcd.io/revision")
                .map(String::as_str),
            Some("main@sha1:abc")
        );
        assert_eq!(
            ev.source.and_then(|s| s.component).as_deref(),
            Some("source-controller")
        );
    }

    #[test]
    fn flux_event_json_uses_flux_field_names() {
        let ev = FluxEvent {
            involved_object: gitrepo(),
            severity: Severity::Info,
            timestamp: "2026-01-01T00:00:00Z".into(),
            message: "stored artifact".into(),
            reason: "NewArtifact".into(),
            metadata: BTreeMap::from([("revision".to_string(), "main@sha1:abc".to_string())]),
            reporting_controller: "source-controller".into(),
            reporting_instance: String::new(),
        };
        let json = serde_json::to_value(&ev).expect("json");
        assert_eq!(json["severity"], "info");
        assert_eq!(json["involvedObject"]["kind"], "GitRepository");
        assert_eq!(json["metadata"]["revision"], "main@sha1:abc");
        assert_eq!(json["reportingController"], "source-controller");
        assert!(json.get("reportingInstance").is_none());
    }
}
