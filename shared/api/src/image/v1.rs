//! image.toolkit.fluxcd.io/v1, the storage version of the image automation kinds.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{
    AccessFrom, Condition, Duration, LocalObjectReference, NamespacedObjectReference,
    ReconcileRequestStatus, ShortDuration,
};
use crate::source::v1::{CloudProvider, GitRepositoryRef};

fn is_false(b: &bool) -> bool {
    !*b
}

/// Tags ending in `.sig` (cosign signatures) are excluded unless the exclusion list is set.
pub const DEFAULT_EXCLUSION_LIST: &[&str] = &[r"^.*\.sig$"];

/// Author email used when an ImageUpdateAutomation gives an author name only: Flux's bot address.
pub const DEFAULT_AUTHOR_EMAIL: &str = "fluxcdbot@users.noreply.github.com";

// ---------------------------------------------------------------- ImageRepository

/// ImageRepositorySpec defines the parameters for scanning an image repository.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "image.toolkit.fluxcd.io",
    version = "v1",
    kind = "ImageRepository",
    plural = "imagerepositories",
    namespaced,
    status = "ImageRepositoryStatus",
    derive = "PartialEq",
    shortname = "imgrepo",
    shortname = "imagerepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-images",
    printcolumn(name = "Image", type_ = "string", json_path = ".spec.image"),
    printcolumn(
        name = "Tags",
        type_ = "string",
        json_path = ".status.lastScanResult.tagCount"
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
    printcolumn(
        name = "Last scan",
        type_ = "string",
        json_path = ".status.lastScanResult.scanTime",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    doc = "ImageRepository is the Schema for the imagerepositories API"
)]
#[serde(rename_all = "camelCase")]
pub struct ImageRepositorySpec {
    /// Image is the name of the image repository.
    pub image: String,
    /// Interval is the length of time to wait between scans of the image repository.
    pub interval: Duration,
    /// Timeout for image scanning, defaults to the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<ShortDuration>,
    /// SecretRef names a docker-registry Secret with registry credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// ProxySecretRef specifies the Secret containing the proxy configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// ServiceAccountName is the ServiceAccount whose image pull secrets are used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub service_account_name: Option<String>,
    /// CertSecretRef names a Secret with TLS material for the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// This flag tells the controller to suspend subsequent image scans.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
    /// AccessFrom defines an ACL for cross-namespace references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
    /// ExclusionList is a list of regexes excluding tags from being stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 25), extend("default" = ["^.*\\.sig$"]))]
    pub exclusion_list: Option<Vec<String>>,
    /// The provider used for authentication, defaults to 'generic'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "generic"))]
    pub provider: Option<CloudProvider>,
    /// Insecure allows connecting to a non-TLS HTTP container registry.
    #[serde(default, skip_serializing_if = "is_false")]
    pub insecure: bool,
}

impl ImageRepositorySpec {
    /// The effective timeout: `timeout`, else the interval, never below 1s (as Flux).
    pub fn timeout(&self) -> std::time::Duration {
        let d = match &self.timeout {
            Some(t) => t.to_std(),
            None => self.interval.to_std(),
        };
        d.max(std::time::Duration::from_secs(1))
    }

    /// The effective exclusion list (`^.*\.sig$` when unset or empty).
    pub fn exclusion_list(&self) -> Vec<String> {
        match &self.exclusion_list {
            Some(list) if !list.is_empty() => list.clone(),
            _ => DEFAULT_EXCLUSION_LIST
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// ScanResult contains information about the last scan of the image repository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanResult {
    /// Revision is a stable hash of the scanned tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// TagCount is the number of tags found in the last scan.
    pub tag_count: i64,
    /// ScanTime is the time when the last scan was performed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_time: Option<Time>,
    /// LatestTags is the first 10 tags in descending alphabetical order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latest_tags: Vec<String>,
}

/// ImageRepositoryStatus defines the observed state of ImageRepository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageRepositoryStatus {
    /// Conditions of the ImageRepository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// ObservedGeneration is the last reconciled generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// CanonicalImageName is the image name with implied parts explicit (`docker.io/library/alpine`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_image_name: Option<String>,
    /// LastScanResult contains the number of fetched tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scan_result: Option<ScanResult>,
    /// ObservedExclusionList is the exclusion list used for the last scan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_exclusion_list: Vec<String>,
    /// The last handled reconcile request.
    #[serde(flatten)]
    pub reconcile_request: ReconcileRequestStatus,
}

// ---------------------------------------------------------------- ImagePolicy

/// When to reflect the digest of the latest image into `status.latestRef.digest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ReflectionPolicy {
    /// Always refresh the digest.
    Always,
    /// Set the digest once.
    IfNotPresent,
    /// Never set the digest (default).
    Never,
}

