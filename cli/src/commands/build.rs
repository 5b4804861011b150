//! `flux build kustomization` and `flux diff kustomization`: build a local directory with a
//! Kustomization's spec (from the cluster, or a file), print the objects, or compare them with
//! the cluster by a server-side dry-run apply and print Flux's diff.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use flux_api::kustomize::v1::KustomizationSpec;
use flux_api::meta::ValuesKind;
use kube::api::{Patch, PatchParams};
use kustomize_controller::apply::{NAME_LABEL, NAMESPACE_LABEL};
use kustomize_controller::build::{BuildInputs, build_objects};
use serde_json::{Map, Value};

use super::CommandError;
use crate::apply::{Resolver, subject};
use crate::cli::GlobalFlags;
use crate::cluster;

#[derive(Debug, Clone, Subcommand)]
pub enum BuildCommand {
    /// Build Kustomization.
    #[command(visible_alias = "ks")]
    Kustomization(BuildArgs),
}

#[derive(Debug, Clone, Subcommand)]
pub enum DiffCommand {
    /// Diff Kustomization.
    #[command(visible_alias = "ks")]
    Kustomization(BuildArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// The Kustomization name.
    pub name: String,
    /// Path to the manifests location.
    #[arg(long, value_name = "DIR")]
    pub path: PathBuf,
    /// Path to the Flux Kustomization YAML file.
    #[arg(long = "kustomization-file", value_name = "FILE")]
    pub kustomization_file: Option<PathBuf>,
    /// Dry run mode: the Kustomization comes from --kustomization-file and no cluster is read.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// When enabled, the post build substitutions will fail if a var without a default value
    /// is declared in files but is missing from the input vars.
    #[arg(long = "strict-substitute")]
    pub strict_substitute: bool,
}

/// The Kustomization named `args.name`: from the file when given, else from the cluster.
async fn kustomization(
    global: &GlobalFlags,
    args: &BuildArgs,
    client: Option<&kube::Client>,
) -> Result<Value, CommandError> {
    if let Some(file) = &args.kustomization_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CommandError::Build(format!("unable to read {}: {e}", file.display())))?;
        return crate::apply::parse_yaml(&text)?
            .into_iter()
            .find(|o| {
                cluster::str_at(o, &["kind"]) == "Kustomization"
                    && cluster::str_at(o, &["metadata", "name"]) == args.name
            })
            .ok_or_else(|| {
                CommandError::Build(format!(
                    "no Kustomization named {} in {}",
                    args.name,
                    file.display()
                ))
            });
    }
    let client = client.ok_or_else(|| {
        CommandError::Build("dry-run mode requires a kustomization file".to_string())
    })?;
    cluster::get(
        client,
        cluster::kind("Kustomization"),
        &global.namespace,
        &args.name,
    )
    .await
}

