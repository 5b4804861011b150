//! notification.toolkit.fluxcd.io/v1: Receiver, and the object reference Alerts share.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{Condition, Duration, LocalObjectReference, ReconcileRequestStatus};

fn is_false(b: &bool) -> bool {
    !*b
}

/// Path prefix of Receiver webhooks.
pub const RECEIVER_WEBHOOK_PATH: &str = "/hook/";

/// Kinds an Alert or Receiver can reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ObjectKind {
    /// Bucket
    Bucket,
    /// GitRepository
    GitRepository,
    /// Kustomization
    Kustomization,
    /// HelmRelease
    HelmRelease,
    /// HelmChart
    HelmChart,
    /// HelmRepository
    HelmRepository,
    /// ImageRepository
    ImageRepository,
    /// ImagePolicy
    ImagePolicy,
    /// ImageUpdateAutomation
    ImageUpdateAutomation,
    /// OCIRepository
    OCIRepository,
    /// ArtifactGenerator (source-watcher)
    ArtifactGenerator,
    /// ExternalArtifact
    ExternalArtifact,
}

impl ObjectKind {
    /// The kind name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ObjectKind::Bucket => "Bucket",
            ObjectKind::GitRepository => "GitRepository",
            ObjectKind::Kustomization => "Kustomization",
            ObjectKind::HelmRelease => "HelmRelease",
            ObjectKind::HelmChart => "HelmChart",
            ObjectKind::HelmRepository => "HelmRepository",
            ObjectKind::ImageRepository => "ImageRepository",
            ObjectKind::ImagePolicy => "ImagePolicy",
            ObjectKind::ImageUpdateAutomation => "ImageUpdateAutomation",
            ObjectKind::OCIRepository => "OCIRepository",
            ObjectKind::ArtifactGenerator => "ArtifactGenerator",
            ObjectKind::ExternalArtifact => "ExternalArtifact",
        }
    }
}

/// CrossNamespaceObjectReference locates objects an Alert watches or a Receiver notifies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceObjectReference {
    /// API version of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent.
    pub kind: ObjectKind,
    /// Name of the referent; `*` targets every object of the kind.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the referent; `*` targets all namespaces (requires name `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub namespace: Option<String>,
    /// MatchLabels selects objects by label (requires name `*`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
}

/// Type of webhook sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverType {
    /// Token in the URL only.
    Generic,
    /// HMAC signature in the `X-Signature` header.
    #[serde(rename = "generic-hmac")]
    GenericHmac,
    /// OIDC bearer token.
    #[serde(rename = "generic-oidc")]
    GenericOidc,
    /// GitHub webhooks.
    Github,
    /// GitLab webhooks.
    Gitlab,
    /// Bitbucket Server webhooks.
    Bitbucket,
    /// Harbor webhooks.
    Harbor,
    /// Docker Hub webhooks.
    Dockerhub,
    /// Quay webhooks.
    Quay,
    /// Google Container Registry Pub/Sub push.
    Gcr,
    /// Nexus webhooks.
    Nexus,
    /// Azure Container Registry webhooks.
    Acr,
    /// CDEvents.
    Cdevents,
}

/// ReceiverSpec defines the desired state of the Receiver.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1",
    kind = "Receiver",
    plural = "receivers",
    namespaced,
    status = "ReceiverStatus",
    derive = "PartialEq",
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Status",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].message"
    ),
    doc = "Receiver is the Schema for the receivers API."
)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverSpec {
    /// Type of webhook sender, used to determine the validation procedure and payload.
    #[serde(rename = "type")]
    pub type_: ReceiverType,
    /// Interval at which to reconcile the Receiver with its Secret references, defaults to 10m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "10m"))]
    pub interval: Option<Duration>,
    /// Events specifies the list of event types to handle, e.g. 'push' for GitHub.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// A list of resources to be notified about changes.
    pub resources: Vec<CrossNamespaceObjectReference>,
    /// ResourceFilter is a CEL expression selecting which resources to notify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_filter: Option<String>,
    /// SecretRef specifies the Secret containing the token used to validate the payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// OIDCProviders authenticate `generic-oidc` requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oidc_providers: Vec<OidcProvider>,
    /// Suspend tells the controller to suspend subsequent events handling for this receiver.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
}

impl ReceiverSpec {
    /// Flux's CEL rules: generic-oidc receivers need oidcProviders, all others a secretRef.
    pub fn validate(&self) -> Result<(), String> {
        let oidc = self.type_ == ReceiverType::GenericOidc;
        if oidc && self.oidc_providers.is_empty() {
            return Err("generic-oidc receivers must define at least one oidcProvider".to_string());
        }
        if !oidc && !self.oidc_providers.is_empty() {
            return Err("oidcProviders can only be set when type is generic-oidc".to_string());
        }
        if !oidc && self.secret_ref.is_none() {
            return Err("secretRef is required when type is not generic-oidc".to_string());
        }
        Ok(())
    }

    /// The effective interval (10m when unset).
    pub fn interval(&self) -> std::time::Duration {
        self.interval
            .as_ref()
            .map(Duration::to_std)
            .unwrap_or(std::time::Duration::from_secs(600))
    }
}

/// OIDCProvider configures an OIDC issuer for a `generic-oidc` Receiver.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OidcProvider {
    /// IssuerURL is the OIDC issuer URL used for provider discovery.
    #[serde(rename = "issuerURL")]
    #[schemars(pattern(r"^https?://"))]
    pub issuer_url: String,
    /// Audience expected in tokens, defaults to 'notification-controller'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Named CEL expressions exposed as `vars.<name>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<OidcVariable>,
    /// CEL boolean expressions that must all hold.
    #[schemars(length(min = 1))]
    pub validations: Vec<OidcValidation>,
}

/// A named CEL expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OidcVariable {
    /// Variable name.
    pub name: String,
    /// CEL expression.
    pub expression: String,
}

/// A CEL validation with its failure message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OidcValidation {
    /// CEL boolean expression.
    pub expression: String,
    /// Message returned when the expression is false.
    pub message: String,
}

/// ReceiverStatus defines the observed state of the Receiver.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverStatus {
    /// The last handled reconcile request.
    #[serde(flatten)]
    pub reconcile_request: ReconcileRequestStatus,
    /// Conditions holds the conditions for the Receiver.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// WebhookPath is the generated incoming webhook address `/hook/sha256sum(token+name+namespace)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_path: Option<String>,
    /// ObservedGeneration is the last observed generation of the Receiver object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