/// Sort order of alphabetical and numerical policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Ascending: the last tag wins.
    Asc,
    /// Descending: the first tag wins.
    Desc,
}

/// SemVerPolicy specifies a semantic version policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SemVerPolicy {
    /// Range gives a semver range for the image tag.
    pub range: String,
}

/// AlphabeticalPolicy specifies an alphabetical ordering policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlphabeticalPolicy {
    /// Order of the tags, defaults to asc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "asc"))]
    pub order: Option<SortOrder>,
}

/// NumericalPolicy specifies a numerical ordering policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NumericalPolicy {
    /// Order of the tags, defaults to asc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "asc"))]
    pub order: Option<SortOrder>,
}

/// ImagePolicyChoice is a union of all the types of policy that can be supplied.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImagePolicyChoice {
    /// SemVer gives a semantic version range to check against the tags.
    #[serde(default, rename = "semver", skip_serializing_if = "Option::is_none")]
    pub semver: Option<SemVerPolicy>,
    /// Alphabetical ordering of the tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alphabetical: Option<AlphabeticalPolicy>,
    /// Numerical ordering of the tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerical: Option<NumericalPolicy>,
}

/// TagFilter filters tags with a regex and optionally extracts a capture group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TagFilter {
    /// Pattern is a regular expression tags must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Extract is the replacement (e.g. `$version`) applied before tag evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extract: Option<String>,
}

/// ImagePolicySpec defines the parameters for calculating the ImagePolicy.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "image.toolkit.fluxcd.io",
    version = "v1",
    kind = "ImagePolicy",
    plural = "imagepolicies",
    namespaced,
    status = "ImagePolicyStatus",
    derive = "PartialEq",
    shortname = "imgpol",
    shortname = "imagepol",
    printcolumn(name = "Image", type_ = "string", json_path = ".status.latestRef.name"),
    printcolumn(name = "Tag", type_ = "string", json_path = ".status.latestRef.tag"),
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
    doc = "ImagePolicy is the Schema for the imagepolicies API"
)]
#[serde(rename_all = "camelCase")]
pub struct ImagePolicySpec {
    /// ImageRepositoryRef points at the ImageRepository scanning the image.
    pub image_repository_ref: NamespacedObjectReference,
    /// Policy gives the particulars of the policy to be followed in selecting the latest image.
    pub policy: ImagePolicyChoice,
    /// FilterTags filters the tags before ordering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_tags: Option<TagFilter>,
    /// DigestReflectionPolicy governs `status.latestRef.digest`, defaults to Never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Never"))]
    pub digest_reflection_policy: Option<ReflectionPolicy>,
    /// Interval between digest refreshes with reflection policy Always (default 10m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// This flag tells the controller to suspend subsequent policy reconciliations.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
}

impl ImagePolicySpec {
    /// Flux's CEL rules: `interval` if and only if digestReflectionPolicy is Always.
    pub fn validate(&self) -> Result<(), String> {
        let always = self.digest_reflection_policy == Some(ReflectionPolicy::Always);
        match (self.interval.is_some(), always) {
            (true, false) => Err("spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'".to_string()),
            (false, true) => Err("spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'".to_string()),
            _ => Ok(()),
        }
    }
}

/// ImageRef represents an image reference.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageRef {
    /// Name is the bare image's name.
    pub name: String,
    /// Tag is the image's tag.
    pub tag: String,
    /// Digest is the image's digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.tag)?;
        if let Some(d) = self.digest.as_deref().filter(|d| !d.is_empty()) {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// ImagePolicyStatus defines the observed state of ImagePolicy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImagePolicyStatus {
    /// LatestRef is the first image when filtered and ordered according to the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_ref: Option<ImageRef>,
    /// ObservedPreviousRef is the previous LatestRef.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_previous_ref: Option<ImageRef>,
    /// ObservedGeneration is the last reconciled generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions of the ImagePolicy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The last handled reconcile request.
    #[serde(flatten)]
    pub reconcile_request: ReconcileRequestStatus,
}

// ---------------------------------------------------------------- ImageUpdateAutomation

/// Kind of source an ImageUpdateAutomation writes to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AutomationSourceKind {
    /// A GitRepository (the only kind).
    #[default]
    GitRepository,
}

/// CrossNamespaceSourceReference locates the GitRepository to update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceSourceReference {
    /// API version of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent.
    #[schemars(extend("default" = "GitRepository"))]
    pub kind: AutomationSourceKind,
    /// Name of the referent.
    pub name: String,
    /// Namespace of the referent, defaults to the namespace of the automation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// GitCheckoutSpec gives the ref to clone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitCheckoutSpec {
    /// Reference gives a branch, tag or commit to clone from the Git repository.
    #[serde(rename = "ref")]
    pub reference: GitRepositoryRef,
}

