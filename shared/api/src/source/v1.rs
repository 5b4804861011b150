//! source.toolkit.fluxcd.io/v1, the storage version of every source kind.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{
    AccessFrom, Artifact, Condition, Duration, LocalObjectReference, ReconcileRequestStatus,
    ShortDuration,
};

fn is_false(b: &bool) -> bool {
    !*b
}

// ---------------------------------------------------------------- GitRepository

/// Authentication provider of a GitRepository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GitProvider {
    /// Credentials from `secretRef`.
    Generic,
    /// AWS CodeCommit with IAM credentials.
    Aws,
    /// Azure DevOps with managed identity.
    Azure,
    /// GitHub App authentication.
    Github,
}

/// GitRepositorySpec specifies the required configuration to produce an Artifact for a Git repository.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "GitRepository",
    plural = "gitrepositories",
    namespaced,
    status = "GitRepositoryStatus",
    derive = "PartialEq",
    shortname = "gitrepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
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
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    doc = "GitRepository is the Schema for the gitrepositories API."
)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositorySpec {
    /// URL specifies the Git repository URL, it can be an HTTP/S or SSH address.
    // flux-rs also accepts read-only git:// (`git daemon`) URLs, which Flux's CRD refuses.
    #[schemars(pattern(r"^(http|https|ssh|git)://.*$"))]
    pub url: String,
    /// SecretRef specifies the Secret containing authentication credentials for the GitRepository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Provider used for authentication, can be 'aws', 'azure', 'github', 'generic'. Defaults to 'generic'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<GitProvider>,
    /// ServiceAccountName is the Kubernetes ServiceAccount used to authenticate ('azure' and 'aws' providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Interval at which the GitRepository URL is checked for updates.
    pub interval: Duration,
    /// Timeout for Git operations like cloning, defaults to 60s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "60s"))]
    pub timeout: Option<ShortDuration>,
    /// Reference specifies the Git reference to resolve and monitor for changes, defaults to the 'master' branch.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<GitRepositoryRef>,
    /// Verification specifies the configuration to verify the Git commit signature(s).
    #[serde(default, rename = "verify", skip_serializing_if = "Option::is_none")]
    pub verification: Option<GitRepositoryVerification>,
    /// ProxySecretRef specifies the Secret containing the proxy configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// Ignore overrides the set of excluded patterns in the .sourceignore format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Suspend tells the controller to suspend the reconciliation of this GitRepository.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
    /// RecurseSubmodules enables the initialization of all submodules within the GitRepository.
    #[serde(default, skip_serializing_if = "is_false")]
    pub recurse_submodules: bool,
    /// Include specifies a list of GitRepository resources which Artifacts should be included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<GitRepositoryInclude>,
    /// SparseCheckout specifies a list of directories to checkout when cloning the repository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sparse_checkout: Vec<String>,
}

impl GitRepositorySpec {
    /// The effective timeout (60s when unset).
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .as_ref()
            .map(ShortDuration::to_std)
            .unwrap_or(std::time::Duration::from_secs(60))
    }

    /// The effective provider (`generic` when unset).
    pub fn provider(&self) -> GitProvider {
        self.provider.unwrap_or(GitProvider::Generic)
    }

    /// Flux's CEL rule: `serviceAccountName` only with the azure or aws provider.
    pub fn validate(&self) -> Result<(), String> {
        if self.service_account_name.is_some()
            && !matches!(self.provider, Some(GitProvider::Azure | GitProvider::Aws))
        {
            return Err(
                "serviceAccountName can only be set when provider is 'azure' or 'aws'".to_string(),
            );
        }
        Ok(())
    }
}

/// GitRepositoryInclude specifies a local reference to a GitRepository whose Artifact is included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryInclude {
    /// GitRepositoryRef specifies the GitRepository which Artifact contents must be included.
    pub repository: LocalObjectReference,
    /// FromPath specifies the path to copy contents from, defaults to the root of the Artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_path: Option<String>,
    /// ToPath specifies the path to copy contents to, defaults to the name of the GitRepositoryRef.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_path: Option<String>,
}

impl GitRepositoryInclude {
    /// The destination path, falling back to the included repository's name.
    pub fn to_path(&self) -> &str {
        self.to_path
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or(&self.repository.name)
    }
}

