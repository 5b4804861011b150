//! notification.toolkit.fluxcd.io/v1beta3: Provider and Alert, static objects without status.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{Duration, LocalObjectReference, ShortDuration};
use crate::notification::v1::CrossNamespaceObjectReference;

fn is_false(b: &bool) -> bool {
    !*b
}

/// Which notification service a Provider talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderType {
    /// Slack
    Slack,
    /// Discord
    Discord,
    /// Microsoft Teams
    Msteams,
    /// Rocket.Chat
    Rocket,
    /// Generic webhook
    Generic,
    /// Generic webhook with HMAC signature
    #[serde(rename = "generic-hmac")]
    GenericHmac,
    /// GitHub commit status
    Github,
    /// GitLab commit status
    Gitlab,
    /// Gitea commit status
    Gitea,
    /// Bitbucket Server commit status
    Bitbucketserver,
    /// Bitbucket commit status
    Bitbucket,
    /// Azure DevOps commit status
    Azuredevops,
    /// Google Chat
    Googlechat,
    /// Google Pub/Sub
    Googlepubsub,
    /// Webex
    Webex,
    /// Sentry
    Sentry,
    /// Azure Event Hub
    Azureeventhub,
    /// Telegram
    Telegram,
    /// Lark
    Lark,
    /// Matrix
    Matrix,
    /// Opsgenie
    Opsgenie,
    /// Prometheus Alertmanager
    Alertmanager,
    /// Grafana annotations
    Grafana,
    /// GitHub repository dispatch
    Githubdispatch,
    /// PagerDuty
    Pagerduty,
    /// Datadog
    Datadog,
    /// NATS
    Nats,
    /// Zulip
    Zulip,
}

impl ProviderType {
    /// Whether the provider reports Git commit statuses (and supports `commitStatusExpr`).
    pub fn is_git_commit_status(&self) -> bool {
        matches!(
            self,
            ProviderType::Github
                | ProviderType::Gitlab
                | ProviderType::Gitea
                | ProviderType::Bitbucketserver
                | ProviderType::Bitbucket
                | ProviderType::Azuredevops
        )
    }
}

/// ProviderSpec defines the desired state of the Provider.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1beta3",
    kind = "Provider",
    plural = "providers",
    namespaced,
    derive = "PartialEq",
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    doc = "Provider is the Schema for the providers API"
)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSpec {
    /// Type specifies which Provider implementation to use.
    #[serde(rename = "type")]
    pub type_: ProviderType,
    /// Deprecated and not used in v1beta3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// Channel specifies the destination channel where events should be posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub channel: Option<String>,
    /// Username specifies the name under which events are posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub username: Option<String>,
    /// Address specifies the endpoint where alerts are sent (meaning depends on the type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub address: Option<String>,
    /// Timeout for sending alerts to the Provider, defaults to 15s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<ShortDuration>,
    /// Deprecated: use proxySecretRef. The HTTP/S address of the proxy server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), pattern(r"^(http|https)://.*$"))]
    pub proxy: Option<String>,
    /// ProxySecretRef specifies the Secret containing the proxy configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// SecretRef specifies the Secret containing the authentication credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// ServiceAccountName authenticates with cloud services through workload identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// CertSecretRef specifies the Secret containing TLS certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Suspend tells the controller to suspend subsequent events handling for this Provider.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
    /// CommitStatusExpr is a CEL expression producing a custom commit status (Git providers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_status_expr: Option<String>,
}

impl ProviderSpec {
    /// Warnings for deprecated fields present in the spec.
    pub fn deprecation_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.interval.is_some() {
            warnings.push("spec.interval is deprecated and not used by notification.toolkit.fluxcd.io/v1beta3 Providers".to_string());
        }
        if self.proxy.is_some() {
            warnings.push("spec.proxy is deprecated, use spec.proxySecretRef".to_string());
        }
        warnings
    }

    /// The effective timeout (15s when unset).
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .as_ref()
            .map(ShortDuration::to_std)
            .unwrap_or(std::time::Duration::from_secs(15))
    }

    /// Flux's CEL rule: `commitStatusExpr` only on Git commit status providers.
    pub fn validate(&self) -> Result<(), String> {
        if self.commit_status_expr.is_some() && !self.type_.is_git_commit_status() {
            return Err("spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops' provider types".to_string());
        }
        Ok(())
    }
}

/// Event severity filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventSeverity {
    /// All events.
    Info,
    /// Error events only.
    Error,
}

/// AlertSpec defines an alerting rule for events involving a list of objects.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1beta3",
    kind = "Alert",
    plural = "alerts",
    namespaced,
    derive = "PartialEq",
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    doc = "Alert is the Schema for the alerts API"
)]
#[serde(rename_all = "camelCase")]
pub struct AlertSpec {
    /// ProviderRef specifies which Provider this Alert should use.
    pub provider_ref: LocalObjectReference,
    /// EventSeverity filters events by severity, defaults to info (no filtering).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "info"))]
    pub event_severity: Option<EventSeverity>,
    /// EventSources filters events by involved object kind, name and namespace.
    pub event_sources: Vec<CrossNamespaceObjectReference>,
    /// InclusionList specifies Go regular expressions for including messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inclusion_list: Vec<String>,
    /// EventMetadata adds metadata to dispatched events (never overriding the emitter's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub event_metadata: BTreeMap<String, String>,
    /// ExclusionList specifies Go regular expressions for excluding messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusion_list: Vec<String>,
    /// Summary holds a short description of the impact and affected cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub summary: Option<String>,
    /// Suspend tells the controller to suspend subsequent events handling for this Alert.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
}

impl AlertSpec {
    /// The effective severity (info when unset).
    pub fn event_severity(&self) -> EventSeverity {
        self.event_severity.unwrap_or(EventSeverity::Info)
    }
}