/// Post-build variables: `substituteFrom` read from the cluster (skipped without one), then
/// `substitute` on top, as the controller computes them.
async fn variables(
    spec: &KustomizationSpec,
    namespace: &str,
    client: Option<&kube::Client>,
) -> Result<Option<HashMap<String, String>>, CommandError> {
    use k8s_openapi::api::core::v1::{ConfigMap, Secret};
    use kube::api::Api;
    let Some(post) = &spec.post_build else {
        return Ok(None);
    };
    let mut vars = HashMap::new();
    for from in client.map(|_| &post.substitute_from).into_iter().flatten() {
        let client = client
            .expect("substituteFrom is read only with a client")
            .clone();
        let found: Option<Vec<(String, String)>> = match from.kind {
            ValuesKind::ConfigMap => Api::<ConfigMap>::namespaced(client, namespace)
                .get_opt(&from.name)
                .await
                .map_err(cluster::api_error)?
                .map(|c| c.data.unwrap_or_default().into_iter().collect()),
            ValuesKind::Secret => Api::<Secret>::namespaced(client, namespace)
                .get_opt(&from.name)
                .await
                .map_err(cluster::api_error)?
                .map(|s| {
                    s.data
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                        .collect()
                }),
        };
        match found {
            Some(entries) => vars.extend(entries),
            None if from.optional => {}
            None => {
                return Err(CommandError::Build(format!(
                    "substitute from '{:?}/{}' failed: not found",
                    from.kind, from.name
                )));
            }
        }
    }
    vars.extend(post.substitute.clone());
    Ok(Some(vars))
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Builds `args.path` with the Kustomization's spec and labels the objects as the controller.
async fn build(
    global: &GlobalFlags,
    args: &BuildArgs,
    client: Option<&kube::Client>,
) -> Result<(Value, Vec<Value>), CommandError> {
    let ks = kustomization(global, args, client).await?;
    let namespace = match cluster::str_at(&ks, &["metadata", "namespace"]) {
        "" => global.namespace.clone(),
        ns => ns.to_string(),
    };
    let mut spec: KustomizationSpec =
        serde_json::from_value(ks.get("spec").cloned().unwrap_or_default())
            .map_err(|e| CommandError::Build(format!("invalid Kustomization spec: {e}")))?;
    if !args.path.is_dir() {
        return Err(CommandError::Build(format!(
            "invalid resource path \"{}\"",
            args.path.display()
        )));
    }
    // The build rewrites the kustomization file in place: work on a copy of the directory.
    let tmp = tempfile::tempdir()
        .map_err(|e| CommandError::Build(format!("unable to create a temporary directory: {e}")))?;
    let root = tmp.path().join("src");
    copy_dir(&args.path, &root)
        .map_err(|e| CommandError::Build(format!("unable to copy {}: {e}", args.path.display())))?;
    spec.path = None;
    let inputs = BuildInputs {
        variables: variables(&spec, &namespace, client).await?,
        strict_substitution: args.strict_substitute,
        keys: None,
    };
    let mut objects =
        build_objects(&root, &spec, &inputs).map_err(|e| CommandError::Build(e.to_string()))?;
    for obj in &mut objects {
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            let labels = meta
                .entry("labels")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(labels) = labels.as_object_mut() {
                labels.insert(NAME_LABEL.into(), args.name.clone().into());
                labels.insert(NAMESPACE_LABEL.into(), namespace.clone().into());
            }
        }
    }
    Ok((ks, objects))
}

pub fn run_build(
    global: &GlobalFlags,
    cmd: &BuildCommand,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let BuildCommand::Kustomization(args) = cmd;
    if args.dry_run && args.kustomization_file.is_none() {
        return Err(CommandError::Build(
            "dry-run mode requires a kustomization file".to_string(),
        ));
    }
    let (_, objects) = cluster::run(global, async {
        if args.dry_run {
            build(global, args, None).await
        } else {
            let client = cluster::client(global).await?;
            build(global, args, Some(&client)).await
        }
    })?;
    out.write_all(crate::local::build::to_yaml_stream(&objects).as_bytes())?;
    Ok(())
}

pub fn run_diff(
    global: &GlobalFlags,
    cmd: &DiffCommand,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let DiffCommand::Kustomization(args) = cmd;
    let changed = cluster::run(global, async {
        let client = cluster::client(global).await?;
        let (ks, objects) = build(global, args, Some(&client)).await?;
        let mut resolver = Resolver::default();
        let mut changed = false;
        let mut built = std::collections::HashSet::new();
        for mut obj in objects {
            let (api, namespaced) = resolver.api(&client, &obj).await?;
            if namespaced && cluster::str_at(&obj, &["metadata", "namespace"]).is_empty() {
                obj["metadata"]["namespace"] = Value::String("default".into());
            }
            let name = cluster::str_at(&obj, &["metadata", "name"]).to_string();
            let subject = subject(&obj);
            built.insert(inventory_id(&obj));
            let existing = api.get_opt(&name).await.map_err(cluster::api_error)?;
            let Some(existing) = existing else {
                writeln!(out, "► {subject} created")?;
                changed = true;
                continue;
            };
            let params = PatchParams::apply(kustomize_controller::apply::FIELD_MANAGER)
                .force()
                .dry_run();
            let merged = api
                .patch(&name, &params, &Patch::Apply(&obj))
                .await
                .map_err(|e| {
                    CommandError::Cluster(format!(
                        "{subject} dry-run failed: {}",
                        cluster::api_error(e)
                    ))
                })?;
            let before = comparable(&cluster::to_value(&existing)?);
            let after = comparable(&cluster::to_value(&merged)?);
            if before == after {
                continue;
            }
            changed = true;
            let (before, after) = mask_secrets(&before, &after);
            writeln!(out, "► {subject} drifted\n")?;
            let mut report = String::new();
            dyff(&before, &after, "", &mut report);
            write!(out, "{report}")?;
        }
        // With prune, what the last apply recorded and the build no longer has goes away.
        if ks.pointer("/spec/prune").and_then(Value::as_bool) == Some(true) {
            let entries = ks
                .pointer("/status/inventory/entries")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for entry in entries {
                let id = cluster::str_at(&entry, &["id"]);
                if built.contains(id) {
                    continue;
                }
                let Some(obj) = inventory_object(id, cluster::str_at(&entry, &["v"])) else {
                    continue;
                };
                let Ok((api, _)) = resolver.api(&client, &obj).await else {
                    continue;
                };
                let name = cluster::str_at(&obj, &["metadata", "name"]);
                if api
                    .get_opt(name)
                    .await
                    .map_err(cluster::api_error)?
                    .is_some()
                {
                    writeln!(out, "► {} deleted", subject(&obj))?;
                    changed = true;
                }
            }
        }
        Ok(changed)
    })?;
    if changed {
        return Err(CommandError::Changes);
    }
    Ok(())
}

