//! Any Flux object, typed by its apiVersion and kind, parsed with errors that name the field.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{crds, helm, image, kustomize, notification, source};

/// A manifest that is not a valid Flux object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The document has no string `apiVersion` or `kind`.
    #[error("object has no {0}")]
    MissingTypeMeta(&'static str),
    /// The apiVersion/kind pair is not a Flux kind flux-rs serves.
    #[error("{api_version} {kind} is not a Flux kind served by flux-rs")]
    UnknownKind {
        /// apiVersion of the document.
        api_version: String,
        /// kind of the document.
        kind: String,
    },
    /// A field has a bad value or a required field is missing.
    #[error("{kind} {name}: {path}: {message}")]
    InvalidField {
        /// kind of the document.
        kind: String,
        /// `namespace/name` of the document, or `<unnamed>`.
        name: String,
        /// Dotted path of the offending field, e.g. `spec.provider` or `spec.url`.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The text is not YAML.
    #[error("invalid YAML: {0}")]
    Yaml(String),
}

macro_rules! flux_objects {
    ($($variant:ident => $ty:ty),* $(,)?) => {
        /// A Flux object of any served kind and version.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        #[serde(untagged)]
        #[allow(clippy::large_enum_variant)]
        pub enum FluxObject {
            $(
                #[doc = concat!("`", stringify!($ty), "`")]
                $variant($ty),
            )*
        }

        impl FluxObject {
            fn parse_typed(api_version: &str, kind: &str, value: Value) -> Result<Self, ParseError> {
                $(
                    if <$ty as kube::Resource>::api_version(&()) == api_version
                        && <$ty as kube::Resource>::kind(&()) == kind
                    {
                        return from_value::<$ty>(value).map(FluxObject::$variant);
                    }
                )*
                Err(ParseError::UnknownKind { api_version: api_version.to_string(), kind: kind.to_string() })
            }

            /// `group/version` of the object.
            pub fn api_version(&self) -> String {
                match self {
                    $(FluxObject::$variant(_) => <$ty as kube::Resource>::api_version(&()).into_owned(),)*
                }
            }

            /// Kind of the object.
            pub fn kind(&self) -> String {
                match self {
                    $(FluxObject::$variant(_) => <$ty as kube::Resource>::kind(&()).into_owned(),)*
                }
            }

            /// Metadata of the object.
            pub fn metadata(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                match self {
                    $(FluxObject::$variant(o) => &o.metadata,)*
                }
            }
        }
    };
}

flux_objects! {
    GitRepositoryV1 => source::v1::GitRepository,
    GitRepositoryV1beta2 => source::v1beta2::GitRepository,
    HelmRepositoryV1 => source::v1::HelmRepository,
    HelmRepositoryV1beta2 => source::v1beta2::HelmRepository,
    HelmChartV1 => source::v1::HelmChart,
    HelmChartV1beta2 => source::v1beta2::HelmChart,
    BucketV1 => source::v1::Bucket,
    BucketV1beta2 => source::v1beta2::Bucket,
    OCIRepositoryV1 => source::v1::OCIRepository,
    OCIRepositoryV1beta2 => source::v1beta2::OCIRepository,
    ExternalArtifactV1 => source::v1::ExternalArtifact,
    KustomizationV1 => kustomize::v1::Kustomization,
    HelmReleaseV2 => helm::v2::HelmRelease,
    ProviderV1beta3 => notification::v1beta3::Provider,
    ProviderV1beta2 => notification::v1beta2::Provider,
    AlertV1beta3 => notification::v1beta3::Alert,
    AlertV1beta2 => notification::v1beta2::Alert,
    ReceiverV1 => notification::v1::Receiver,
    ReceiverV1beta2 => notification::v1beta2::Receiver,
    ImageRepositoryV1 => image::v1::ImageRepository,
    ImageRepositoryV1beta2 => image::v1beta2::ImageRepository,
    ImagePolicyV1 => image::v1::ImagePolicy,
    ImagePolicyV1beta2 => image::v1beta2::ImagePolicy,
    ImageUpdateAutomationV1 => image::v1::ImageUpdateAutomation,
    ImageUpdateAutomationV1beta2 => image::v1beta2::ImageUpdateAutomation,
}

fn object_name(value: &Value) -> String {
    let meta = &value["metadata"];
    match (meta["namespace"].as_str(), meta["name"].as_str()) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        (None, Some(name)) => name.to_string(),
        _ => "<unnamed>".to_string(),
    }
}

