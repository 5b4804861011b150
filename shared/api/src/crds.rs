//! The CustomResourceDefinitions flux-rs installs: one per kind, all served versions merged,
//! generated from the Rust types so the types and the YAML can never drift apart.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceConversion, CustomResourceDefinition, JSONSchemaProps, ValidationRule,
};
use kube::CustomResourceExt;

use crate::{helm, image, kustomize, notification, source};

/// Static facts about one Flux kind, for the CLI (`flux get`, `flux install`) and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindInfo {
    /// API group, e.g. `source.toolkit.fluxcd.io`.
    pub group: &'static str,
    /// Kind, e.g. `GitRepository`.
    pub kind: &'static str,
    /// Plural resource name, e.g. `gitrepositories`.
    pub plural: &'static str,
    /// Singular resource name, e.g. `gitrepository`.
    pub singular: &'static str,
    /// kubectl short names.
    pub short_names: &'static [&'static str],
    /// Whether objects of the kind live in a namespace.
    pub namespaced: bool,
    /// The version objects are stored in.
    pub storage_version: &'static str,
    /// Every served version, storage version first.
    pub served_versions: &'static [&'static str],
    /// The controller that reconciles the kind.
    pub component: &'static str,
}

impl KindInfo {
    /// `group/storage_version`, e.g. `source.toolkit.fluxcd.io/v1`.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.storage_version)
    }

    /// The CRD name, e.g. `gitrepositories.source.toolkit.fluxcd.io`.
    pub fn crd_name(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }
}

/// Names of the controllers that own CRDs, in install order.
pub const COMPONENTS: &[&str] = &[
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
    "image-reflector-controller",
    "image-automation-controller",
];

const SOURCE: &str = "source.toolkit.fluxcd.io";
const KUSTOMIZE: &str = "kustomize.toolkit.fluxcd.io";
const HELM: &str = "helm.toolkit.fluxcd.io";
const NOTIFICATION: &str = "notification.toolkit.fluxcd.io";
const IMAGE: &str = "image.toolkit.fluxcd.io";

