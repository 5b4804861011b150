//! helm.toolkit.fluxcd.io/v2 HelmRelease.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{
    Condition, DependencyReference, Duration, Image, KubeConfigReference, LocalObjectReference,
    Patch, ReconcileRequestStatus, Selector, ValuesReference, preserve_unknown_fields,
};
use crate::source::v1::VerificationProvider;

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Finalizer set on HelmReleases so the release is uninstalled on deletion.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

/// HelmReleaseSpec defines the desired state of a Helm release.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "helm.toolkit.fluxcd.io",
    version = "v2",
    kind = "HelmRelease",
    plural = "helmreleases",
    namespaced,
    status = "HelmReleaseStatus",
    derive = "PartialEq",
    shortname = "hr",
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
    doc = "HelmRelease is the Schema for the helmreleases API"
)]
#[serde(rename_all = "camelCase")]
pub struct HelmReleaseSpec {
    /// Chart defines the template of the HelmChart that should be created for this HelmRelease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<HelmChartTemplate>,
    /// ChartRef holds a reference to a source-controller resource containing the chart artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_ref: Option<CrossNamespaceSourceReference>,
    /// Interval at which to reconcile the Helm release.
    pub interval: Duration,
    /// KubeConfig for reconciling the HelmRelease on a remote cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_config: Option<KubeConfigReference>,
    /// Suspend tells the controller to suspend reconciliation for this HelmRelease.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
    /// ReleaseName used for the Helm release, defaults to '[TargetNamespace-]Name'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 53))]
    pub release_name: Option<String>,
    /// TargetNamespace to target when performing operations, defaults to the HelmRelease namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub target_namespace: Option<String>,
    /// StorageNamespace used for the Helm storage, defaults to the HelmRelease namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub storage_namespace: Option<String>,
    /// DependsOn lists HelmReleases that must be ready before this one is reconciled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<DependencyReference>,
    /// Timeout for any individual Kubernetes operation during a Helm action, defaults to 5m0s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// MaxHistory is the number of revisions saved by Helm, 0 for unlimited; defaults to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_history: Option<i64>,
    /// The name of the Kubernetes service account to impersonate when reconciling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub service_account_name: Option<String>,
    /// PersistentClient reuses one Kubernetes client for the whole reconciliation (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_client: Option<bool>,
    /// DriftDetection configures detection and correction of cluster drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_detection: Option<DriftDetection>,
    /// Install holds the configuration for Helm install actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<Install>,
    /// Upgrade holds the configuration for Helm upgrade actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Upgrade>,
    /// Test holds the configuration for Helm test actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Test>,
    /// Rollback holds the configuration for Helm rollback actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
    /// Uninstall holds the configuration for Helm uninstall actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uninstall: Option<Uninstall>,
    /// ValuesFrom holds references to resources containing Helm values, merged in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values_from: Vec<ValuesReference>,
    /// Values holds the values for this Helm release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_fields")]
    pub values: Option<serde_json::Value>,
    /// PostRenderers holds Helm post-renderers, applied in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_renderers: Vec<PostRenderer>,
    /// CommonMetadata specifies labels and annotations applied to all rendered resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_metadata: Option<crate::kustomize::v1::CommonMetadata>,
    /// HealthCheckExprs evaluates the health of custom resources with CEL (poller wait strategy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health_check_exprs: Vec<crate::meta::CustomHealthCheck>,
    /// WaitStrategy selects how Helm waits for applied resources to become ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_strategy: Option<WaitStrategy>,
}

/// Helm's strategy for waiting on applied resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WaitStrategyName {
    /// kstatus polling (default).
    Poller,
    /// Helm v3's waiting logic.
    Legacy,
}

/// WaitStrategy defines Helm's wait strategy for applied resources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitStrategy {
    /// Name of the strategy.
    pub name: WaitStrategyName,
}

