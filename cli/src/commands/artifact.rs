//! `flux push|pull|tag artifact` and `flux list artifacts`: Flux artifacts in OCI registries,
//! through source-controller's registry client, packed and unpacked as the controllers do.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use flux_artifact::{DEFAULT_MAX_DOWNLOAD_SIZE, IgnoreRules, UnpackLimits};
use source_controller::oci_registry::{
    Client, FLUX_CONTENT_MEDIA_TYPE, OciError, Reference, docker_config_auth, filter_tags,
    is_valid_tag, use_plain_http,
};

use super::CommandError;
use crate::cli::GlobalFlags;
use crate::cluster::{self, Log};

const SOURCE_ANNOTATION: &str = "org.opencontainers.image.source";
const REVISION_ANNOTATION: &str = "org.opencontainers.image.revision";
const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";
/// What manifests read from stdin are called in the artifact (Flux names a temporary file;
/// a fixed name keeps the digest of the same input the same).
const STDIN_FILE: &str = "stdin.yaml";

#[derive(Debug, Subcommand)]
pub enum PushCommand {
    /// Push artifact
    ///
    /// The push artifact command creates a tarball from the given directory or the single file
    /// and uploads the artifact to an OCI repository. The command can read the credentials from
    /// '~/.docker/config.json' but they can also be passed with --creds.
    Artifact(PushArtifactArgs),
}

#[derive(Debug, Subcommand)]
pub enum PullCommand {
    /// Pull artifact
    ///
    /// The pull artifact command downloads and extracts the OCI artifact content to the given
    /// path. The command can read the credentials from '~/.docker/config.json' but they can
    /// also be passed with --creds.
    Artifact(PullArtifactArgs),
}

#[derive(Debug, Subcommand)]
pub enum TagCommand {
    /// Tag artifact
    ///
    /// The tag artifact command creates tags for the given OCI artifact. The command can read
    /// the credentials from '~/.docker/config.json' but they can also be passed with --creds.
    Artifact(TagArtifactArgs),
}

#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// list artifacts
    ///
    /// The list command fetches the tags and their metadata from a remote OCI repository. The
    /// command can read the credentials from '~/.docker/config.json' but they can also be
    /// passed with --creds.
    #[command(alias = "artifact")]
    Artifacts(ListArtifactsArgs),
}

/// How to reach the registry, shared by the artifact commands.
#[derive(Debug, Clone, Args)]
pub struct RegistryFlags {
    /// credentials for OCI registry in the format <username>[:<password>]
    #[arg(long, default_value = "", hide_default_value = true)]
    pub creds: String,

    /// allows the registry to be reached over plain HTTP (loopback and private addresses are)
    #[arg(long)]
    pub insecure_registry: bool,
}

#[derive(Debug, Clone, Args)]
pub struct PushArtifactArgs {
    /// oci://<host>/<repository>:<tag>
    pub url: Option<String>,

    /// path to the directory where the Kubernetes manifests are located
    #[arg(short = 'f', long, default_value = "", hide_default_value = true)]
    pub path: String,

    /// the source address, e.g. the Git URL
    #[arg(long, default_value = "", hide_default_value = true)]
    pub source: String,

    /// the source revision in the format '<branch|tag>@sha1:<commit-sha>'
    #[arg(long, default_value = "", hide_default_value = true)]
    pub revision: String,

    /// Set custom OCI annotations in the format '<key>=<value>'
    #[arg(short = 'a', long = "annotations")]
    pub annotations: Vec<String>,

    /// set paths to ignore in .gitignore format, on top of Flux's default exclusions
    #[arg(long, value_delimiter = ',')]
    pub ignore_paths: Vec<String>,

    /// ensure reproducible image digests by setting the created timestamp to '1970-01-01T00:00:00Z'
    #[arg(long)]
    pub reproducible: bool,