/// GitRepositoryRef specifies the Git reference to resolve and checkout.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryRef {
    /// Branch to check out, defaults to 'master' if no other field is defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Tag to check out, takes precedence over Branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// SemVer tag expression to check out, takes precedence over Tag.
    #[serde(default, rename = "semver", skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
    /// Name of the reference to check out; takes precedence over Branch, Tag and SemVer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Commit SHA to check out, takes precedence over all reference fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// Which Git object(s) are verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum GitVerificationMode {
    /// Legacy spelling of `HEAD`.
    #[serde(rename = "head")]
    LegacyHead,
    /// The commit HEAD points to.
    #[serde(rename = "HEAD")]
    Head,
    /// The tag object of the checkout.
    Tag,
    /// Both the tag and the commit it points to.
    TagAndHEAD,
}

/// GitRepositoryVerification specifies the Git commit signature verification strategy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryVerification {
    /// Mode specifies which Git object(s) should be verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "HEAD"))]
    pub mode: Option<GitVerificationMode>,
    /// SecretRef specifies the Secret containing the public keys of trusted Git authors.
    pub secret_ref: LocalObjectReference,
}

/// GitRepositoryStatus records the observed state of a Git repository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryStatus {
    /// ObservedGeneration is the last observed generation of the GitRepository object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions holds the conditions for the GitRepository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Artifact represents the last successful GitRepository reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// IncludedArtifacts contains a list of the last successfully included Artifacts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub included_artifacts: Vec<Artifact>,
    /// ObservedIgnore is the observed exclusion patterns used for constructing the source artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    /// ObservedRecurseSubmodules is the observed resource submodules configuration.
    #[serde(default, skip_serializing_if = "is_false")]
    pub observed_recurse_submodules: bool,
    /// ObservedInclude is the observed list of GitRepository resources used to produce the Artifact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_include: Vec<GitRepositoryInclude>,
    /// ObservedSparseCheckout is the observed list of directories used to produce the Artifact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_sparse_checkout: Vec<String>,
    /// SourceVerificationMode is the last used verification mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_verification_mode: Option<GitVerificationMode>,
    /// The last handled reconcile request.
    #[serde(flatten)]
    pub reconcile_request: ReconcileRequestStatus,
}

// ---------------------------------------------------------------- HelmRepository

/// Type of a HelmRepository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HelmRepositoryType {
    /// A Helm HTTP/S repository with an index.yaml.
    Default,
    /// An OCI registry.
    Oci,
}

/// Authentication provider for OCI registries and cloud buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CloudProvider {
    /// Static credentials from `secretRef`.
    Generic,
    /// AWS (IRSA / EC2 metadata).
    Aws,
    /// Azure (workload identity / managed identity).
    Azure,
    /// Google Cloud (workload identity).
    Gcp,
}

/// HelmRepositorySpec specifies the required configuration to produce an Artifact for a Helm repository index YAML.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "HelmRepository",
    plural = "helmrepositories",
    namespaced,
    status = "HelmRepositoryStatus",
    derive = "PartialEq",
    shortname = "helmrepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
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
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    doc = "HelmRepository is the Schema for the helmrepositories API."
)]
#[serde(rename_all = "camelCase")]
pub struct HelmRepositorySpec {
    /// URL of the Helm repository, a valid URL contains at least a protocol and host.
    #[schemars(pattern(r"^(http|https|oci)://.*$"))]
    pub url: String,
    /// SecretRef specifies the Secret containing authentication credentials for the HelmRepository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// CertSecretRef names a Secret with `tls.crt`/`tls.key` and/or `ca.crt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// PassCredentials allows the credentials from the SecretRef to be passed on to other hosts.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pass_credentials: bool,
    /// Interval at which the HelmRepository URL is checked for updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// Insecure allows connecting to a non-TLS HTTP container registry (type 'oci' only).
    #[serde(default, skip_serializing_if = "is_false")]
    pub insecure: bool,
    /// Timeout of the index fetch and OCI operations, defaults to 60s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<ShortDuration>,
    /// Suspend tells the controller to suspend the reconciliation of this HelmRepository.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
    /// AccessFrom specifies an Access Control List for allowing cross-namespace references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
    /// Type of the HelmRepository.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<HelmRepositoryType>,
    /// Provider used for authentication (type 'oci' only), defaults to 'generic'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "generic"))]
    pub provider: Option<CloudProvider>,
}