/// The inventory id Flux records for an object: `namespace_name_group_kind`.
fn inventory_id(obj: &Value) -> String {
    let api_version = cluster::str_at(obj, &["apiVersion"]);
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    format!(
        "{}_{}_{group}_{}",
        cluster::str_at(obj, &["metadata", "namespace"]),
        cluster::str_at(obj, &["metadata", "name"]),
        cluster::str_at(obj, &["kind"])
    )
}

/// A stub object (identity only) for an inventory entry.
fn inventory_object(id: &str, version: &str) -> Option<Value> {
    let mut parts = id.splitn(4, '_');
    let (ns, name, group, kind) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut meta = serde_json::json!({"name": name});
    if !ns.is_empty() {
        meta["namespace"] = Value::String(ns.to_string());
    }
    Some(serde_json::json!({"apiVersion": api_version, "kind": kind, "metadata": meta}))
}

/// What an apply can change: no status and no server-managed metadata.
fn comparable(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(map) = v.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "managedFields",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "uid",
            ] {
                meta.remove(k);
            }
        }
    }
    v
}

/// Secret values replaced with `***`, or `*** (before)` / `*** (after)` where they differ.
fn mask_secrets(before: &Value, after: &Value) -> (Value, Value) {
    if cluster::str_at(before, &["kind"]) != "Secret" {
        return (before.clone(), after.clone());
    }
    let (mut b, mut a) = (before.clone(), after.clone());
    for field in ["data", "stringData"] {
        let theirs_a = after.get(field).cloned().unwrap_or(Value::Null);
        let theirs_b = before.get(field).cloned().unwrap_or(Value::Null);
        for (obj, other, side) in [(&mut b, &theirs_a, "before"), (&mut a, &theirs_b, "after")] {
            if let Some(map) = obj.get_mut(field).and_then(Value::as_object_mut) {
                for (k, v) in map.iter_mut() {
                    let same = other.get(k) == Some(&*v);
                    *v = Value::String(if same {
                        "***".into()
                    } else {
                        format!("*** ({side})")
                    });
                }
            }
        }
    }
    (b, a)
}

fn count(n: usize, one: &str, many: &str) -> String {
    const WORDS: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    let number = WORDS.get(n).map(|w| w.to_string()).unwrap_or(n.to_string());
    format!("{number} {}", if n == 1 { one } else { many })
}

