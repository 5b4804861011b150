//! `flux version`: the CLI's version, then the distribution and each controller's image tag
//! read from the Deployments in the namespace.

use std::io::Write;

use clap::{Args, ValueEnum};

use super::CommandError;
use crate::cli::GlobalFlags;
use crate::cluster;
use crate::manifests::VERSION;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct VersionArgs {
    /// Print only the client version.
    #[arg(long)]
    pub client: bool,

    /// The format in which to print the version information.
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<Output>,
}

pub fn run(
    global: Option<&GlobalFlags>,
    args: &VersionArgs,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    // Flux prints `flux` first, then `distribution`, then the components sorted.
    let mut info: Vec<(String, String)> = vec![("flux".into(), format!("v{VERSION}"))];
    if let Some(global) = global.filter(|_| !args.client) {
        info.extend(server_versions(global)?);
    }
    match args.output {
        None => {
            for (k, v) in &info {
                writeln!(out, "{k}: {v}")?;
            }
        }
        Some(Output::Yaml) => {
            let map: std::collections::BTreeMap<_, _> = info.into_iter().collect();
            let text = serde_yaml::to_string(&map)
                .map_err(|e| CommandError::Build(format!("unable to render YAML: {e}")))?;
            write!(out, "{text}")?;
        }
        Some(Output::Json) => {
            let map: serde_json::Map<_, _> = info
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            let text = serde_json::to_string_pretty(&map)
                .map_err(|e| CommandError::Build(format!("unable to render JSON: {e}")))?;
            writeln!(out, "{text}")?;
        }
    }
    Ok(())
}

/// The distribution (the namespace's version label) and `image name -> tag` of every container
/// of the Flux Deployments in the namespace.
fn server_versions(global: &GlobalFlags) -> Result<Vec<(String, String)>, CommandError> {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::{Api, ListParams};

    let ns = global.namespace.clone();
    cluster::run(global, async move {
        let client = cluster::client(global).await?;
        let mut info = Vec::new();
        let namespaces: Api<Namespace> = Api::all(client.clone());
        if let Some(n) = namespaces.get_opt(&ns).await.map_err(cluster::api_error)?
            && let Some(v) = n
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("app.kubernetes.io/version"))
        {
            info.push(("distribution".to_string(), format!("flux-{v}")));
        }
        let api: Api<Deployment> = Api::namespaced(client, &ns);
        let list = api
            .list(&ListParams::default().labels("app.kubernetes.io/part-of=flux"))
            .await
            .map_err(cluster::api_error)?;
        if list.items.is_empty() {
            return Err(CommandError::Cluster(format!(
                "no deployments found in {ns} namespace"
            )));
        }
        let mut components = std::collections::BTreeMap::new();
        for d in list.items {
            let containers = d
                .spec
                .and_then(|s| s.template.spec)
                .map(|s| s.containers)
                .unwrap_or_default();
            for c in containers {
                let image = c.image.unwrap_or_default();
                let (name, tag) = split_image(&image)?;
                components.insert(name, tag);
            }
        }
        info.extend(components);
        Ok(info)
    })
}

/// `registry/path/name:tag` (digest ignored) as `(name, tag)`, as Flux's splitImageStr.
fn split_image(image: &str) -> Result<(String, String), CommandError> {
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((name, tag)) => Ok((name.to_string(), tag.to_string())),
        None => Err(CommandError::Cluster(format!(
            "missing image tag in image {image}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(args: VersionArgs) -> Result<String, CommandError> {
        let mut out = Vec::new();
        run(None, &args, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn client_version_prints_like_flux() {
        let text = run_with(VersionArgs {
            client: true,
            output: None,
        })
        .unwrap();
        assert_eq!(text, format!("flux: v{VERSION}\n"));
    }

    #[test]
    fn client_version_as_json() {
        let text = run_with(VersionArgs {
            client: true,
            output: Some(Output::Json),
        })
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["flux"], format!("v{VERSION}"));
    }

    #[test]
    fn image_splits_into_name_and_tag() {
        let (n, t) = split_image("ghcr.io/flux-rs/source-controller:v0.1.0").unwrap();
        assert_eq!((n.as_str(), t.as_str()), ("source-controller", "v0.1.0"));
        let (n, t) = split_image("localhost:5000/kc:v1@sha256:ab").unwrap();
        assert_eq!((n.as_str(), t.as_str()), ("kc", "v1"));
        assert!(split_image("ghcr.io/flux-rs/kc").is_err());
    }
}