impl HelmRepositorySpec {
    /// The effective interval (1m when unset, as Flux).
    pub fn interval(&self) -> std::time::Duration {
        self.interval
            .as_ref()
            .map(Duration::to_std)
            .unwrap_or(std::time::Duration::from_secs(60))
    }

    /// The effective timeout (60s when unset).
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .as_ref()
            .map(ShortDuration::to_std)
            .unwrap_or(std::time::Duration::from_secs(60))
    }

    /// Whether this repository is an OCI registry.
    pub fn is_oci(&self) -> bool {
        self.type_ == Some(HelmRepositoryType::Oci)
    }
}

/// HelmRepositoryStatus records the observed state of the HelmRepository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmRepositoryStatus {
    /// ObservedGeneration is the last observed generation of the HelmRepository object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions holds the conditions for the HelmRepository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// URL is the dynamic fetch link for the latest Artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Artifact represents the last successful HelmRepository reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The last handled reconcile request.
    #[serde(flatten)]
    pub reconcile_request: ReconcileRequestStatus,
}

// ---------------------------------------------------------------- HelmChart

/// Kind of source a HelmChart is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum HelmChartSourceKind {
    /// A HelmRepository.
    HelmRepository,
    /// A GitRepository.
    GitRepository,
    /// A Bucket.
    Bucket,
}

/// What enables the creation of a new HelmChart artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ReconcileStrategy {
    /// A new chart version.
    ChartVersion,
    /// A new source revision.
    Revision,
}

/// LocalHelmChartSourceReference locates the source of a chart in the same namespace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalHelmChartSourceReference {
    /// APIVersion of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent, valid values are ('HelmRepository', 'GitRepository', 'Bucket').
    pub kind: HelmChartSourceKind,
    /// Name of the referent.
    pub name: String,
}

/// HelmChartSpec specifies the desired state of a Helm chart.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "HelmChart",
    plural = "helmcharts",
    namespaced,
    status = "HelmChartStatus",
    derive = "PartialEq",
    shortname = "hc",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    printcolumn(name = "Chart", type_ = "string", json_path = ".spec.chart"),
    printcolumn(name = "Version", type_ = "string", json_path = ".spec.version"),
    printcolumn(
        name = "Source Kind",
        type_ = "string",
        json_path = ".spec.sourceRef.kind"
    ),
    printcolumn(
        name = "Source Name",
        type_ = "string",
        json_path = ".spec.sourceRef.name"
    ),
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
    doc = "HelmChart is the Schema for the helmcharts API."
)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartSpec {
    /// Chart is the name or path the Helm chart is available at in the SourceRef.
    pub chart: String,
    /// Version is the chart version semver expression, defaults to latest (`*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "*"))]
    pub version: Option<String>,
    /// SourceRef is the reference to the Source the chart is available at.
    pub source_ref: LocalHelmChartSourceReference,
    /// Interval at which the HelmChart SourceRef is checked for updates.
    pub interval: Duration,
    /// ReconcileStrategy determines what enables the creation of a new artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "ChartVersion"))]
    pub reconcile_strategy: Option<ReconcileStrategy>,
    /// ValuesFiles is an alternative list of values files to use as the chart values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values_files: Vec<String>,
    /// ValuesFile is deprecated in favor of ValuesFiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_file: Option<String>,
    /// IgnoreMissingValuesFiles controls whether to silently ignore missing values files.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ignore_missing_values_files: bool,
    /// Suspend tells the controller to suspend the reconciliation of this source.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
    /// AccessFrom specifies an Access Control List for allowing cross-namespace references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
    /// Verify contains the signature verification settings (OCI HelmRepository only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<OCIRepositoryVerification>,
}

impl HelmChartSpec {
    /// Warnings for deprecated fields present in the spec.
    pub fn deprecation_warnings(&self) -> Vec<String> {
        self.values_file
            .iter()
            .map(|_| "spec.valuesFile is deprecated, use spec.valuesFiles".to_string())
            .collect()
    }

    /// The values files in merge order: the deprecated `valuesFile` first.
    pub fn values_files(&self) -> Vec<String> {
        self.values_file
            .iter()
            .filter(|f| !f.is_empty())
            .cloned()
            .chain(self.values_files.iter().cloned())
            .collect()
    }
}

