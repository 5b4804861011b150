//! `flux export`: objects as YAML to apply elsewhere: apiVersion, kind, name, namespace,
//! labels, annotations and spec; no status and none of the fields the server manages.

use std::io::Write;

use clap::Args;
use kube::api::ListParams;
use serde_json::{Map, Value};

use super::CommandError;
use super::objects::Target;
use crate::cli::GlobalFlags;
use crate::cluster;

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Select all resources.
    #[arg(long, global = true)]
    pub all: bool,

    #[command(subcommand)]
    pub target: Target,
}

pub fn run(
    global: &GlobalFlags,
    args: &ExportArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let (info, names) = args.target.resolve();
    if names.is_empty() && !args.all {
        return Err(CommandError::Cluster(format!(
            "{} name is required",
            info.kind
        )));
    }
    let ns = global.namespace.as_str();
    cluster::run(global, async {
        let client = cluster::client(global).await?;
        let objects = if names.is_empty() {
            let list = cluster::api(&client, info, Some(ns))
                .list(&ListParams::default())
                .await
                .map_err(|e| cluster::list_error(info, e))?;
            if list.items.is_empty() {
                cluster::Log(err).failure(format!("no objects found in {ns} namespace"))?;
                return Ok(());
            }
            list.items
                .iter()
                .map(cluster::to_value)
                .collect::<Result<Vec<_>, _>>()?
        } else {
            let mut objects = Vec::new();
            for name in names {
                objects.push(cluster::get(&client, info, ns, name).await?);
            }
            objects
        };
        for obj in &objects {
            out.write_all(to_yaml(&export(obj))?.as_bytes())?;
        }
        Ok(())
    })
}

/// The exported form of an object.
pub fn export(obj: &Value) -> Value {
    let mut metadata = Map::new();
    for key in ["name", "namespace", "labels", "annotations"] {
        if let Some(v) = obj
            .pointer(&format!("/metadata/{key}"))
            .filter(|v| !is_empty(v))
        {
            metadata.insert(key.to_string(), v.clone());
        }
    }
    let mut exported = Map::new();
    for key in ["apiVersion", "kind"] {
        if let Some(v) = obj.get(key) {
            exported.insert(key.to_string(), v.clone());
        }
    }
    exported.insert("metadata".to_string(), Value::Object(metadata));
    if let Some(spec) = obj.get("spec") {
        exported.insert("spec".to_string(), spec.clone());
    }
    Value::Object(exported)
}

fn is_empty(v: &Value) -> bool {
    v.is_null() || v.as_object().is_some_and(Map::is_empty)
}

/// `---` and the YAML with keys sorted, as Go's sigs.k8s.io/yaml writes them.
pub fn to_yaml(obj: &Value) -> Result<String, CommandError> {
    let text = serde_yaml::to_string(&sorted(obj))
        .map_err(|e| CommandError::Cluster(format!("unable to write YAML: {e}")))?;
    Ok(format!("---\n{text}"))
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn export_keeps_spec_and_identity_only() {
        let obj = json!({"kind": "GitRepository", "apiVersion": "source.toolkit.fluxcd.io/v1",
            "metadata": {"name": "podinfo", "namespace": "default", "uid": "1", "resourceVersion": "5",
                "generation": 2, "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [],
                "labels": {}},
            "spec": {"url": "https://github.com/stefanprodan/podinfo", "ref": {"branch": "master"},
                "interval": "1m0s", "ignore": ".cosign\nnon-existent-dir/"},
            "status": {"observedGeneration": 2}});
        // cmd/flux/testdata/create_source_git/export.golden in fluxcd/flux2, at v1.
        assert_eq!(
            to_yaml(&export(&obj)).unwrap(),
            "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: podinfo\n  namespace: default\nspec:\n  ignore: |-\n    .cosign\n    non-existent-dir/\n  interval: 1m0s\n  ref:\n    branch: master\n  url: https://github.com/stefanprodan/podinfo\n"
        );
    }
}