fn default_author_email() -> String {
    DEFAULT_AUTHOR_EMAIL.to_string()
}

/// CommitUser is the author of the automation's commits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommitUser {
    /// Name gives the name to provide when making a commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email gives the email to provide when making a commit. Flux requires it; flux-rs
    /// defaults it to Flux's bot address so manifests giving a name only keep working.
    #[serde(default = "default_author_email")]
    pub email: String,
}

/// Format of a commit signing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SigningKeyType {
    /// OpenPGP key at `git.asc`.
    Gpg,
    /// SSH key at `identity`.
    Ssh,
}

/// SigningKey references a Secret with an OpenPGP or SSH signing key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningKey {
    /// SecretRef references the Secret containing the signing key.
    pub secret_ref: LocalObjectReference,
    /// Type of the key, defaults to gpg.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<SigningKeyType>,
}

/// CommitSpec specifies how to commit changes to the git repository.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommitSpec {
    /// Author gives the email and optionally the name of the commit author.
    pub author: CommitUser,
    /// SigningKey signs commits with an OpenPGP or SSH key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<SigningKey>,
    /// MessageTemplate is a Go template for the commit message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template: Option<String>,
    /// MessageTemplateValues are extra values available to the template.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub message_template_values: BTreeMap<String, String>,
}

/// PushSpec specifies how and where to push commits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushSpec {
    /// Branch to push to, created from the checkout branch if missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Refspec to push with (no deletes or force updates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^$|^[^+:]"))]
    pub refspec: Option<String>,
    /// Options are push options sent to the server.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// GitSpec contains the git-specific definitions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitSpec {
    /// Checkout gives the ref to clone, defaults to the GitRepository's ref.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<GitCheckoutSpec>,
    /// Commit specifies how to commit to the git repository.
    pub commit: CommitSpec,
    /// Push specifies how and where to push commits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushSpec>,
}

/// Name of an update strategy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum UpdateStrategyName {
    /// kyaml setters (`# {"$imagepolicy": "ns:name"}` markers).
    #[default]
    Setters,
}

/// UpdateStrategy says how to update the files in the repository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStrategy {
    /// Strategy names the strategy to be used, defaults to Setters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Setters"))]
    pub strategy: Option<UpdateStrategyName>,
    /// Path to the directory containing the manifests to be updated, defaults to the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// ImageUpdateAutomationSpec defines the desired state of ImageUpdateAutomation.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "image.toolkit.fluxcd.io",
    version = "v1",
    kind = "ImageUpdateAutomation",
    plural = "imageupdateautomations",
    namespaced,
    status = "ImageUpdateAutomationStatus",
    derive = "PartialEq",
    shortname = "iua",
    shortname = "imgupd",
    shortname = "imgauto",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-images",
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
        name = "Last run",
        type_ = "string",
        json_path = ".status.lastAutomationRunTime",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    doc = "ImageUpdateAutomation is the Schema for the imageupdateautomations API"
)]
#[serde(rename_all = "camelCase")]
pub struct ImageUpdateAutomationSpec {
    /// SourceRef refers to the GitRepository to update.
    pub source_ref: CrossNamespaceSourceReference,
    /// GitSpec contains all the git-specific definitions.
    #[serde(default, rename = "git", skip_serializing_if = "Option::is_none")]
    pub git: Option<GitSpec>,
    /// Interval gives a lower bound for how often the automation runs.
    pub interval: Duration,
    /// PolicySelector filters applied policies by label (all policies in the namespace by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_selector: Option<LabelSelector>,
    /// Update gives the specification for how to update the files, defaults to Setters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = {"strategy": "Setters"}))]
    pub update: Option<UpdateStrategy>,
    /// Suspend tells the controller to not run this automation.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
}

/// ImageUpdateAutomationStatus defines the observed state of ImageUpdateAutomation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageUpdateAutomationStatus {
    /// LastAutomationRunTime records the last completed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_automation_run_time: Option<Time>,
    /// LastPushCommit records the SHA1 of the last commit pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_push_commit: Option<String>,
    /// LastPushTime records the time of the last pushed change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_push_time: Option<Time>,
    /// ObservedGeneration is the last reconciled generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions of the automation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// ObservedPolicies maps policy names to their latest image.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub observed_policies: BTreeMap<String, ImageRef>,
    /// ObservedSourceRevision is the last observed source revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_source_revision: Option<String>,
    /// The last handled reconcile request.
    #[serde(flatten)]
    pub reconcile_request: ReconcileRequestStatus,
}