/// Server-side apply mode of upgrades and rollbacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServerSideApplyMode {
    /// Always use server-side apply.
    Enabled,
    /// Never use server-side apply.
    Disabled,
    /// Follow the previous release (default).
    Auto,
}

impl HelmReleaseSpec {
    /// Warnings for deprecated fields present in the spec.
    pub fn deprecation_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.install.as_ref().is_some_and(|i| i.skip_crds) {
            warnings.push(
                "spec.install.skipCRDs is deprecated, use spec.install.crds: Skip".to_string(),
            );
        }
        if self
            .chart
            .as_ref()
            .is_some_and(|c| c.spec.values_file.is_some())
        {
            warnings.push(
                "spec.chart.spec.valuesFile is deprecated, use spec.chart.spec.valuesFiles"
                    .to_string(),
            );
        }
        for (i, pr) in self.post_renderers.iter().enumerate() {
            let Some(k) = &pr.kustomize else { continue };
            if !k.patches_strategic_merge.is_empty() {
                warnings.push(format!("spec.postRenderers[{i}].kustomize.patchesStrategicMerge is deprecated, use patches"));
            }
            if !k.patches_json6902.is_empty() {
                warnings.push(format!(
                    "spec.postRenderers[{i}].kustomize.patchesJson6902 is deprecated, use patches"
                ));
            }
        }
        warnings
    }

    /// The effective timeout (5m when unset).
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .as_ref()
            .map(Duration::to_std)
            .unwrap_or(std::time::Duration::from_secs(300))
    }

    /// The effective max history (5 when unset, 0 meaning unlimited).
    pub fn max_history(&self) -> i64 {
        self.max_history.unwrap_or(5)
    }

    /// Exactly one of `chart` and `chartRef` must be set (Flux's CEL rule).
    pub fn validate(&self) -> Result<(), String> {
        match (&self.chart, &self.chart_ref) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err("spec: either chart or chartRef must be set".to_string()),
        }
    }
}

impl HelmRelease {
    /// The Helm release name: `spec.releaseName`, else `[targetNamespace-]name`.
    pub fn release_name(&self) -> String {
        if let Some(n) = self.spec.release_name.as_deref().filter(|n| !n.is_empty()) {
            return n.to_string();
        }
        let name = self.metadata.name.clone().unwrap_or_default();
        match self
            .spec
            .target_namespace
            .as_deref()
            .filter(|n| !n.is_empty())
        {
            Some(ns) => format!("{ns}-{name}"),
            None => name,
        }
    }

    /// The namespace the release is installed into.
    pub fn release_namespace(&self) -> String {
        self.spec
            .target_namespace
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| self.metadata.namespace.clone())
            .unwrap_or_default()
    }

    /// The name of the HelmChart the controller creates: `<namespace>-<name>`.
    pub fn helm_chart_name(&self) -> String {
        format!(
            "{}-{}",
            self.metadata.namespace.as_deref().unwrap_or_default(),
            self.metadata.name.as_deref().unwrap_or_default()
        )
    }
}

/// Kind of source a HelmRelease's `chartRef` points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ChartRefKind {
    /// An OCIRepository holding a chart.
    OCIRepository,
    /// A HelmChart.
    HelmChart,
    /// An ExternalArtifact (Flux 2.7).
    ExternalArtifact,
}

/// CrossNamespaceSourceReference locates the chart artifact of `chartRef`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceSourceReference {
    /// API version of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent.
    pub kind: ChartRefKind,
    /// Name of the referent.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the referent, defaults to the namespace of the HelmRelease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// Kind of source a chart template points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ChartSourceKind {
    /// A HelmRepository.
    HelmRepository,
    /// A GitRepository.
    GitRepository,
    /// A Bucket.
    Bucket,
}

