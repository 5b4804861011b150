//! Types shared by every Flux API group (fluxcd/pkg/apis/meta): references, artifacts, durations,
//! and the condition types and reasons the controllers report.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

/// Condition type: the object is fully reconciled (kstatus "Ready").
pub const READY: &str = "Ready";
/// Condition type: the controller is working on the object.
pub const RECONCILING: &str = "Reconciling";
/// Condition type: the reconciliation cannot progress without a spec change.
pub const STALLED: &str = "Stalled";
/// Condition type: the applied workloads passed their health checks.
pub const HEALTHY: &str = "Healthy";
/// Condition type: the stored artifact is outdated relative to the spec.
pub const ARTIFACT_OUTDATED: &str = "ArtifactOutdated";
/// Condition type: the artifact could not be stored.
pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";
/// Condition type: the source could not be fetched.
pub const FETCH_FAILED: &str = "FetchFailed";
/// Condition type: the artifact's signature or digest was verified.
pub const SOURCE_VERIFIED: &str = "SourceVerified";
/// Condition type: an include of a GitRepository is unavailable.
pub const INCLUDE_UNAVAILABLE: &str = "IncludeUnavailable";
/// Condition type: the artifact in storage is in the expected state.
pub const ARTIFACT_IN_STORAGE: &str = "ArtifactInStorage";
/// Condition type (HelmRelease): a Helm release was released.
pub const RELEASED: &str = "Released";
/// Condition type (HelmRelease): the Helm tests passed.
pub const TEST_SUCCESS: &str = "TestSuccess";
/// Condition type (HelmRelease): the release was remediated.
pub const REMEDIATED: &str = "Remediated";

/// Reason: the reconciliation succeeded.
pub const SUCCEEDED_REASON: &str = "Succeeded";
/// Reason: the reconciliation failed.
pub const FAILED_REASON: &str = "Failed";
/// Reason: the reconciliation is in progress.
pub const PROGRESSING_REASON: &str = "Progressing";
/// Reason: the reconciliation is in progress and retrying after a failure.
pub const PROGRESSING_WITH_RETRY_REASON: &str = "ProgressingWithRetry";
/// Reason: a dependency listed in `dependsOn` is not ready.
pub const DEPENDENCY_NOT_READY_REASON: &str = "DependencyNotReady";
/// Reason: Kustomization/HelmRelease reconciliation succeeded.
pub const RECONCILIATION_SUCCEEDED_REASON: &str = "ReconciliationSucceeded";
/// Reason: Kustomization/HelmRelease reconciliation failed.
pub const RECONCILIATION_FAILED_REASON: &str = "ReconciliationFailed";
/// Reason: health checks did not pass in time.
pub const HEALTH_CHECK_FAILED_REASON: &str = "HealthCheckFailed";
/// Reason: the source artifact could not be fetched.
pub const ARTIFACT_FAILED_REASON: &str = "ArtifactFailed";
/// Reason: building the manifests failed.
pub const BUILD_FAILED_REASON: &str = "BuildFailed";
/// Reason: the object is suspended.
pub const SUSPENDED_REASON: &str = "Suspended";
/// Reason: the spec references something invalid.
pub const INVALID_PATH_REASON: &str = "InvalidPath";
/// Reason: a referenced object or artifact could not be found.
pub const ARTIFACT_NOT_FOUND_REASON: &str = "ArtifactNotFound";
/// Reason: a cross-namespace reference was refused by `--no-cross-namespace-refs`.
pub const ACCESS_DENIED_REASON: &str = "AccessDenied";
/// Reason: the object was not found or its spec is invalid (e.g. a bad URL).
pub const INVALID_URL_REASON: &str = "InvalidURL";
/// Reason: authentication against the source failed.
pub const AUTHENTICATION_FAILED_REASON: &str = "AuthenticationFailed";
/// Reason: verification of a signature failed.
pub const VERIFICATION_ERROR_REASON: &str = "VerificationError";
/// Reason: a referenced Secret/ConfigMap is missing.
pub const SECRET_NOT_FOUND_REASON: &str = "SecretNotFound";

/// Annotation that requests an immediate reconciliation (value: any changing token).
pub const RECONCILE_REQUEST_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";
/// Annotation that forces a Helm release upgrade together with `requestedAt`.
pub const FORCE_REQUEST_ANNOTATION: &str = "reconcile.fluxcd.io/forceAt";
/// Annotation that resets the remediation retry counters of a HelmRelease.
pub const RESET_REQUEST_ANNOTATION: &str = "reconcile.fluxcd.io/resetAt";
/// Annotation that disables reconciliation of one object applied by Flux.
pub const RECONCILE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/reconcile";