/// HelmChartStatus records the observed state of the HelmChart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartStatus {
    /// ObservedGeneration is the last observed generation of the HelmChart object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// ObservedSourceArtifactRevision is the last observed Artifact.Revision of the SourceRef.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_source_artifact_revision: Option<String>,
    /// ObservedChartName is the last observed chart name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_chart_name: Option<String>,
    /// ObservedValuesFiles are the observed value files of the last successful reconciliation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_values_files: Vec<String>,
    /// Conditions holds the conditions for the HelmChart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// URL is the dynamic fetch link for the latest Artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Artifact represents the output of the last successful reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The last handled reconcile request.
    #[serde(flatten)]
    pub reconcile_request: ReconcileRequestStatus,
}

// ---------------------------------------------------------------- Bucket

/// Security Token Service provider of a Bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StsProvider {
    /// AWS STS.
    Aws,
    /// LDAP STS (MinIO).
    Ldap,
}

/// BucketSTSSpec configures a Security Token Service for fetching temporary credentials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketStsSpec {
    /// Provider of the Security Token Service.
    pub provider: StsProvider,
    /// Endpoint is the HTTP/S endpoint of the Security Token Service.
    #[schemars(pattern(r"^(http|https)://.*$"))]
    pub endpoint: String,
    /// SecretRef specifies the Secret containing credentials for the STS endpoint (ldap only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// CertSecretRef names a Secret with TLS material for the STS endpoint (ldap only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
}

/// BucketSpec specifies the required configuration to produce an Artifact for an object storage bucket.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "Bucket",
    plural = "buckets",
    namespaced,
    status = "BucketStatus",
    derive = "PartialEq",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    printcolumn(name = "Endpoint", type_ = "string", json_path = ".spec.endpoint"),
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
    doc = "Bucket is the Schema for the buckets API."
)]
#[serde(rename_all = "camelCase")]
pub struct BucketSpec {
    /// Provider of the object storage bucket, defaults to 'generic' (S3 compatible).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "generic"))]
    pub provider: Option<CloudProvider>,
    /// BucketName is the name of the object storage bucket.
    pub bucket_name: String,
    /// Endpoint is the object storage address the BucketName is located at. Flux requires it;
    /// flux-rs derives it for the `aws` and `gcp` providers when omitted (see [`BucketSpec::endpoint`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// STS specifies the Security Token Service configuration ('aws' and 'generic' only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sts: Option<BucketStsSpec>,
    /// Insecure allows connecting to a non-TLS HTTP Endpoint.
    #[serde(default, skip_serializing_if = "is_false")]
    pub insecure: bool,
    /// Region of the Endpoint where the BucketName is located in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Prefix to use for server-side filtering of files in the Bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// SecretRef specifies the Secret containing authentication credentials for the Bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// ServiceAccountName is the Kubernetes ServiceAccount used to authenticate ('gcp', 'aws').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// CertSecretRef names a Secret with TLS material ('generic' only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// ProxySecretRef specifies the Secret containing the proxy configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// Interval at which the Bucket Endpoint is checked for updates.
    pub interval: Duration,
    /// Timeout for fetch operations, defaults to 60s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "60s"))]
    pub timeout: Option<ShortDuration>,
    /// Ignore overrides the set of excluded patterns in the .sourceignore format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Suspend tells the controller to suspend the reconciliation of this Bucket.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
}

impl BucketSpec {
    /// The endpoint to talk to: `spec.endpoint`, else the provider's public endpoint
    /// (`s3.<region>.amazonaws.com` / `s3.amazonaws.com` for aws, `storage.googleapis.com` for gcp).
    /// `None` when it cannot be derived (generic and azure need an explicit endpoint).
    pub fn endpoint(&self) -> Option<String> {
        if let Some(e) = self.endpoint.as_deref().filter(|e| !e.is_empty()) {
            return Some(e.to_string());
        }
        match self.provider() {
            CloudProvider::Aws => Some(match self.region.as_deref().filter(|r| !r.is_empty()) {
                Some(region) => format!("s3.{region}.amazonaws.com"),
                None => "s3.amazonaws.com".to_string(),
            }),
            CloudProvider::Gcp => Some("storage.googleapis.com".to_string()),
            CloudProvider::Generic | CloudProvider::Azure => None,
        }
    }