/// CrossNamespaceObjectReference locates the source of a chart template.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceObjectReference {
    /// API version of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent.
    pub kind: ChartSourceKind,
    /// Name of the referent.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// HelmChartTemplate defines the HelmChart the controller generates for the release.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplate {
    /// ObjectMeta holds the template for labels and annotations.
    #[serde(default, rename = "metadata", skip_serializing_if = "Option::is_none")]
    pub object_meta: Option<HelmChartTemplateObjectMeta>,
    /// Spec holds the template for the HelmChartSpec.
    pub spec: HelmChartTemplateSpec,
}

/// Labels and annotations of the generated HelmChart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplateObjectMeta {
    /// Labels of the HelmChart.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations of the HelmChart.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// HelmChartTemplateSpec defines the template of the generated HelmChartSpec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplateSpec {
    /// The name or path the Helm chart is available at in the SourceRef.
    #[schemars(length(min = 1, max = 2048))]
    pub chart: String,
    /// Version semver expression, defaults to latest (`*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "*"))]
    pub version: Option<String>,
    /// The name and namespace of the source the chart is available at.
    pub source_ref: CrossNamespaceObjectReference,
    /// Interval at which to check the source for updates, defaults to the release interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// Determines what enables the creation of a new artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "ChartVersion"))]
    pub reconcile_strategy: Option<crate::source::v1::ReconcileStrategy>,
    /// Alternative list of values files to use as the chart values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values_files: Vec<String>,
    /// Deprecated alternative values file, merged before ValuesFiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_file: Option<String>,
    /// IgnoreMissingValuesFiles silently ignores missing values files.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ignore_missing_values_files: bool,
    /// Verify contains the signature verification settings (OCI sources only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<HelmChartTemplateVerification>,
}

/// HelmChartTemplateVerification verifies the authenticity of an OCI Helm chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplateVerification {
    /// Provider specifies the technology used to sign the OCI Helm chart.
    #[schemars(extend("default" = "cosign"))]
    pub provider: VerificationProvider,
    /// SecretRef specifies the Kubernetes Secret containing the trusted public keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

/// How drift between the Helm manifest and the cluster is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DriftDetectionMode {
    /// Detect and correct drift with an upgrade.
    Enabled,
    /// Detect drift and emit a warning.
    Warn,
    /// Do not detect drift (default).
    Disabled,
}

/// IgnoreRule disregards specific changes during drift detection.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreRule {
    /// Paths is a list of JSON Pointer (RFC 6901) paths to be excluded.
    pub paths: Vec<String>,
    /// Target selects the objects this rule applies to (all when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}

/// DriftDetection configures drift detection and the rules to ignore changes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftDetection {
    /// Mode defines how differences are handled, defaults to disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<DriftDetectionMode>,
    /// Ignore contains rules for changes to ignore during diffing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<IgnoreRule>,
}

impl DriftDetection {
    /// The effective mode (`disabled` when unset).
    pub fn mode(&self) -> DriftDetectionMode {
        self.mode.unwrap_or(DriftDetectionMode::Disabled)
    }
}

/// CRD install/upgrade policy of a Helm action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum CrdsPolicy {
    /// Neither install nor replace CRDs.
    Skip,
    /// Create new CRDs, leave existing ones.
    Create,
    /// Create new CRDs and replace existing ones.
    CreateReplace,
}

/// What the controller does after a failed install or upgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ActionStrategyName {
    /// Remediate (uninstall or rollback) according to `remediation` (default).
    RemediateOnFailure,
    /// Retry the action after `retryInterval` without remediating.
    RetryOnFailure,
}

/// The strategy of an install or upgrade action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionStrategy {
    /// Name of the strategy.
    pub name: ActionStrategyName,
    /// RetryInterval between retries with RetryOnFailure, defaults to the release interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_interval: Option<Duration>,
}

