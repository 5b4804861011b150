//! notification.toolkit.fluxcd.io/v1beta2: Provider, Alert and Receiver, still served (deprecated).
//!
//! The v1beta2 specs are the current specs (plus nothing v1beta2 had that was dropped), and
//! Provider and Alert still carry the status v1beta3 removed.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{Condition, ReconcileRequestStatus};
use crate::notification::{v1, v1beta3};

/// Status of v1beta2 Providers and Alerts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationStatus {
    /// The last handled reconcile request.
    #[serde(flatten)]
    pub reconcile_request: ReconcileRequestStatus,
    /// Conditions of the object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// ObservedGeneration is the last reconciled generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// ProviderSpec (v1beta2), the v1beta3 fields.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "Provider",
    plural = "providers",
    namespaced,
    status = "NotificationStatus",
    derive = "PartialEq",
    storage = false,
    deprecated = "v1beta2 Provider is deprecated, upgrade to v1beta3",
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
    doc = "Provider is the Schema for the providers API."
)]
pub struct ProviderSpec {
    /// The fields shared with v1beta3.
    #[serde(flatten)]
    pub base: v1beta3::ProviderSpec,
}

/// AlertSpec (v1beta2), the v1beta3 fields.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "Alert",
    plural = "alerts",
    namespaced,
    status = "NotificationStatus",
    derive = "PartialEq",
    storage = false,
    deprecated = "v1beta2 Alert is deprecated, upgrade to v1beta3",
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
    doc = "Alert is the Schema for the alerts API"
)]
pub struct AlertSpec {
    /// The fields shared with v1beta3.
    #[serde(flatten)]
    pub base: v1beta3::AlertSpec,
}

/// ReceiverSpec (v1beta2), the v1 fields.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "Receiver",
    plural = "receivers",
    namespaced,
    status = "v1::ReceiverStatus",
    derive = "PartialEq",
    storage = false,
    deprecated = "v1beta2 Receiver is deprecated, upgrade to v1",
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
pub struct ReceiverSpec {
    /// The fields shared with v1.
    #[serde(flatten)]
    pub base: v1::ReceiverSpec,
}
