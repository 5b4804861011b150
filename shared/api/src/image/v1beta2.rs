//! image.toolkit.fluxcd.io/v1beta2, still served (deprecated) next to v1.
//!
//! The specs are the v1 specs; the ImagePolicy status keeps v1beta2's `latestImage` strings.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::image::v1;

/// ImageRepositorySpec (v1beta2), the v1 fields.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "image.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "ImageRepository",
    plural = "imagerepositories",
    namespaced,
    status = "v1::ImageRepositoryStatus",
    derive = "PartialEq",
    shortname = "imgrepo",
    shortname = "imagerepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-images",
    storage = false,
    deprecated = "v1beta2 ImageRepository is deprecated, upgrade to v1",
    printcolumn(
        name = "Last scan",
        type_ = "string",
        json_path = ".status.lastScanResult.scanTime"
    ),
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
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    doc = "ImageRepository is the Schema for the imagerepositories API"
)]
pub struct ImageRepositorySpec {
    /// The fields shared with v1.
    #[serde(flatten)]
    pub base: v1::ImageRepositorySpec,
}

/// ImagePolicySpec (v1beta2), the v1 fields.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "image.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "ImagePolicy",
    plural = "imagepolicies",
    namespaced,
    status = "ImagePolicyStatus",
    derive = "PartialEq",
    shortname = "imgpol",
    shortname = "imagepol",
    storage = false,
    deprecated = "v1beta2 ImagePolicy is deprecated, upgrade to v1",
    printcolumn(
        name = "LatestImage",
        type_ = "string",
        json_path = ".status.latestImage"
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
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    doc = "ImagePolicy is the Schema for the imagepolicies API"
)]
pub struct ImagePolicySpec {
    /// The fields shared with v1.
    #[serde(flatten)]
    pub base: v1::ImagePolicySpec,
}

/// ImagePolicyStatus (v1beta2): the v1 status plus the `latestImage` strings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImagePolicyStatus {
    /// LatestImage is `<image>:<tag>` of the latest image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_image: Option<String>,
    /// ObservedPreviousImage is the previous LatestImage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_previous_image: Option<String>,
    /// The v1 status fields.
    #[serde(flatten)]
    pub base: v1::ImagePolicyStatus,
}

/// ImageUpdateAutomationSpec (v1beta2), the v1 fields.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "image.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "ImageUpdateAutomation",
    plural = "imageupdateautomations",
    namespaced,
    status = "v1::ImageUpdateAutomationStatus",
    derive = "PartialEq",
    shortname = "iua",
    shortname = "imgupd",
    shortname = "imgauto",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-images",
    storage = false,
    deprecated = "v1beta2 ImageUpdateAutomation is deprecated, upgrade to v1",
    printcolumn(
        name = "Last run",
        type_ = "string",
        json_path = ".status.lastAutomationRunTime"
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
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    doc = "ImageUpdateAutomation is the Schema for the imageupdateautomations API"
)]
pub struct ImageUpdateAutomationSpec {
    /// The fields shared with v1.
    #[serde(flatten)]
    pub base: v1::ImageUpdateAutomationSpec,
}