/// Install holds the configuration for Helm install actions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Install {
    /// Timeout of each Kubernetes operation of the install, defaults to the release timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Remediation configures what happens when the install fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<InstallRemediation>,
    /// Strategy on failure (Flux 2.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<ActionStrategy>,
    /// DisableTakeOwnership disables taking ownership of existing resources during install.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_take_ownership: bool,
    /// ServerSideApply enables server-side apply during install (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<bool>,
    /// DisableWait disables waiting for resources to be ready after the install.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_wait: bool,
    /// DisableWaitForJobs disables waiting for jobs to complete after the install.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_wait_for_jobs: bool,
    /// DisableHooks prevents hooks from running during the install.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_hooks: bool,
    /// DisableOpenAPIValidation skips validating rendered templates against the OpenAPI schema.
    #[serde(
        default,
        rename = "disableOpenAPIValidation",
        skip_serializing_if = "is_false"
    )]
    pub disable_openapi_validation: bool,
    /// DisableSchemaValidation skips validating values against the chart's JSON schema.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_schema_validation: bool,
    /// Replace re-uses the release name if it is a deleted release still in history.
    #[serde(default, skip_serializing_if = "is_false")]
    pub replace: bool,
    /// Deprecated: use `crds: Skip`.
    #[serde(default, rename = "skipCRDs", skip_serializing_if = "is_false")]
    pub skip_crds: bool,
    /// CRDs policy of the install, defaults to Create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crds: Option<CrdsPolicy>,
    /// CreateNamespace creates the target namespace if it does not exist.
    #[serde(default, skip_serializing_if = "is_false")]
    pub create_namespace: bool,
}

/// InstallRemediation holds the configuration for Helm install remediation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstallRemediation {
    /// Retries before bailing, negative for unlimited; defaults to 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: i64,
    /// IgnoreTestFailures skips remediation when tests fail after install.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_test_failures: Option<bool>,
    /// RemediateLastFailure remediates the last failure when no retries remain (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediate_last_failure: Option<bool>,
}

/// Remediation strategy of a failed upgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RemediationStrategy {
    /// Roll back to the last successful release.
    Rollback,
    /// Uninstall the release.
    Uninstall,
}

/// Upgrade holds the configuration for Helm upgrade actions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Upgrade {
    /// Timeout of each Kubernetes operation of the upgrade, defaults to the release timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Remediation configures what happens when the upgrade fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<UpgradeRemediation>,
    /// Strategy on failure (Flux 2.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<ActionStrategy>,
    /// DisableTakeOwnership disables taking ownership of existing resources during upgrade.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_take_ownership: bool,
    /// ServerSideApply mode of the upgrade, defaults to auto.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<ServerSideApplyMode>,
    /// DisableWait disables waiting for resources to be ready after the upgrade.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_wait: bool,
    /// DisableWaitForJobs disables waiting for jobs to complete after the upgrade.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_wait_for_jobs: bool,
    /// DisableHooks prevents hooks from running during the upgrade.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_hooks: bool,
    /// DisableOpenAPIValidation skips validating rendered templates against the OpenAPI schema.
    #[serde(
        default,
        rename = "disableOpenAPIValidation",
        skip_serializing_if = "is_false"
    )]
    pub disable_openapi_validation: bool,
    /// DisableSchemaValidation skips validating values against the chart's JSON schema.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_schema_validation: bool,
    /// Force forces resource updates through a replacement strategy.
    #[serde(default, skip_serializing_if = "is_false")]
    pub force: bool,
    /// PreserveValues reuses the last release's values and merges in overrides.
    #[serde(default, skip_serializing_if = "is_false")]
    pub preserve_values: bool,
    /// CleanupOnFail deletes new resources created during a failed upgrade.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cleanup_on_fail: bool,
    /// CRDs policy of the upgrade, defaults to Skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crds: Option<CrdsPolicy>,
}

/// UpgradeRemediation holds the configuration for Helm upgrade remediation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeRemediation {
    /// Retries before bailing, negative for unlimited; defaults to 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: i64,
    /// IgnoreTestFailures skips remediation when tests fail after upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_test_failures: Option<bool>,
    /// RemediateLastFailure remediates the last failure (default: true when retries > 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediate_last_failure: Option<bool>,
    /// Strategy to use for failure remediation, defaults to rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RemediationStrategy>,
}