    /// the format in which the artifact digest should be printed, can be 'json' or 'yaml'
    #[arg(short = 'o', long, default_value = "", hide_default_value = true)]
    pub output: String,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

#[derive(Debug, Clone, Args)]
pub struct PullArtifactArgs {
    /// oci://<host>/<repository>:<tag>
    pub url: Option<String>,

    /// path where the artifact content should be extracted.
    #[arg(short = 'o', long, default_value = "", hide_default_value = true)]
    pub output: String,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

#[derive(Debug, Clone, Args)]
pub struct TagArtifactArgs {
    /// oci://<host>/<repository>:<tag>
    pub url: Option<String>,

    /// tag name
    #[arg(long = "tag", value_delimiter = ',')]
    pub tags: Vec<String>,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

#[derive(Debug, Clone, Args)]
pub struct ListArtifactsArgs {
    /// oci://<host>/<repository>
    pub url: Option<String>,

    /// filter tags returned from the oci repository using semver
    #[arg(long, default_value = "", hide_default_value = true)]
    pub filter_semver: String,

    /// filter tags returned from the oci repository using regex
    #[arg(long, default_value = "", hide_default_value = true)]
    pub filter_regex: String,

    /// the format in which the artifact list should be printed, can be 'json' or 'yaml'
    #[arg(short = 'o', long, default_value = "", hide_default_value = true)]
    pub output: String,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

fn failed(message: impl Into<String>) -> CommandError {
    CommandError::Failed(message.into())
}

fn oci(e: OciError) -> CommandError {
    failed(e.to_string())
}

/// A registry client for `reference`: `--creds`, else the Docker config's entry for the
/// registry; plain HTTP for loopback and private hosts or with `--insecure-registry`.
fn registry_client(
    global: &GlobalFlags,
    reference: &Reference,
    flags: &RegistryFlags,
    log: &mut Log,
) -> Result<Client, CommandError> {
    let mut token = None;
    let basic = if flags.creds.is_empty() {
        docker_config().and_then(|config| docker_config_auth(&config, &reference.registry))
    } else {
        log.action("logging in to registry with credentials")?;
        match flags.creds.split_once(':') {
            Some((user, password)) => Some((user.to_string(), password.to_string())),
            // No colon: a registry token, sent as it is (go-containerregistry's RegistryToken).
            None => {
                token = Some(flags.creds.clone());
                None
            }
        }
    };
    let http = reqwest::Client::builder()
        .timeout(global.timeout)
        .use_rustls_tls()
        .build()
        .map_err(|e| failed(format!("unable to build the HTTP client: {e}")))?;
    let plain_http = cluster::run(global, async {
        Ok(use_plain_http(&http, &reference.registry, flags.insecure_registry).await)
    })?;
    let client = Client::new(http, reference.clone(), plain_http, basic).map_err(oci)?;
    Ok(match token {
        Some(token) => client.with_bearer_token(token),
        None => client,
    })
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, as the Docker CLI reads it.
fn docker_config() -> Option<Vec<u8>> {
    let dir = match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".docker"),
    };
    std::fs::read(dir.join("config.json")).ok()
}

fn required_url(url: &Option<String>, what: &str) -> Result<String, CommandError> {
    url.clone()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| failed(format!("{what} is required")))
}

fn repo_name(reference: &Reference) -> String {
    format!("{}/{}", reference.registry, reference.repository)
}

pub fn run_push(
    global: &GlobalFlags,
    cmd: &PushCommand,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let PushCommand::Artifact(args) = cmd;
    let url = required_url(&args.url, "artifact URL")?;
    if args.source.is_empty() {
        return Err(failed("--source is required"));
    }
    if args.revision.is_empty() {
        return Err(failed("--revision is required"));
    }
    if args.path.is_empty() {
        return Err(failed(format!("invalid path {:?}", args.path)));
    }
    let (reference, tag) = Reference::parse_tagged(&url).map_err(oci)?;
    let tag = match tag {
        Some(t) if t.starts_with("sha256:") => {
            return Err(failed(format!(
                "invalid URL '{url}': an artifact is pushed to a tag, not a digest"
            )));
        }
        Some(t) => t,
        None => "latest".to_string(),
    };
    // `-f -`: manifests on stdin (`kustomize build . | flux push artifact ... -f -`), pushed as
    // one YAML file.
    let stdin_dir;
    let stdin_file;
    let path = if args.path == "-" {
        let mut manifests = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut manifests)
            .map_err(|e| failed(format!("reading stdin: {e}")))?;
        stdin_dir = tempfile::tempdir()
            .map_err(|e| failed(format!("creating a temporary directory: {e}")))?;
        stdin_file = stdin_dir.path().join(STDIN_FILE);
        std::fs::write(&stdin_file, manifests)
            .map_err(|e| failed(format!("writing {}: {e}", stdin_file.display())))?;
        stdin_file.as_path()
    } else {
        Path::new(&args.path)
    };
    if let Err(e) = std::fs::metadata(path) {
        return Err(failed(format!(
            "invalid path '{}', must point to an existing directory or file: {e}",
            args.path
        )));
    }
    let mut annotations = BTreeMap::new();
    annotations.insert(CREATED_ANNOTATION.to_string(), created(args.reproducible));
    annotations.insert(SOURCE_ANNOTATION.to_string(), args.source.clone());
    annotations.insert(REVISION_ANNOTATION.to_string(), args.revision.clone());
    for annotation in &args.annotations {
        match annotation.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.contains('=') => {
                annotations.insert(k.to_string(), v.to_string());
            }
            _ => {
                return Err(failed(format!(
                    "invalid annotation {annotation}, must be in the format key=value"
                )));
            }
        }
    }
    let layer = build_layer(path, &args.ignore_paths)?;