    /// Flux's CEL rules on Bucket specs (STS per provider, secretRef vs serviceAccountName).
    pub fn validate(&self) -> Result<(), String> {
        let provider = self.provider();
        if let Some(sts) = &self.sts {
            match (provider, sts.provider) {
                (CloudProvider::Aws, StsProvider::Aws)
                | (CloudProvider::Generic, StsProvider::Ldap) => {}
                (CloudProvider::Aws, _) => {
                    return Err(
                        "'aws' is the only supported STS provider for the 'aws' Bucket provider"
                            .to_string(),
                    );
                }
                (CloudProvider::Generic, _) => {
                    return Err("'ldap' is the only supported STS provider for the 'generic' Bucket provider".to_string());
                }
                _ => {
                    return Err("STS configuration is only supported for the 'aws' and 'generic' Bucket providers".to_string());
                }
            }
            if sts.provider == StsProvider::Aws && sts.secret_ref.is_some() {
                return Err(
                    "spec.sts.secretRef is not required for the 'aws' STS provider".to_string(),
                );
            }
            if sts.provider == StsProvider::Aws && sts.cert_secret_ref.is_some() {
                return Err(
                    "spec.sts.certSecretRef is not required for the 'aws' STS provider".to_string(),
                );
            }
        }
        if provider == CloudProvider::Generic && self.service_account_name.is_some() {
            return Err(
                "ServiceAccountName is not supported for the 'generic' Bucket provider".to_string(),
            );
        }
        if self.secret_ref.is_some() && self.service_account_name.is_some() {
            return Err("cannot set both .spec.secretRef and .spec.serviceAccountName".to_string());
        }
        Ok(())
    }

    /// Warnings for fields Flux requires that flux-rs fills in.
    pub fn compatibility_warnings(&self) -> Vec<String> {
        match (&self.endpoint, self.endpoint()) {
            (None, Some(derived)) => vec![format!(
                "spec.endpoint is not set: using {derived} (Flux requires spec.endpoint)"
            )],
            (None, None) => {
                vec!["spec.endpoint is required for the generic and azure providers".to_string()]
            }
            _ => Vec::new(),
        }
    }

    /// The effective provider (`generic` when unset).
    pub fn provider(&self) -> CloudProvider {
        self.provider.unwrap_or(CloudProvider::Generic)
    }

    /// The effective timeout (60s when unset).
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .as_ref()
            .map(ShortDuration::to_std)
            .unwrap_or(std::time::Duration::from_secs(60))
    }
}

/// BucketStatus records the observed state of a Bucket.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketStatus {
    /// ObservedGeneration is the last observed generation of the Bucket object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions holds the conditions for the Bucket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// URL is the dynamic fetch link for the latest Artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Artifact represents the last successful Bucket reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// ObservedIgnore is the observed exclusion patterns used for constructing the source artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    /// The last handled reconcile request.
    #[serde(flatten)]
    pub reconcile_request: ReconcileRequestStatus,
}

// ---------------------------------------------------------------- OCIRepository

/// OCIRepositoryRef defines the image reference for the OCIRepository's URL.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositoryRef {
    /// Digest is the image digest to pull, takes precedence over SemVer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// SemVer is the range of tags to pull selecting the latest within the range.
    #[serde(default, rename = "semver", skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
    /// SemverFilter is a regex pattern to filter the tags within the SemVer range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver_filter: Option<String>,
    /// Tag is the image tag to pull, defaults to latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// How the selected OCI layer is processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OCILayerOperation {
    /// Extract the (compressed) layer content to storage.
    Extract,
    /// Store the layer content as is.
    Copy,
}

/// OCILayerSelector specifies which layer should be extracted from an OCI Artifact.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCILayerSelector {
    /// MediaType of the layer to select; the first matching layer is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Operation specifies how the selected layer should be processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OCILayerOperation>,
}

/// Signature verification provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerificationProvider {
    /// Sigstore cosign.
    Cosign,
    /// Notary project notation.
    Notation,
}

/// OIDCIdentityMatch specifies options for verifying the certificate identity (keyless cosign).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OIDCIdentityMatch {
    /// Issuer specifies the regex pattern to match against to verify the OIDC issuer.
    pub issuer: String,
    /// Subject specifies the regex pattern to match against to verify the identity subject.
    pub subject: String,
}