static KINDS: &[KindInfo] = &[
    KindInfo {
        group: SOURCE,
        kind: "GitRepository",
        plural: "gitrepositories",
        singular: "gitrepository",
        short_names: &["gitrepo"],
        namespaced: true,
        storage_version: "v1",
        served_versions: &["v1", "v1beta2"],
        component: "source-controller",
    },
    KindInfo {
        group: SOURCE,
        kind: "HelmRepository",
        plural: "helmrepositories",
        singular: "helmrepository",
        short_names: &["helmrepo"],
        namespaced: true,
        storage_version: "v1",
        served_versions: &["v1", "v1beta2"],
        component: "source-controller",
    },
    KindInfo {
        group: SOURCE,
        kind: "HelmChart",
        plural: "helmcharts",
        singular: "helmchart",
        short_names: &["hc"],
        namespaced: true,
        storage_version: "v1",
        served_versions: &["v1", "v1beta2"],
        component: "source-controller",
    },
    KindInfo {
        group: SOURCE,
        kind: "Bucket",
        plural: "buckets",
        singular: "bucket",
        short_names: &[],
        namespaced: true,
        storage_version: "v1",
        served_versions: &["v1", "v1beta2"],
        component: "source-controller",
    },
    KindInfo {
        group: SOURCE,
        kind: "OCIRepository",
        plural: "ocirepositories",
        singular: "ocirepository",
        short_names: &["ocirepo"],
        namespaced: true,
        storage_version: "v1",
        served_versions: &["v1", "v1beta2"],
        component: "source-controller",
    },
    KindInfo {
        group: SOURCE,
        kind: "ExternalArtifact",
        plural: "externalartifacts",
        singular: "externalartifact",
        short_names: &["ea"],
        namespaced: true,
        storage_version: "v1",
        served_versions: &["v1"],
        component: "source-controller",
    },
    KindInfo {
        group: KUSTOMIZE,
        kind: "Kustomization",
        plural: "kustomizations",
        singular: "kustomization",
        short_names: &["ks"],
        namespaced: true,
        storage_version: "v1",
        served_versions: &["v1"],
        component: "kustomize-controller",
    },
    KindInfo {
        group: HELM,
        kind: "HelmRelease",
        plural: "helmreleases",
        singular: "helmrelease",
        short_names: &["hr"],
        namespaced: true,
        storage_version: "v2",
        served_versions: &["v2"],
        component: "helm-controller",
    },
    KindInfo {
        group: NOTIFICATION,
        kind: "Provider",
        plural: "providers",
        singular: "provider",
        short_names: &[],
        namespaced: true,
        storage_version: "v1beta3",
        served_versions: &["v1beta3", "v1beta2"],
        component: "notification-controller",
    },
    KindInfo {
        group: NOTIFICATION,
        kind: "Alert",
        plural: "alerts",
        singular: "alert",
        short_names: &[],
        namespaced: true,
        storage_version: "v1beta3",
        served_versions: &["v1beta3", "v1beta2"],
        component: "notification-controller",
    },
    KindInfo {
        group: NOTIFICATION,
        kind: "Receiver",
        plural: "receivers",
        singular: "receiver",
        short_names: &[],
        namespaced: true,
        storage_version: "v1",
        served_versions: &["v1", "v1beta2"],
        component: "notification-controller",
    },
    KindInfo {
        group: IMAGE,
        kind: "ImageRepository",
        plural: "imagerepositories",
        singular: "imagerepository",
        short_names: &["imgrepo", "imagerepo"],
        namespaced: true,
        storage_version: "v1",
        served_versions: &["v1", "v1beta2"],
        component: "image-reflector-controller",
    },
    KindInfo {
        group: IMAGE,
        kind: "ImagePolicy",
        plural: "imagepolicies",
        singular: "imagepolicy",
        short_names: &["imgpol", "imagepol"],
        namespaced: true,
        storage_version: "v1",
        served_versions: &["v1", "v1beta2"],
        component: "image-reflector-controller",
    },
    KindInfo {
        group: IMAGE,
        kind: "ImageUpdateAutomation",
        plural: "imageupdateautomations",
        singular: "imageupdateautomation",
        short_names: &["iua", "imgupd", "imgauto"],
        namespaced: true,
        storage_version: "v1",
        served_versions: &["v1", "v1beta2"],
        component: "image-automation-controller",
    },
];

/// Every Flux kind flux-rs serves.
pub fn kinds() -> &'static [KindInfo] {
    KINDS
}

/// Looks a kind up by its kind name, plural, singular or short name (case-insensitive), as kubectl does.
pub fn find_kind(name: &str) -> Option<&'static KindInfo> {
    let name = name.to_ascii_lowercase();
    KINDS.iter().find(|k| {
        k.kind.eq_ignore_ascii_case(&name)
            || k.plural == name
            || k.singular == name
            || k.short_names.contains(&name.as_str())
    })
}

/// One single-version CRD per served version of `info`, storage version first.
fn versions_of(info: &KindInfo) -> Vec<CustomResourceDefinition> {
    match (info.group, info.kind) {
        (SOURCE, "GitRepository") => vec![
            source::v1::GitRepository::crd(),
            source::v1beta2::GitRepository::crd(),
        ],
        (SOURCE, "HelmRepository") => vec![
            source::v1::HelmRepository::crd(),
            source::v1beta2::HelmRepository::crd(),
        ],
        (SOURCE, "HelmChart") => vec![
            source::v1::HelmChart::crd(),
            source::v1beta2::HelmChart::crd(),
        ],
        (SOURCE, "Bucket") => vec![source::v1::Bucket::crd(), source::v1beta2::Bucket::crd()],
        (SOURCE, "OCIRepository") => vec![
            source::v1::OCIRepository::crd(),
            source::v1beta2::OCIRepository::crd(),
        ],
        (SOURCE, "ExternalArtifact") => vec![source::v1::ExternalArtifact::crd()],
        (KUSTOMIZE, "Kustomization") => vec![kustomize::v1::Kustomization::crd()],
        (HELM, "HelmRelease") => vec![helm::v2::HelmRelease::crd()],
        (NOTIFICATION, "Provider") => vec![
            notification::v1beta3::Provider::crd(),
            notification::v1beta2::Provider::crd(),
        ],
        (NOTIFICATION, "Alert") => vec![
            notification::v1beta3::Alert::crd(),
            notification::v1beta2::Alert::crd(),
        ],
        (NOTIFICATION, "Receiver") => vec![
            notification::v1::Receiver::crd(),
            notification::v1beta2::Receiver::crd(),
        ],
        (IMAGE, "ImageRepository") => vec![
            image::v1::ImageRepository::crd(),
            image::v1beta2::ImageRepository::crd(),
        ],
        (IMAGE, "ImagePolicy") => vec![
            image::v1::ImagePolicy::crd(),
            image::v1beta2::ImagePolicy::crd(),
        ],
        (IMAGE, "ImageUpdateAutomation") => vec![
            image::v1::ImageUpdateAutomation::crd(),
            image::v1beta2::ImageUpdateAutomation::crd(),
        ],
        _ => Vec::new(),
    }
}

