//! Pruning of fields a structural schema does not declare, as the API server does for custom
//! resources unless `x-kubernetes-preserve-unknown-fields` is set.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::Value;

/// The members of `ObjectMeta` the API server keeps; anything else in `metadata` is dropped.
const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Removes every field `schema` does not declare. `apiVersion`, `kind` and `metadata` are
/// kept at the root and in `x-kubernetes-embedded-resource` objects, where `metadata` is
/// pruned down to `ObjectMeta`'s members.
pub fn prune(obj: &mut Value, schema: &JSONSchemaProps) {
    prune_node(obj, schema, true);
}

fn prune_node(obj: &mut Value, schema: &JSONSchemaProps, is_resource: bool) {
    match obj {
        Value::Object(members) => {
            let preserve = schema.x_kubernetes_preserve_unknown_fields == Some(true);
            let values_schema = match &schema.additional_properties {
                Some(JSONSchemaPropsOrBool::Schema(s)) => Some(s.as_ref()),
                _ => None,
            };
            let keep_all_values = matches!(
                schema.additional_properties,
                Some(JSONSchemaPropsOrBool::Bool(true))
            );
            let properties = schema.properties.as_ref();
            members.retain(|name, _| {
                preserve
                    || keep_all_values
                    || values_schema.is_some()
                    || properties.is_some_and(|p| p.contains_key(name))
                    || (is_resource && matches!(name.as_str(), "apiVersion" | "kind" | "metadata"))
            });
            for (name, value) in members.iter_mut() {
                if is_resource && matches!(name.as_str(), "apiVersion" | "kind") {
                    continue;
                }
                if is_resource && name == "metadata" {
                    // ObjectMeta is not described by the CRD's schema, whatever it declares.
                    if let Value::Object(meta) = value {
                        meta.retain(|k, _| OBJECT_META_FIELDS.contains(&k.as_str()));
                    }
                } else if let Some(prop) = properties.and_then(|p| p.get(name)) {
                    let embedded = prop.x_kubernetes_embedded_resource == Some(true);
                    prune_node(value, prop, embedded);
                } else if let Some(values) = values_schema {
                    let embedded = values.x_kubernetes_embedded_resource == Some(true);
                    prune_node(value, values, embedded);
                }
            }
        }
        Value::Array(items) => {
            if let Some(JSONSchemaPropsOrArray::Schema(item_schema)) = &schema.items {
                let embedded = item_schema.x_kubernetes_embedded_resource == Some(true);
                for item in items {
                    prune_node(item, item_schema, embedded);
                }
            }
        }
        _ => {}
    }
}