impl UpgradeRemediation {
    /// Whether to remediate the last failure (Flux: defaults to `retries > 0`).
    pub fn remediate_last_failure(&self) -> bool {
        self.remediate_last_failure.unwrap_or(self.retries > 0)
    }

    /// The effective strategy (rollback when unset).
    pub fn strategy(&self) -> RemediationStrategy {
        self.strategy.unwrap_or(RemediationStrategy::Rollback)
    }
}

/// Test holds the configuration for Helm test actions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Test {
    /// Enable runs Helm tests after an install or upgrade.
    #[serde(default, skip_serializing_if = "is_false")]
    pub enable: bool,
    /// Timeout of each Kubernetes operation of the test, defaults to the release timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// IgnoreFailures skips remediation when the tests fail.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ignore_failures: bool,
    /// Filters is a list of tests to run or exclude from running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
}

/// Filter selects or excludes one Helm test.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Name is the name of the test.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Exclude specifies whether the named test should be excluded.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exclude: bool,
}

/// Rollback holds the configuration for Helm rollback actions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rollback {
    /// Timeout of each Kubernetes operation of the rollback, defaults to the release timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// DisableWait disables waiting for resources to be ready after the rollback.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_wait: bool,
    /// DisableWaitForJobs disables waiting for jobs to complete after the rollback.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_wait_for_jobs: bool,
    /// DisableHooks prevents hooks from running during the rollback.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_hooks: bool,
    /// Recreate performs pod restarts for the resource if applicable.
    #[serde(default, skip_serializing_if = "is_false")]
    pub recreate: bool,
    /// Force forces resource updates through a replacement strategy.
    #[serde(default, skip_serializing_if = "is_false")]
    pub force: bool,
    /// CleanupOnFail deletes new resources created during a failed rollback.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cleanup_on_fail: bool,
    /// ServerSideApply mode of the rollback, defaults to auto.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<ServerSideApplyMode>,
}

/// Deletion propagation of an uninstall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeletionPropagation {
    /// Background deletion (default).
    Background,
    /// Foreground deletion.
    Foreground,
    /// Orphan dependents.
    Orphan,
}

/// Uninstall holds the configuration for Helm uninstall actions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Uninstall {
    /// Timeout of each Kubernetes operation of the uninstall, defaults to the release timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// DisableHooks prevents hooks from running during the uninstall.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_hooks: bool,
    /// KeepHistory retains the release history.
    #[serde(default, skip_serializing_if = "is_false")]
    pub keep_history: bool,
    /// DisableWait disables waiting for all the resources to be deleted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_wait: bool,
    /// DeletionPropagation of the uninstall, defaults to background.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "background"))]
    pub deletion_propagation: Option<DeletionPropagation>,
}

/// A deprecated JSON6902 patch with its target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Json6902Patch {
    /// Patch contains the JSON6902 patch document.
    pub patch: Vec<JsonPatchOperation>,
    /// Target points to the resources the patch applies to.
    pub target: Selector,
}

/// One RFC 6902 operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsonPatchOperation {
    /// Op is the operation: add, remove, replace, move, copy or test.
    pub op: JsonPatchOp,
    /// Path is the JSON pointer of the target location.
    pub path: String,
    /// From is the source location of move and copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Value is the operand of add, replace and test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_fields")]
    pub value: Option<serde_json::Value>,
}

/// RFC 6902 operation name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JsonPatchOp {
    /// add
    Add,
    /// remove
    Remove,
    /// replace
    Replace,
    /// move
    Move,
    /// copy
    Copy,
    /// test
    Test,
}

