//! `flux tree kustomization NAME`: the objects a Kustomization applied, from its
//! `status.inventory`, with the Kustomizations among them expanded in turn.

use std::collections::BTreeSet;
use std::io::Write;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::CommandError;
use crate::cli::GlobalFlags;
use crate::cluster;

#[derive(Debug, Clone, Args)]
pub struct TreeArgs {
    /// Show only the Flux objects in the tree.
    #[arg(long, global = true)]
    pub compact: bool,

    #[command(subcommand)]
    pub target: TreeTarget,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TreeTarget {
    /// Print the resource inventory of a Kustomization.
    #[command(alias = "ks")]
    Kustomization {
        /// Name of the Kustomization.
        name: String,
    },
}

/// One inventory entry: `Kind/namespace/name` (`Kind/name` when cluster-scoped).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    group: String,
    kind: String,
    namespace: String,
    name: String,
}

impl Entry {
    /// Parses kustomize-controller's `<namespace>_<name>_<group>_<kind>` inventory id.
    fn parse(id: &str) -> Option<Entry> {
        let mut parts = id.splitn(4, '_');
        Some(Entry {
            namespace: parts.next()?.to_string(),
            name: parts.next()?.to_string(),
            group: parts.next()?.to_string(),
            kind: parts.next()?.to_string(),
        })
    }

    fn label(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

pub fn run(global: &GlobalFlags, args: &TreeArgs, out: &mut dyn Write) -> Result<(), CommandError> {
    let TreeTarget::Kustomization { name } = &args.target;
    let ns = global.namespace.as_str();
    cluster::run(global, async {
        let client = cluster::client(global).await?;
        let info = cluster::kind("Kustomization");
        let root = cluster::get(&client, info, ns, name).await?;
        let mut lines = vec![format!("Kustomization/{ns}/{name}")];
        let mut visited = BTreeSet::from([(ns.to_string(), name.to_string())]);
        let mut stack = vec![(inventory(&root), String::new())];
        // Depth-first, as the tree prints: each level remembers where it stopped.
        let mut cursors = vec![0usize];
        while let Some((entries, prefix)) = stack.last().cloned() {
            let depth = stack.len() - 1;
            let i = cursors[depth];
            let shown: Vec<&Entry> = entries
                .iter()
                .filter(|e| !args.compact || e.group.ends_with(".toolkit.fluxcd.io"))
                .collect();
            if i >= shown.len() {
                stack.pop();
                cursors.pop();
                continue;
            }
            cursors[depth] += 1;
            let entry = shown[i];
            let last = i + 1 == shown.len();
            lines.push(format!(
                "{prefix}{}{}",
                if last { "└── " } else { "├── " },
                entry.label()
            ));
            let is_ks = entry.kind == "Kustomization" && entry.group == info.group;
            // A Kustomization that lists itself or an ancestor would never end.
            if is_ks
                && visited.insert((entry.namespace.clone(), entry.name.clone()))
                && let Some(child) =
                    cluster::get_opt(&client, info, &entry.namespace, &entry.name).await?
            {
                let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
                stack.push((inventory(&child), child_prefix));
                cursors.push(0);
            }
        }
        for line in lines {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
        Ok(())
    })
}

fn inventory(ks: &Value) -> Vec<Entry> {
    ks.pointer("/status/inventory/entries")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e.get("id").and_then(Value::as_str))
                .filter_map(Entry::parse)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_ids_parse() {
        let e = Entry::parse("flux-system_podinfo_apps_Deployment").unwrap();
        assert_eq!(e.label(), "Deployment/flux-system/podinfo");
        let e = Entry::parse("_cert-manager__Namespace").unwrap();
        assert_eq!(e.label(), "Namespace/cert-manager");
        assert_eq!(e.group, "");
    }
}