/// Flux's CEL rules (`x-kubernetes-validations`) on the spec of a kind's storage version, as
/// (rule, message). The same checks are available without a CEL engine as `validate()` methods
/// on the spec types.
pub fn spec_validation_rules(kind: &str) -> &'static [(&'static str, &'static str)] {
    match kind {
        "GitRepository" => &[(
            "!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))",
            "serviceAccountName can only be set when provider is 'azure' or 'aws'",
        )],
        "Bucket" => &[
            (
                "self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)",
                "STS configuration is only supported for the 'aws' and 'generic' Bucket providers",
            ),
            (
                "self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'",
                "'aws' is the only supported STS provider for the 'aws' Bucket provider",
            ),
            (
                "self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'",
                "'ldap' is the only supported STS provider for the 'generic' Bucket provider",
            ),
            (
                "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)",
                "spec.sts.secretRef is not required for the 'aws' STS provider",
            ),
            (
                "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)",
                "spec.sts.certSecretRef is not required for the 'aws' STS provider",
            ),
            (
                "self.provider != 'generic' || !has(self.serviceAccountName)",
                "ServiceAccountName is not supported for the 'generic' Bucket provider",
            ),
            (
                "!has(self.secretRef) || !has(self.serviceAccountName)",
                "cannot set both .spec.secretRef and .spec.serviceAccountName",
            ),
        ],
        "HelmRelease" => &[(
            "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))",
            "either chart or chartRef must be set",
        )],
        "Provider" => &[(
            "self.type == 'github' || self.type == 'gitlab' || self.type == 'gitea' || self.type == 'bitbucketserver' || self.type == 'bitbucket' || self.type == 'azuredevops' || !has(self.commitStatusExpr)",
            "spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops' provider types",
        )],
        "Receiver" => &[
            (
                "self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)",
                "generic-oidc receivers must define at least one oidcProvider",
            ),
            (
                "self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0",
                "oidcProviders can only be set when type is generic-oidc",
            ),
            (
                "self.type == 'generic-oidc' || has(self.secretRef)",
                "secretRef is required when type is not generic-oidc",
            ),
        ],
        "ImagePolicy" => &[
            (
                "!has(self.interval) || (has(self.digestReflectionPolicy) && self.digestReflectionPolicy == 'Always')",
                "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'",
            ),
            (
                "has(self.interval) || !has(self.digestReflectionPolicy) || self.digestReflectionPolicy != 'Always'",
                "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
            ),
        ],
        _ => &[],
    }
}