/// OCIRepositoryVerification verifies the authenticity of an OCI Artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositoryVerification {
    /// Provider specifies the technology used to sign the OCI Artifact.
    #[schemars(extend("default" = "cosign"))]
    pub provider: VerificationProvider,
    /// SecretRef specifies the Kubernetes Secret containing the trusted public keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// MatchOIDCIdentity specifies the identity matching criteria for keyless verification.
    #[serde(
        default,
        rename = "matchOIDCIdentity",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub match_oidc_identity: Vec<OIDCIdentityMatch>,
}

/// OCIRepositorySpec defines the desired state of OCIRepository.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "OCIRepository",
    plural = "ocirepositories",
    namespaced,
    status = "OCIRepositoryStatus",
    derive = "PartialEq",
    shortname = "ocirepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
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
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    doc = "OCIRepository is the Schema for the ocirepositories API."
)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositorySpec {
    /// URL is a reference to an OCI artifact repository hosted on a remote container registry.
    #[schemars(pattern(r"^oci://.*$"))]
    pub url: String,
    /// The OCI reference to pull and monitor for changes, defaults to the latest tag.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<OCIRepositoryRef>,
    /// LayerSelector specifies which layer should be extracted from the OCI artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_selector: Option<OCILayerSelector>,
    /// The provider used for authentication, defaults to 'generic'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "generic"))]
    pub provider: Option<CloudProvider>,
    /// SecretRef names a kubernetes.io/dockerconfigjson Secret with registry credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Verify contains the signature verification settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<OCIRepositoryVerification>,
    /// ServiceAccountName is the Kubernetes ServiceAccount whose pull secrets are used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// CertSecretRef names a Secret with TLS material for the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// ProxySecretRef specifies the Secret containing the proxy configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// Interval at which the OCIRepository URL is checked for updates.
    pub interval: Duration,
    /// The timeout for remote OCI Repository operations like pulling, defaults to 60s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "60s"))]
    pub timeout: Option<ShortDuration>,
    /// Ignore overrides the set of excluded patterns in the .sourceignore format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Insecure allows connecting to a non-TLS HTTP container registry.
    #[serde(default, skip_serializing_if = "is_false")]
    pub insecure: bool,
    /// This flag tells the controller to suspend the reconciliation of this source.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
}

impl OCIRepositorySpec {
    /// The effective provider (`generic` when unset).
    pub fn provider(&self) -> CloudProvider {
        self.provider.unwrap_or(CloudProvider::Generic)
    }

    /// The effective timeout (60s when unset).
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .as_ref()
            .map(ShortDuration::to_std)
            .unwrap_or(std::time::Duration::from_secs(60))
    }
}

/// OCIRepositoryStatus defines the observed state of OCIRepository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositoryStatus {
    /// ObservedGeneration is the last observed generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions holds the conditions for the OCIRepository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// URL is the download link for the artifact output of the last OCI Repository sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Artifact represents the output of the last successful OCI Repository sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// ObservedIgnore is the observed exclusion patterns used for constructing the source artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    /// ObservedLayerSelector is the observed layer selector used for constructing the artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_layer_selector: Option<OCILayerSelector>,
    /// The last handled reconcile request.
    #[serde(flatten)]
    pub reconcile_request: ReconcileRequestStatus,
}

// ---------------------------------------------------------------- ExternalArtifact

/// ExternalArtifactSpec points at the object a third-party controller produced an artifact for.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "ExternalArtifact",
    plural = "externalartifacts",
    namespaced,
    status = "ExternalArtifactStatus",
    derive = "PartialEq",
    shortname = "ea",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
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
    printcolumn(name = "Source", type_ = "string", json_path = ".spec.sourceRef.name"),
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    doc = "ExternalArtifact is the Schema for the external artifacts API"
)]
#[serde(rename_all = "camelCase")]
pub struct ExternalArtifactSpec {
    /// SourceRef points to the Kubernetes custom resource for which the artifact is generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<crate::meta::NamespacedObjectKindReference>,
}

/// ExternalArtifactStatus defines the observed state of ExternalArtifact.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalArtifactStatus {
    /// Artifact represents the output of an ExternalArtifact reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// Conditions holds the conditions for the ExternalArtifact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}