    let mut log = Log(err);
    let client = registry_client(global, &reference, &args.registry, &mut log)?;
    let tagged = format!("{}:{tag}", repo_name(&reference));
    if args.output.is_empty() {
        log.action(format!("pushing artifact to {tagged}"))?;
    }
    let digest = cluster::run(global, async {
        client
            .push_artifact(&tag, layer.into(), &annotations)
            .await
            .map_err(|e| failed(format!("pushing artifact failed: {e}")))
    })?;
    let digest_url = format!("{}@{digest}", repo_name(&reference));
    match args.output.as_str() {
        "json" => {
            let info = serde_json::json!({
                "url": format!("oci://{digest_url}"),
                "repository": repo_name(&reference),
                "tag": tag,
                "digest": digest,
            });
            let text = serde_json::to_string_pretty(&info)
                .map_err(|e| failed(format!("artifact digest JSON conversion failed: {e}")))?;
            writeln!(out, "{text}")?;
        }
        "yaml" => {
            // sigs.k8s.io/yaml goes through a map, so the keys come out sorted.
            let info: BTreeMap<&str, String> = [
                ("url", format!("oci://{digest_url}")),
                ("repository", repo_name(&reference)),
                ("tag", tag.clone()),
                ("digest", digest.clone()),
            ]
            .into_iter()
            .collect();
            let text = serde_yaml::to_string(&info)
                .map_err(|e| failed(format!("artifact digest YAML conversion failed: {e}")))?;
            write!(out, "{text}")?;
        }
        _ => log.success(format!("artifact successfully pushed to {digest_url}"))?,
    }
    Ok(())
}