/// Flux's pattern for intervals and most timeouts.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";
/// Flux's pattern for source timeouts, which exclude hours.
pub const SHORT_DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$";
/// Pattern of an artifact digest (`<algorithm>:<checksum>`).
pub const DIGEST_PATTERN: &str = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$";

/// A duration string that does not match Flux's duration pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {value:?}: expected a sequence of decimal numbers each with a unit of ms, s, m or h{hours}, e.g. \"1m30s\"", hours = if *.allow_hours { "" } else { " (hours not allowed)" })]
pub struct DurationError {
    /// The rejected text.
    pub value: String,
    /// Whether `h` units were allowed where the text appeared.
    pub allow_hours: bool,
}

/// Parses a Flux duration (`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`), e.g. `1m`, `1.5h`, `2m30s`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, DurationError> {
    parse_duration_with(text, true)
}

fn parse_duration_with(
    text: &str,
    allow_hours: bool,
) -> Result<std::time::Duration, DurationError> {
    let err = || DurationError {
        value: text.to_string(),
        allow_hours,
    };
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Err(err());
    }
    let mut total = 0f64;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(err());
        }
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            let frac = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i == frac {
                return Err(err());
            }
        }
        let number: f64 = text[start..i].parse().map_err(|_| err())?;
        let rest = &text[i..];
        let (unit_secs, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if allow_hours && rest.starts_with('h') {
            (3600.0, 1)
        } else {
            return Err(err());
        };
        total += number * unit_secs;
        i += len;
    }
    std::time::Duration::try_from_secs_f64(total).map_err(|_| err())
}

macro_rules! duration_type {
    ($(#[$doc:meta])* $name:ident, $pattern:expr, $hours:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps a duration string.
            pub fn new(text: impl Into<String>) -> Result<Self, DurationError> {
                let text = text.into();
                parse_duration_with(&text, $hours)?;
                Ok(Self(text))
            }

            /// The duration as written, e.g. `1m30s`.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The duration as a `std::time::Duration` (validated on construction).
            pub fn to_std(&self) -> std::time::Duration {
                parse_duration_with(&self.0, $hours).unwrap_or_default()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = DurationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::new(text).map_err(serde::de::Error::custom)
            }
        }

        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "pattern": $pattern })
            }
        }
    };
}

duration_type!(
    /// A Flux duration (`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`), kept as written so it round-trips.
    Duration,
    DURATION_PATTERN,
    true
);
duration_type!(
    /// A Flux source timeout (`^([0-9]+(\.[0-9]+)?(ms|s|m))+$`): like [`Duration`] without hours.
    ShortDuration,
    SHORT_DURATION_PATTERN,
    false
);

/// A reference to an object in the same namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalObjectReference {
    /// Name of the referent.
    pub name: String,
}

/// A reference to an object in any namespace (defaults to the referrer's).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedObjectReference {
    /// Name of the referent.
    pub name: String,
    /// Namespace of the referent, when not specified it acts as LocalObjectReference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A typed reference to an object in any namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedObjectKindReference {
    /// API version of the referent, if not specified the Kubernetes preferred version will be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent.
    pub kind: String,
    /// Name of the referent.
    pub name: String,
    /// Namespace of the referent, when not specified it acts as LocalObjectReference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A reference to a key of a Secret in the same namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyReference {
    /// Name of the Secret.
    pub name: String,
    /// Key in the Secret, when not specified an implementation-specific default key is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Where to find a kubeconfig for reconciling into a remote cluster.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubeConfigReference {
    /// Secret holding the kubeconfig (key `value` or `value.yaml` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyReference>,
    /// ConfigMap holding the cluster address and workload identity settings (Flux 2.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<LocalObjectReference>,
}

/// The output of a source reconciliation, served by source-controller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Relative file path of the Artifact in the storage.
    pub path: String,
    /// HTTP address of the Artifact as exposed by the controller.
    pub url: String,
    /// Human-readable identifier of the revision, e.g. `main@sha1:<commit>`.
    pub revision: String,
    /// Digest of the file, in the form `<algorithm>:<checksum>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"))]
    pub digest: Option<String>,
    /// Time the Artifact was last updated.
    pub last_update_time: Time,
    /// Size of the file in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// Free-form metadata of the Artifact (e.g. OCI annotations).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// The kind of object values or substitutions are read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ValuesKind {
    /// A Secret (values are base64-decoded).
    Secret,
    /// A ConfigMap.
    ConfigMap,
}