/// Deserializes `value` as `T`, turning serde's error into one that names the field path.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ParseError> {
    let kind = value["kind"].as_str().unwrap_or_default().to_string();
    let name = object_name(&value);
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let mut path = err.path().to_string();
        let mut message = err.inner().to_string();
        // serde reports a missing field at its parent; name the field itself instead.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            path = if path == "." {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
            message = "required field is missing".to_string();
        }
        ParseError::InvalidField {
            kind,
            name,
            path,
            message,
        }
    })
}

impl FluxObject {
    /// Parses a Flux object from JSON, choosing the type by `apiVersion` and `kind`.
    pub fn from_json(value: Value) -> Result<Self, ParseError> {
        let api_version = value["apiVersion"]
            .as_str()
            .ok_or(ParseError::MissingTypeMeta("apiVersion"))?
            .to_string();
        let kind = value["kind"]
            .as_str()
            .ok_or(ParseError::MissingTypeMeta("kind"))?
            .to_string();
        Self::parse_typed(&api_version, &kind, value)
    }

    /// Parses one YAML document.
    pub fn from_yaml(text: &str) -> Result<Self, ParseError> {
        let value: Value =
            serde_yaml::from_str(text).map_err(|e| ParseError::Yaml(e.to_string()))?;
        Self::from_json(value)
    }

    /// Parses every non-empty document of a multi-document YAML stream.
    pub fn from_yaml_stream(text: &str) -> Result<Vec<Self>, ParseError> {
        let mut out = Vec::new();
        for doc in serde_yaml::Deserializer::from_str(text) {
            let value = <Value as serde::Deserialize>::deserialize(doc)
                .map_err(|e| ParseError::Yaml(e.to_string()))?;
            if value.is_null() {
                continue;
            }
            out.push(Self::from_json(value)?);
        }
        Ok(out)
    }

    /// The object as JSON, as the API server would store it (Go `omitempty` semantics).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Re-reads the object as its kind's storage version (conversion strategy None: the
    /// apiVersion is rewritten and fields the storage version lacks are pruned).
    pub fn into_storage_version(self) -> Result<Self, ParseError> {
        let kind = self.kind();
        let Some(info) = crds::kinds().iter().find(|k| k.kind == kind) else {
            return Ok(self);
        };
        let storage = info.api_version();
        if self.api_version() == storage {
            return Ok(self);
        }
        let mut value = self.to_json();
        value["apiVersion"] = Value::String(storage.clone());
        Self::parse_typed(&storage, &kind, value)
    }

    /// Flux's cross-field rules (the CRDs' `x-kubernetes-validations`), checked without a CEL
    /// engine. `Err` carries the message Flux's API server would return.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            FluxObject::GitRepositoryV1(o) => o.spec.validate(),
            FluxObject::GitRepositoryV1beta2(o) => o.spec.base.validate(),
            FluxObject::BucketV1(o) => o.spec.validate(),
            FluxObject::BucketV1beta2(o) => o.spec.base.validate(),
            FluxObject::HelmReleaseV2(o) => o.spec.validate(),
            FluxObject::ProviderV1beta3(o) => o.spec.validate(),
            FluxObject::ProviderV1beta2(o) => o.spec.base.validate(),
            FluxObject::ReceiverV1(o) => o.spec.validate(),
            FluxObject::ReceiverV1beta2(o) => o.spec.base.validate(),
            FluxObject::ImagePolicyV1(o) => o.spec.validate(),
            FluxObject::ImagePolicyV1beta2(o) => o.spec.base.validate(),
            _ => Ok(()),
        }
    }

    /// Warnings to surface to users: deprecated API versions and ignored deprecated fields.
    pub fn deprecation_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let kind = self.kind();
        if let Some(info) = crds::kinds().iter().find(|k| k.kind == kind)
            && self.api_version() != info.api_version()
        {
            warnings.push(format!(
                "{} {kind} is deprecated, upgrade to {}",
                self.api_version(),
                info.api_version()
            ));
        }
        match self {
            FluxObject::KustomizationV1(ks) => warnings.extend(ks.spec.deprecation_warnings()),
            FluxObject::BucketV1(b) => warnings.extend(b.spec.compatibility_warnings()),
            FluxObject::BucketV1beta2(b) => warnings.extend(b.spec.base.compatibility_warnings()),
            FluxObject::HelmReleaseV2(hr) => warnings.extend(hr.spec.deprecation_warnings()),
            FluxObject::HelmChartV1(c) => warnings.extend(c.spec.deprecation_warnings()),
            FluxObject::HelmChartV1beta2(c) => warnings.extend(c.spec.base.deprecation_warnings()),
            FluxObject::ProviderV1beta3(p) => warnings.extend(p.spec.deprecation_warnings()),
            FluxObject::ProviderV1beta2(p) => warnings.extend(p.spec.base.deprecation_warnings()),
            _ => {}
        }
        warnings
    }
}
