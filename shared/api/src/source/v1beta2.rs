//! source.toolkit.fluxcd.io/v1beta2, still served (deprecated) next to v1.
//!
//! Every v1beta2 spec is the v1 spec plus the fields v1 dropped, so any valid v1beta2 manifest
//! parses; controllers convert by rewriting `apiVersion` (`into_v1`), as Flux's CRDs with
//! conversion strategy None did.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::AccessFrom;
use crate::source::v1;

/// Git implementation of v1beta2 GitRepositories (ignored since Flux 2.0: go-git is always used).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum GitImplementation {
    /// go-git.
    #[serde(rename = "go-git")]
    GoGit,
    /// libgit2.
    #[serde(rename = "libgit2")]
    Libgit2,
}

/// GitRepositorySpec (v1beta2): the v1 fields plus the deprecated `gitImplementation` and `accessFrom`.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "GitRepository",
    plural = "gitrepositories",
    namespaced,
    status = "v1::GitRepositoryStatus",
    derive = "PartialEq",
    shortname = "gitrepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    storage = false,
    deprecated = "v1beta2 GitRepository is deprecated, upgrade to v1",
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
    /// The fields shared with v1.
    #[serde(flatten)]
    pub base: v1::GitRepositorySpec,
    /// GitImplementation is deprecated and ignored: go-git is always used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "go-git"))]
    pub git_implementation: Option<GitImplementation>,
    /// AccessFrom specifies an Access Control List for allowing cross-namespace references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
}

/// HelmRepositorySpec (v1beta2), identical to v1.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "HelmRepository",
    plural = "helmrepositories",
    namespaced,
    status = "v1::HelmRepositoryStatus",
    derive = "PartialEq",
    shortname = "helmrepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    storage = false,
    deprecated = "v1beta2 HelmRepository is deprecated, upgrade to v1",
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
pub struct HelmRepositorySpec {
    /// The fields shared with v1.
    #[serde(flatten)]
    pub base: v1::HelmRepositorySpec,
}

/// HelmChartSpec (v1beta2), identical to v1.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "HelmChart",
    plural = "helmcharts",
    namespaced,
    status = "v1::HelmChartStatus",
    derive = "PartialEq",
    shortname = "hc",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    storage = false,
    deprecated = "v1beta2 HelmChart is deprecated, upgrade to v1",
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
pub struct HelmChartSpec {
    /// The fields shared with v1.
    #[serde(flatten)]
    pub base: v1::HelmChartSpec,
}

/// BucketSpec (v1beta2): the v1 fields plus `accessFrom`.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "Bucket",
    plural = "buckets",
    namespaced,
    status = "v1::BucketStatus",
    derive = "PartialEq",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    storage = false,
    deprecated = "v1beta2 Bucket is deprecated, upgrade to v1",
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
    /// The fields shared with v1.
    #[serde(flatten)]
    pub base: v1::BucketSpec,
    /// AccessFrom specifies an Access Control List for allowing cross-namespace references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
}

/// OCIRepositorySpec (v1beta2), identical to v1.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "OCIRepository",
    plural = "ocirepositories",
    namespaced,
    status = "v1::OCIRepositoryStatus",
    derive = "PartialEq",
    shortname = "ocirepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    storage = false,
    deprecated = "v1beta2 OCIRepository is deprecated, upgrade to v1",
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
pub struct OCIRepositorySpec {
    /// The fields shared with v1.
    #[serde(flatten)]
    pub base: v1::OCIRepositorySpec,
}
