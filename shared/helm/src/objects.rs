//! Host objects templates see: `.Files` (Get, GetBytes, Glob, Lines, AsConfig, AsSecrets),
//! `.Capabilities.KubeVersion` and `.Capabilities.APIVersions` (with `Has`).

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use flux_gotemplate::{FuncError, Object, Value};

use crate::glob::files_glob_match;

/// A chart's non-template files, as Helm's `engine.files`.
#[derive(Debug, Clone, Default)]
pub struct Files {
    files: Arc<BTreeMap<String, Arc<Vec<u8>>>>,
}

impl Files {
    pub fn new(files: BTreeMap<String, Arc<Vec<u8>>>) -> Self {
        Files {
            files: Arc::new(files),
        }
    }

    fn get_bytes(&self, name: &str) -> &[u8] {
        self.files.get(name).map(|v| v.as_slice()).unwrap_or(&[])
    }

    fn as_map(&self, f: impl Fn(&[u8]) -> String) -> String {
        let mut m = serde_json::Map::new();
        for (k, v) in self.files.iter() {
            let base = k.rsplit('/').next().unwrap_or(k);
            m.insert(base.to_string(), serde_json::Value::String(f(v)));
        }
        if m.is_empty() {
            return "{}".into();
        }
        let y = crate::toyaml::to_yaml(&serde_json::Value::Object(m));
        y.strip_suffix('\n').unwrap_or(&y).to_string()
    }
}

fn str_arg(args: &[Value], name: &str) -> Result<String, FuncError> {
    match args {
        [Value::String(s)] => Ok(s.clone()),
        [other] => Err(FuncError::WrongType {
            expected: "string".into(),
            got: other.type_name(),
        }),
        _ => Err(FuncError::Arity {
            want: format!("1 ({name})"),
            got: args.len(),
        }),
    }
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }

    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let r = match name {
            "Get" => str_arg(args, name)
                .map(|p| Value::String(String::from_utf8_lossy(self.get_bytes(&p)).into_owned())),
            "GetBytes" => str_arg(args, name).map(|p| {
                Value::list(
                    self.get_bytes(&p)
                        .iter()
                        .map(|b| Value::Int(*b as i64))
                        .collect(),
                )
            }),
            "Lines" => str_arg(args, name).map(|p| {
                let s = String::from_utf8_lossy(self.get_bytes(&p)).into_owned();
                if s.is_empty() {
                    return Value::list(vec![]);
                }
                let s = s.strip_suffix('\n').unwrap_or(&s);
                Value::list(s.split('\n').map(Value::from).collect())
            }),
            "Glob" => str_arg(args, name).map(|pat| {
                let picked = self
                    .files
                    .iter()
                    .filter(|(k, _)| files_glob_match(&pat, k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Value::Object(Arc::new(Files::new(picked)))
            }),
            "AsConfig" if args.is_empty() => Ok(Value::String(
                self.as_map(|b| String::from_utf8_lossy(b).into_owned()),
            )),
            "AsSecrets" if args.is_empty() => {
                Ok(Value::String(self.as_map(|b| {
                    base64::engine::general_purpose::STANDARD.encode(b)
                })))
            }
            _ => return None,
        };
        Some(r)
    }

    fn field(&self, name: &str) -> Option<Result<Value, FuncError>> {
        match name {
            "AsConfig" | "AsSecrets" => self.call_method(name, &[]),
            _ => None,
        }
    }

    fn data(&self) -> Value {
        Value::map(
            self.files
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Value::String(String::from_utf8_lossy(v).into_owned()),
                    )
                })
                .collect(),
        )
    }
}

/// `.Capabilities.KubeVersion`: fields Version, Major, Minor; prints as its version.
#[derive(Debug, Clone)]
pub struct KubeVersion {
    pub version: String,
    pub major: String,
    pub minor: String,
}

impl KubeVersion {
    /// Parses `1.16.0` or `v1.16` like Helm's `ParseKubeVersion`.
    pub fn parse(s: &str) -> Option<Self> {
        let v = crate::semver::parse_loose(s)?;
        let pre = if v.pre.is_empty() {
            String::new()
        } else {
            format!("-{}", v.pre)
        };
        Some(KubeVersion {
            version: format!("v{}.{}.{}{pre}", v.major, v.minor, v.patch),
            major: v.major.to_string(),
            minor: v.minor.to_string(),
        })
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "*common.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<Result<Value, FuncError>> {
        let v = match name {
            "Version" | "GitVersion" | "String" => &self.version,
            "Major" => &self.major,
            "Minor" => &self.minor,
            _ => return None,
        };
        Some(Ok(Value::String(v.clone())))
    }
    fn data(&self) -> Value {
        Value::String(self.version.clone())
    }
}

/// `.Capabilities.APIVersions`: a list of group/versions with a `Has` method.
#[derive(Debug, Clone)]
pub struct ApiVersions {
    pub versions: Vec<String>,
}

impl Object for ApiVersions {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        match name {
            "Has" => Some(str_arg(args, name).map(|v| Value::Bool(self.versions.contains(&v)))),
            _ => None,
        }
    }
    fn data(&self) -> Value {
        Value::list(
            self.versions
                .iter()
                .map(|v| Value::from(v.as_str()))
                .collect(),
        )
    }
}

/// Helm 4's default API versions (its generated list of built-in group/versions, in its order).
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "lifecycle.k8s.io/v1alpha1",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];
