//! Defaulting from `default` values in a structural schema.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::Value;

/// Fills in defaults declared in `schema`.
pub fn apply_defaults(obj: &mut Value, schema: &JSONSchemaProps) {
    let _ = (obj, schema);
}