/// The `org.opencontainers.image.created` value: now, or the Unix epoch for `--reproducible`,
/// in RFC 3339 with whole seconds as Go's `time.RFC3339` prints it.
fn created(reproducible: bool) -> String {
    use k8s_openapi::jiff::Timestamp;
    let seconds = if reproducible {
        0
    } else {
        Timestamp::now().as_second()
    };
    Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// The layer for `path`: a `.tgz`/`.tar.gz` file as it is, otherwise the deterministic archive
/// of the directory, or of a directory holding just the file, with the source ignore rules.
fn build_layer(path: &Path, ignore_paths: &[String]) -> Result<Vec<u8>, CommandError> {
    let name = path.to_string_lossy();
    if path.is_file() && (name.ends_with(".tgz") || name.ends_with(".tar.gz")) {
        return std::fs::read(path).map_err(|e| failed(format!("reading {}: {e}", path.display())));
    }
    let staging;
    let root = if path.is_dir() {
        path.to_path_buf()
    } else {
        staging = tempfile::tempdir()
            .map_err(|e| failed(format!("creating a temporary directory: {e}")))?;
        let file_name = path
            .file_name()
            .ok_or_else(|| failed(format!("invalid path '{}'", path.display())))?;
        std::fs::copy(path, staging.path().join(file_name))
            .map_err(|e| failed(format!("reading {}: {e}", path.display())))?;
        staging.path().to_path_buf()
    };
    let ignore = ignore_paths.join("\n");
    let rules = IgnoreRules::load(&root, (!ignore.is_empty()).then_some(ignore.as_str()))
        .map_err(|e| failed(format!("building artifact failed: {e}")))?;
    let mut layer = Vec::new();
    flux_artifact::pack_dir(&root, &rules, &mut layer)
        .map_err(|e| failed(format!("building artifact failed: {e}")))?;
    Ok(layer)
}

pub fn run_pull(
    global: &GlobalFlags,
    cmd: &PullCommand,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let PullCommand::Artifact(args) = cmd;
    let url = required_url(&args.url, "artifact URL")?;
    if args.output.is_empty() || !Path::new(&args.output).is_dir() {
        return Err(failed(format!("invalid output path {}", args.output)));
    }
    let (reference, tag) = Reference::parse_tagged(&url).map_err(oci)?;
    let tag = tag.unwrap_or_else(|| "latest".to_string());
    let mut log = Log(err);
    let client = registry_client(global, &reference, &args.registry, &mut log)?;
    let shown = if tag.starts_with("sha256:") {
        format!("{}@{tag}", repo_name(&reference))
    } else {
        format!("{}:{tag}", repo_name(&reference))
    };
    log.action(format!("pulling artifact from {shown}"))?;
    let (manifest, digest, blob) = cluster::run(global, async {
        let (manifest, digest) = client.manifest(&tag).await.map_err(oci)?;
        let layer = manifest
            .layers
            .iter()
            .find(|l| l.media_type == FLUX_CONTENT_MEDIA_TYPE)
            .or_else(|| manifest.layers.first())
            .ok_or_else(|| failed(format!("no layers found in {shown}")))?;
        let blob = client
            .blob(layer, DEFAULT_MAX_DOWNLOAD_SIZE)
            .await
            .map_err(oci)?;
        Ok((manifest, digest, blob))
    })?;
    flux_artifact::unpack(&blob, Path::new(&args.output), UnpackLimits::default())
        .map_err(|e| failed(format!("extracting artifact failed: {e}")))?;
    let annotation = |key: &str| manifest.annotations.get(key).cloned().unwrap_or_default();
    log.success(format!("source {}", annotation(SOURCE_ANNOTATION)))?;
    log.success(format!("revision {}", annotation(REVISION_ANNOTATION)))?;
    log.success(format!("digest {}@{digest}", repo_name(&reference)))?;
    log.success(format!("artifact content extracted to {}", args.output))?;
    Ok(())
}

pub fn run_tag(
    global: &GlobalFlags,
    cmd: &TagCommand,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let TagCommand::Artifact(args) = cmd;
    let url = required_url(&args.url, "artifact name")?;
    if args.tags.is_empty() {
        return Err(failed("--tag is required"));
    }
    if let Some(bad) = args.tags.iter().find(|t| !is_valid_tag(t)) {
        return Err(failed(format!("invalid tag '{bad}'")));
    }
    let (reference, source) = Reference::parse_tagged(&url).map_err(oci)?;
    let source = source.unwrap_or_else(|| "latest".to_string());
    let mut log = Log(err);
    let client = registry_client(global, &reference, &args.registry, &mut log)?;
    log.action("tagging artifact")?;
    let repo = repo_name(&reference);
    cluster::run(global, async {
        let tagging = |e: OciError| failed(format!("tagging artifact failed: {e}"));
        let (body, media_type, _) = client.manifest_raw(&source).await.map_err(tagging)?;
        for tag in &args.tags {
            client
                .put_manifest(tag, &media_type, body.clone())
                .await
                .map_err(tagging)?;
            log.success(format!("artifact tagged as {repo}:{tag}"))?;
        }
        Ok(())
    })
}

/// One row of `flux list artifacts`, with the JSON names of Flux's `Metadata`.
#[derive(Debug, serde::Serialize)]
struct Listed {
    url: String,
    digest: String,
    source_url: String,
    source_revision: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    created: String,
}

pub fn run_list(
    global: &GlobalFlags,
    cmd: &ListCommand,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let ListCommand::Artifacts(args) = cmd;
    let url = required_url(&args.url, "artifact repository URL")?;
    let reference = Reference::parse(&url).map_err(oci)?;
    let mut log = Log(err);
    let client = registry_client(global, &reference, &args.registry, &mut log)?;
    let rows = cluster::run(global, async {
        let tags = client
            .tags()
            .await
            .map_err(|e| failed(format!("listing tags failed: {e}")))?;
        let tags = filter_tags(
            tags,
            Some(args.filter_regex.as_str()),
            Some(args.filter_semver.as_str()),
        )
        .map_err(oci)?;
        let mut rows = Vec::new();
        for tag in tags {
            let (manifest, digest) = client
                .manifest(&tag)
                .await
                .map_err(|e| failed(format!("fetching manifest failed: {e}")))?;
            let annotation = |key: &str| manifest.annotations.get(key).cloned().unwrap_or_default();
            rows.push(Listed {
                url: format!("{}:{tag}", repo_name(&reference)),
                digest,
                source_url: annotation(SOURCE_ANNOTATION),
                source_revision: annotation(REVISION_ANNOTATION),
                created: annotation(CREATED_ANNOTATION),
            });
        }
        Ok(rows)
    })?;
    match args.output.as_str() {
        "json" => {
            let text = serde_json::to_string_pretty(&rows)
                .map_err(|e| failed(format!("artifact list JSON conversion failed: {e}")))?;
            writeln!(out, "{text}")?;
        }
        "yaml" => {
            let text = serde_yaml::to_string(&rows)
                .map_err(|e| failed(format!("artifact list YAML conversion failed: {e}")))?;
            write!(out, "{text}")?;
        }
        _ => {
            let table: Vec<Vec<String>> = rows
                .into_iter()
                .map(|r| vec![r.url, r.digest, r.source_url, r.source_revision])
                .collect();
            cluster::print_table(out, &["artifact", "digest", "source", "revision"], &table)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_artifacts_are_created_at_the_epoch() {
        assert_eq!(created(true), "1970-01-01T00:00:00Z");
        let now = created(false);
        assert!(now.ends_with('Z') && !now.contains('.'), "{now}");
    }

    #[test]
    fn a_single_manifest_is_packed_alone_and_archives_are_pushed_as_they_are() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("app.yaml");
        std::fs::write(&file, "kind: ConfigMap\n").expect("write");
        std::fs::write(dir.path().join("other.yaml"), "kind: Secret\n").expect("write");
        let layer = build_layer(&file, &[]).expect("layer");
        let out = tempfile::tempdir().expect("tempdir");
        flux_artifact::unpack(&layer, out.path(), UnpackLimits::default()).expect("unpack");
        let names: Vec<_> = std::fs::read_dir(out.path())
            .expect("read")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["app.yaml"]);

        let archive = dir.path().join("bundle.tgz");
        std::fs::write(&archive, &layer).expect("write");
        assert_eq!(build_layer(&archive, &[]).expect("as is"), layer);
    }
}