/// Kustomize post-renderer specification.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Kustomize {
    /// Strategic merge and JSON patches targeting objects by selectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<Patch>,
    /// Deprecated strategic merge patches, inline objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "preserve_unknown_list")]
    pub patches_strategic_merge: Vec<serde_json::Value>,
    /// Deprecated JSON 6902 patches.
    #[serde(
        default,
        rename = "patchesJson6902",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub patches_json6902: Vec<Json6902Patch>,
    /// Images overrides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
}

fn preserve_unknown_list(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": { "x-kubernetes-preserve-unknown-fields": true }
    })
}

/// PostRenderer contains a Helm post-renderer specification.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostRenderer {
    /// Kustomization to apply as post-renderer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kustomize: Option<Kustomize>,
}

/// The last release action attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseAction {
    /// helm install
    Install,
    /// helm upgrade
    Upgrade,
}

/// Status of a Helm test hook.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestHookStatus {
    /// When the test started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_started: Option<Time>,
    /// When the test completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_completed: Option<Time>,
    /// Phase of the test hook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

/// A Helm release as recorded in `status.history`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Action that resulted in this snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// API version of the snapshot format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Digest of the release object in storage.
    pub digest: String,
    /// Name of the release.
    pub name: String,
    /// Namespace of the release.
    pub namespace: String,
    /// Version (revision) of the release.
    pub version: i64,
    /// Status of the release.
    pub status: String,
    /// Name of the chart.
    pub chart_name: String,
    /// Version of the chart.
    pub chart_version: String,
    /// AppVersion of the chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// Digest of the values of the release.
    pub config_digest: String,
    /// When the release was first deployed.
    pub first_deployed: Time,
    /// When the release was last deployed.
    pub last_deployed: Time,
    /// When the release was deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Time>,
    /// Test hooks of the release and their status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_hooks: Option<BTreeMap<String, TestHookStatus>>,
    /// Digest of the OCI artifact the chart came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci_digest: Option<String>,
}

/// HelmReleaseStatus defines the observed state of a HelmRelease.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmReleaseStatus {
    /// ObservedGeneration is the last observed generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// LastAttemptedGeneration is the last generation the controller attempted to reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_generation: Option<i64>,
    /// Conditions holds the conditions for the HelmRelease.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// HelmChart is the `<namespace>/<name>` of the HelmChart created for the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_chart: Option<String>,
    /// StorageNamespace is the namespace of the Helm release storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_namespace: Option<String>,
    /// History of Helm releases, newest first, up to the last successful one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Snapshot>,
    /// LastAttemptedReleaseAction is the last release action performed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_release_action: Option<ReleaseAction>,
    /// Failures is the reconciliation failure count against the latest desired state.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failures: i64,
    /// InstallFailures is the install failure count.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub install_failures: i64,
    /// UpgradeFailures is the upgrade failure count.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub upgrade_failures: i64,
    /// Deprecated: the revision can be found in the history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
    /// LastAttemptedRevision is the source revision of the last reconciliation attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    /// LastAttemptedRevisionDigest is the digest of the last attempt (OCI sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision_digest: Option<String>,
    /// Deprecated: use lastAttemptedConfigDigest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_values_checksum: Option<String>,
    /// Deprecated: use history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_release_revision: Option<i64>,
    /// LastAttemptedConfigDigest is the digest of the values of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_config_digest: Option<String>,
    /// LastHandledForceAt holds the last handled force request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_force_at: Option<String>,
    /// LastHandledResetAt holds the last handled reset request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reset_at: Option<String>,
    /// LastAttemptedReleaseActionDuration is the duration of the last release action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_release_action_duration: Option<String>,
    /// ObservedPostRenderersDigest is the digest of the post-renderers of the last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_post_renderers_digest: Option<String>,
    /// ObservedCommonMetadataDigest is the digest of the common metadata of the last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_common_metadata_digest: Option<String>,
    /// Inventory of the objects applied for this release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<crate::kustomize::v1::ResourceInventory>,
    /// The last handled reconcile request.
    #[serde(flatten)]
    pub reconcile_request: ReconcileRequestStatus,
}
