//! `flux local`: run, build and diff a fleet repository with no cluster, and serve the
//! in-memory API server for kubectl.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::CommandError;
use crate::local;

#[derive(Debug, Clone, Subcommand)]
pub enum LocalCommand {
    /// Reconcile a fleet repository on an in-memory API server and report what became Ready.
    Run(RunArgs),
    /// Print every object a cluster path produces, Kustomizations followed, as one YAML stream.
    Build(BuildArgs),
    /// Print a unified diff of the objects a cluster path produces at two git refs.
    Diff(DiffArgs),
    /// Serve the in-memory API server in the foreground and write a kubeconfig for kubectl.
    Apiserver(ApiserverArgs),
}

/// Where the fleet is and which directories stand in for remote sources.
#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    /// The fleet repository (a directory; a git work tree for --ref).
    #[arg(default_value = ".")]
    pub repo: PathBuf,

    /// Path to the cluster directory inside the repository, e.g. clusters/production.
    #[arg(long)]
    pub path: String,

    /// Serve the directory DIR as the source named NAME (or NAMESPACE/NAME) instead of its URL.
    #[arg(long = "source", value_name = "NAME=DIR", value_parser = parse_source)]
    pub sources: Vec<(String, PathBuf)>,

    /// An age identity or armored PGP private key file for SOPS-encrypted manifests.
    #[arg(long = "decryption-key", value_name = "FILE")]
    pub decryption_keys: Vec<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,

    /// Reconcile this git ref (branch, tag or commit) instead of the working tree.
    #[arg(long = "ref")]
    pub git_ref: Option<String>,

    /// How long to wait for every Flux object to become Ready, e.g. 90s, 5m.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Report format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Keep the API server running after the report (until Ctrl-C) and write its kubeconfig.
    #[arg(long)]
    pub keep: bool,

    /// Where --keep writes the kubeconfig.
    #[arg(long, default_value = "flux-local.kubeconfig")]
    pub kubeconfig: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,

    /// Build this git ref (branch, tag or commit) instead of the working tree.
    #[arg(long = "ref")]
    pub git_ref: Option<String>,

    /// Print Secret values (masked as `***` by default, since decrypted SOPS values end up there).
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,

    /// The git ref to compare the working tree (or --base) against, e.g. main.
    #[arg(long = "ref")]
    pub git_ref: String,
}

#[derive(Debug, Clone, Args)]
pub struct ApiserverArgs {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 6443)]
    pub port: u16,

    /// Where to write the kubeconfig.
    #[arg(long, default_value = "flux-local.kubeconfig")]
    pub kubeconfig: PathBuf,

    /// Install Flux's CRDs (all components) and create the namespace before serving, so the
    /// controller binaries can start against it at once.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub crds: bool,
}

fn parse_source(s: &str) -> Result<(String, PathBuf), String> {
    let (name, dir) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not NAME=DIR"))?;
    if name.is_empty() || dir.is_empty() {
        return Err(format!("'{s}' is not NAME=DIR"));
    }
    Ok((name.to_string(), PathBuf::from(dir)))
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    flux_api::meta::parse_duration(s).map_err(|e| e.to_string())
}

/// Scratch space in memory when the system has it and the user did not choose: every
/// Kustomization unpacks its whole source, and on ext4 creating that many files right after
/// deleting others costs far more kernel time than the build itself.
fn memory_scratch() {
    let shm = std::path::Path::new("/dev/shm");
    if std::env::var_os("TMPDIR").is_none() && shm.is_dir() {
        let _ = tempfile::env::override_temp_dir(shm);
    }
}

pub fn run(
    global: &crate::cli::GlobalFlags,
    cmd: &LocalCommand,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    memory_scratch();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::Build(format!("starting the runtime: {e}")))?;
    match cmd {
        LocalCommand::Run(args) => runtime.block_on(run_fleet(args, out, err)),
        LocalCommand::Build(args) => {
            let tree = local::worktree::checkout(&args.fleet.repo, args.git_ref.as_deref())
                .map_err(CommandError::Build)?;
            let mut objects = local::build::build_fleet(&tree.options(&args.fleet))
                .map_err(CommandError::Build)?;
            if !args.show_secrets {
                objects = objects.iter().map(local::diff::mask_secret).collect();
            }
            out.write_all(local::build::to_yaml_stream(&objects).as_bytes())?;
            Ok(())
        }
        LocalCommand::Diff(args) => {
            let base = local::worktree::checkout(&args.fleet.repo, Some(&args.git_ref))
                .map_err(CommandError::Build)?;
            let head =
                local::worktree::checkout(&args.fleet.repo, None).map_err(CommandError::Build)?;
            let before = local::build::build_fleet(&base.options(&args.fleet))
                .map_err(|e| CommandError::Build(format!("at {}: {e}", args.git_ref)))?;
            let after = local::build::build_fleet(&head.options(&args.fleet))
                .map_err(CommandError::Build)?;
            let diff = local::diff::diff_objects(&before, &after, &args.git_ref);
            out.write_all(diff.as_bytes())?;
            if diff.is_empty() {
                Ok(())
            } else {
                Err(CommandError::Changes)
            }
        }
        LocalCommand::Apiserver(args) => {
            let opts = flux_apiserver::ServerOptions {
                port: args.port,
                simulate_workloads: true,
                ..Default::default()
            };
            let (crds, namespaces) = if args.crds {
                (flux_api::crds::all(), vec![global.namespace.as_str()])
            } else {
                (Vec::new(), Vec::new())
            };
            runtime
                .block_on(flux_apiserver::serve_foreground_with(
                    opts,
                    &args.kubeconfig,
                    &crds,
                    &namespaces,
                ))
                .map_err(|e| CommandError::Build(e.to_string()))
        }
    }
}

async fn run_fleet(
    args: &RunArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let tree = local::worktree::checkout(&args.fleet.repo, args.git_ref.as_deref())
        .map_err(CommandError::Build)?;
    let opts = local::run::RunOptions {
        build: tree.options(&args.fleet),
        timeout: args.timeout,
        keep: args.keep.then(|| args.kubeconfig.clone()),
    };
    let live = std::io::stderr().is_terminal();
    let mut progress = local::progress::Progress::new(err, live);
    let format = args.output;
    let mut printed: std::io::Result<()> = Ok(());
    let report = local::run::run(&opts, &mut progress, &mut |report| {
        printed = match format {
            OutputFormat::Text => out.write_all(report.to_text().as_bytes()),
            OutputFormat::Json => serde_json::to_string_pretty(report)
                .map_err(std::io::Error::other)
                .and_then(|json| writeln!(out, "{json}")),
        };
    })
    .await
    .map_err(CommandError::Build)?;
    printed?;
    if report.succeeded {
        Ok(())
    } else if report.timed_out {
        Err(CommandError::Failed(format!(
            "timed out after {:?} waiting for Flux objects to become ready",
            args.timeout
        )))
    } else {
        let failed = report.failures().count();
        Err(CommandError::Failed(format!(
            "{failed} Flux object{} not ready",
            if failed == 1 { " is" } else { "s are" }
        )))
    }
}