fn yaml(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        Value::Bool(_) | Value::Number(_) => v.to_string(),
        _ => serde_yaml::to_string(v)
            .unwrap_or_default()
            .trim_end()
            .to_string(),
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Differences between two documents in dyff's human format (no colours, no indentation), as
/// `flux diff` prints them: one block per path.
fn dyff(before: &Value, after: &Value, path: &str, out: &mut String) {
    let at = if path.is_empty() {
        "(root level)"
    } else {
        path
    };
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let removed: Map<String, Value> = b
                .iter()
                .filter(|(k, _)| !a.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let added: Map<String, Value> = a
                .iter()
                .filter(|(k, _)| !b.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !removed.is_empty() {
                out.push_str(&format!(
                    "{at}\n- {} removed:\n{}\n",
                    count(removed.len(), "map entry", "map entries"),
                    indent(&yaml(&Value::Object(removed)))
                ));
            }
            if !added.is_empty() {
                out.push_str(&format!(
                    "{at}\n+ {} added:\n{}\n",
                    count(added.len(), "map entry", "map entries"),
                    indent(&yaml(&Value::Object(added)))
                ));
            }
            for (k, bv) in b {
                if let Some(av) = a.get(k)
                    && av != bv
                {
                    dyff(bv, av, &join(path, k), out);
                }
            }
        }
        (Value::Array(b), Value::Array(a)) => {
            let name = |v: &Value| v.get("name").and_then(Value::as_str).map(String::from);
            let named = b.iter().chain(a).all(|v| name(v).is_some());
            if named {
                let find = |list: &[Value], n: &str| {
                    list.iter().find(|v| name(v).as_deref() == Some(n)).cloned()
                };
                let removed: Vec<Value> = b
                    .iter()
                    .filter(|v| find(a, &name(v).unwrap_or_default()).is_none())
                    .cloned()
                    .collect();
                let added: Vec<Value> = a
                    .iter()
                    .filter(|v| find(b, &name(v).unwrap_or_default()).is_none())
                    .cloned()
                    .collect();
                list_changes(at, &removed, &added, out);
                for bv in b {
                    let n = name(bv).unwrap_or_default();
                    if let Some(av) = find(a, &n)
                        && &av != bv
                    {
                        dyff(bv, &av, &join(path, &n), out);
                    }
                }
            } else if a.len() == b.len() {
                for (i, (bv, av)) in b.iter().zip(a).enumerate() {
                    if av != bv {
                        dyff(bv, av, &join(path, &i.to_string()), out);
                    }
                }
            } else {
                let removed: Vec<Value> = b.iter().filter(|v| !a.contains(v)).cloned().collect();
                let added: Vec<Value> = a.iter().filter(|v| !b.contains(v)).cloned().collect();
                list_changes(at, &removed, &added, out);
            }
        }
        _ => out.push_str(&format!(
            "{at}\n± value change\n- {}\n+ {}\n\n",
            yaml(before),
            yaml(after)
        )),
    }
}

fn list_changes(at: &str, removed: &[Value], added: &[Value], out: &mut String) {
    if !removed.is_empty() {
        out.push_str(&format!(
            "{at}\n- {} removed:\n{}\n",
            count(removed.len(), "list entry", "list entries"),
            indent(&yaml(&Value::Array(removed.to_vec())))
        ));
    }
    if !added.is_empty() {
        out.push_str(&format!(
            "{at}\n+ {} added:\n{}\n",
            count(added.len(), "list entry", "list entries"),
            indent(&yaml(&Value::Array(added.to_vec())))
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn named_list_entries_are_paths_as_in_flux_goldens() {
        // cmd/flux/testdata/diff-kustomization/diff-with-drifted-service.golden in fluxcd/flux2.
        let before = json!({"spec": {"ports": [{"name": "http", "port": 9899}]}});
        let after = json!({"spec": {"ports": [{"name": "http", "port": 9898}]}});
        let mut out = String::new();
        dyff(&before, &after, "", &mut out);
        assert_eq!(
            out,
            "spec.ports.http.port\n± value change\n- 9899\n+ 9898\n\n"
        );
    }

    #[test]
    fn secrets_are_masked_before_and_after() {
        let b = json!({"kind": "Secret", "data": {"password": "YQ==", "user": "dQ=="}});
        let a = json!({"kind": "Secret", "data": {"password": "Yg==", "user": "dQ=="}});
        let (b, a) = mask_secrets(&b, &a);
        let mut out = String::new();
        dyff(&b, &a, "", &mut out);
        assert_eq!(
            out,
            "data.password\n± value change\n- *** (before)\n+ *** (after)\n\n"
        );
    }
}