/// A reference to a key of a Secret or ConfigMap whose content is merged into values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValuesReference {
    /// Kind of the values referent.
    pub kind: ValuesKind,
    /// Name of the values referent, in the same namespace.
    #[schemars(
        length(min = 1, max = 253),
        pattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    )]
    pub name: String,
    /// Data key where the values.yaml or a specific value can be found, defaults to `values.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), pattern(r"^[\-._a-zA-Z0-9]+$"))]
    pub values_key: Option<String>,
    /// YAML-dot-notation path at which the value should be merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 250), pattern(r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$"))]
    pub target_path: Option<String>,
    /// Whether a missing referent or key is tolerated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// Reference to a resource by Kubernetes kind and name used in post-build substitutions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubstituteReference {
    /// Kind of the values referent.
    pub kind: ValuesKind,
    /// Name of the values referent, in the same namespace.
    #[schemars(
        length(min = 1, max = 253),
        pattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    )]
    pub name: String,
    /// Whether a missing referent is tolerated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// A cross-namespace access control list (not enforced by Flux, kept for compatibility).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessFrom {
    /// Namespace selectors allowed to reference this object.
    pub namespace_selectors: Vec<NamespaceSelector>,
}

/// Selects namespaces by label.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// Label key/value pairs a namespace must carry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
}

/// Selects Kubernetes objects, used by HelmRelease drift ignore rules and Kustomization patches.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// API group of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// API version of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Kind of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Label selector of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
    /// Annotation selector of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_selector: Option<String>,
}

/// A dependency on another object of the same kind, optionally gated on a CEL expression.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DependencyReference {
    /// Name of the referent.
    pub name: String,
    /// Namespace of the referent, defaults to the namespace of the object declaring it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// CEL expression that must evaluate to true on the dependency for it to count as ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_expr: Option<String>,
}

/// A custom health check expressed in CEL (Kustomization `healthCheckExprs`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomHealthCheck {
    /// API version of the custom resource.
    pub api_version: String,
    /// Kind of the custom resource.
    pub kind: String,
    /// CEL expression: the object is in progress while it is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<String>,
    /// CEL expression: the object has failed while it is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// CEL expression: the object is healthy when it is true.
    pub current: String,
}

/// The `reconcile.fluxcd.io/requestedAt` value last handled, inlined in most statuses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileRequestStatus {
    /// Last `reconcile.fluxcd.io/requestedAt` annotation value handled by the controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

/// One entry of a reconciliation history (`status.history`): what was applied, when and how it went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Checksum (`<algo>:<hex>`) of the resources in this snapshot; its identity.
    pub digest: String,
    /// When this revision was first reconciled to the cluster.
    pub first_reconciled: Time,
    /// When this revision was last reconciled to the cluster; the sort key of the history.
    pub last_reconciled: Time,
    /// How long the last reconciliation of this revision took (Go duration text).
    pub last_reconciled_duration: String,
    /// Status of the last reconciliation.
    pub last_reconciled_status: String,
    /// Number of reconciliations of this snapshot.
    pub total_reconciliations: i64,
    /// Reconciler-specific data such as revisions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// A strategic merge or JSON6902 patch with an optional target selector.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Patch {
    /// Content of the patch (YAML or JSON), strategic merge or JSON6902.
    pub patch: String,
    /// Target selects the objects the patch applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}

/// An image name, tag or digest override.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// Name is a tag-less image name.
    pub name: String,
    /// NewName is the value used to replace the original name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// NewTag is the value used to replace the original tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_tag: Option<String>,
    /// Digest is the value used to replace the original image tag; it takes precedence over NewTag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Schema of a free-form JSON value (Helm values, strategic merge patches): any JSON, kept as is.
pub fn preserve_unknown_fields(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "x-kubernetes-preserve-unknown-fields": true })
}

/// Finds the condition of `type_` in a list of conditions.
pub fn find_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the `Ready` condition is present with status `True`.
pub fn is_ready(conditions: &[Condition]) -> bool {
    find_condition(conditions, READY).is_some_and(|c| c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_duration_sums_compound_units() {
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("1.5s").unwrap().as_millis(), 1500);
        assert_eq!(parse_duration("250ms").unwrap().as_millis(), 250);
        assert_eq!(parse_duration("2m30s").unwrap().as_secs(), 150);
    }

    #[test]
    fn parse_duration_rejects_text_outside_flux_pattern() {
        for bad in ["", "1x", "1", "m", "1.m", "-1s", "1 m", "1d", "1us"] {
            let err = parse_duration(bad).unwrap_err();
            assert_eq!(err.value, bad);
            assert!(err.to_string().contains("invalid duration"), "{err}");
        }
    }

    #[test]
    fn short_duration_rejects_hours() {
        assert!(ShortDuration::new("1h").is_err());
        assert_eq!(ShortDuration::new("90s").unwrap().to_std().as_secs(), 90);
        assert_eq!(Duration::new("1h").unwrap().to_std().as_secs(), 3600);
    }

    #[test]
    fn duration_deserialize_error_names_the_value() {
        let err = serde_json::from_str::<Duration>("\"1x\"").unwrap_err();
        assert!(err.to_string().contains("\"1x\""), "{err}");
    }
}