/// Builds the CRD of one kind: versions merged, storage flag on the storage version only,
/// conversion strategy None (versions differ only by fields the older one adds).
pub fn crd_for(info: &KindInfo) -> CustomResourceDefinition {
    let mut parts = versions_of(info).into_iter();
    let Some(mut crd) = parts.next() else {
        return CustomResourceDefinition::default();
    };
    for part in parts {
        crd.spec.versions.extend(part.spec.versions);
    }
    for version in &mut crd.spec.versions {
        version.served = true;
        version.storage = version.name == info.storage_version;
        if let Some(schema) = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
        {
            tidy_schema(schema);
            add_type_meta(schema);
            let rules = spec_validation_rules(info.kind);
            if version.name == info.storage_version
                && !rules.is_empty()
                && let Some(spec) = schema.properties.as_mut().and_then(|p| p.get_mut("spec"))
            {
                spec.x_kubernetes_validations = Some(
                    rules
                        .iter()
                        .map(|(rule, message)| ValidationRule {
                            rule: rule.to_string(),
                            message: Some(message.to_string()),
                            ..Default::default()
                        })
                        .collect(),
                );
            }
            // Flux defaults every status (but ExternalArtifact's, which has no observedGeneration)
            // to {"observedGeneration": -1} so a new object is never mistaken for an observed one
            // by kstatus.
            if info.kind != "ExternalArtifact"
                && let Some(status) = schema.properties.as_mut().and_then(|p| p.get_mut("status"))
            {
                status.default = Some(
                    k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSON(
                        serde_json::json!({ "observedGeneration": -1 }),
                    ),
                );
            }
        }
    }
    crd.spec.conversion = Some(CustomResourceConversion {
        strategy: "None".to_string(),
        webhook: None,
    });
    crd
}

/// Adds the `apiVersion`, `kind` and `metadata` properties every kubebuilder CRD documents.
fn add_type_meta(schema: &mut JSONSchemaProps) {
    let props = schema.properties.get_or_insert_with(Default::default);
    let string = |description: &str| JSONSchemaProps {
        type_: Some("string".to_string()),
        description: Some(description.to_string()),
        ..Default::default()
    };
    props.entry("apiVersion".to_string()).or_insert_with(|| {
        string("APIVersion defines the versioned schema of this representation of an object.")
    });
    props.entry("kind".to_string()).or_insert_with(|| {
        string("Kind is a string value representing the REST resource this object represents.")
    });
    props
        .entry("metadata".to_string())
        .or_insert_with(|| JSONSchemaProps {
            type_: Some("object".to_string()),
            ..Default::default()
        });
}

/// Removes schema noise kube's derive leaves that Flux's CRDs do not have (`nullable` on optional
/// fields: Kubernetes prunes nulls only when allowed, and Flux never sends null).
fn tidy_schema(schema: &mut JSONSchemaProps) {
    schema.nullable = None;
    if let Some(props) = schema.properties.as_mut() {
        for p in props.values_mut() {
            tidy_schema(p);
        }
    }
    if let Some(items) = schema.items.as_mut() {
        match items {
            k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaPropsOrArray::Schema(s) => tidy_schema(s),
            k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaPropsOrArray::Schemas(v) => v.iter_mut().for_each(tidy_schema),
        }
    }
    if let Some(k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaPropsOrBool::Schema(s)) =
        schema.additional_properties.as_mut()
    {
        tidy_schema(s);
    }
}

/// Every CRD, one per kind, in component order.
pub fn all() -> Vec<CustomResourceDefinition> {
    KINDS.iter().map(crd_for).collect()
}

/// The CRDs a controller owns (`source-controller`, `kustomize-controller`, `helm-controller`,
/// `notification-controller`, `image-reflector-controller`, `image-automation-controller`).
/// `None` for an unknown component name.
pub fn for_component(component: &str) -> Option<Vec<CustomResourceDefinition>> {
    if !COMPONENTS.contains(&component) {
        return None;
    }
    Some(
        KINDS
            .iter()
            .filter(|k| k.component == component)
            .map(crd_for)
            .collect(),
    )
}

/// Rendering CRDs as YAML failed.
#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    /// A CRD could not be serialized.
    #[error("serializing CRD {name} to YAML: {source}")]
    Yaml {
        /// The CRD name.
        name: String,
        /// The serializer error.
        source: serde_yaml::Error,
    },
}

/// Renders CRDs as a multi-document YAML stream (`---` between documents).
pub fn to_yaml(crds: &[CustomResourceDefinition]) -> Result<String, CrdError> {
    let mut out = String::new();
    for crd in crds {
        let doc = serde_yaml::to_string(crd).map_err(|source| CrdError::Yaml {
            name: crd.metadata.name.clone().unwrap_or_default(),
            source,
        })?;
        out.push_str("---\n");
        out.push_str(&doc);
    }
    Ok(out)
}
