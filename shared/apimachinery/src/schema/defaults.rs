//! Defaulting from `default` values in a structural schema, as the API server does when
//! reading or writing a custom resource.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::Value;

/// Fills in the `default` of every property missing from `obj`, top down, so defaults inside
/// a defaulted object apply too. A `null` in a field that is not `nullable` is replaced by the
/// field's default, or dropped when it has none (Kubernetes prunes such nulls).
pub fn apply_defaults(obj: &mut Value, schema: &JSONSchemaProps) {
    match obj {
        Value::Object(members) => {
            if let Some(properties) = &schema.properties {
                for (name, prop) in properties {
                    let nullable = prop.nullable == Some(true);
                    match (members.get(name), &prop.default) {
                        (None, Some(default)) => {
                            members.insert(name.clone(), default.0.clone());
                        }
                        (Some(Value::Null), Some(default)) if !nullable => {
                            members.insert(name.clone(), default.0.clone());
                        }
                        (Some(Value::Null), None) if !nullable => {
                            members.shift_remove(name);
                        }
                        _ => {}
                    }
                    if let Some(value) = members.get_mut(name) {
                        apply_defaults(value, prop);
                    }
                }
            }
            if let Some(JSONSchemaPropsOrBool::Schema(values)) = &schema.additional_properties {
                for value in members.values_mut() {
                    apply_defaults(value, values);
                }
            }
        }
        Value::Array(items) => {
            if let Some(JSONSchemaPropsOrArray::Schema(item_schema)) = &schema.items {
                for item in items {
                    apply_defaults(item, item_schema);
                }
            }
        }
        _ => {}
    }
}
