//! The top-level `flux` command: global flags, subcommand dispatch and exit codes.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{self, CommandError};

/// Command line utility for assembling Kubernetes CD pipelines the GitOps way.
#[derive(Debug, Parser)]
// `flux --version` prints `flux version X.Y.Z`, cobra's format that scripts parse.
#[command(
    name = "flux",
    version = concat!("version ", env!("CARGO_PKG_VERSION")),
    args_override_self = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every `flux` subcommand accepts, as Flux's persistent flags.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalFlags {
    /// The namespace scope for this operation.
    #[arg(short = 'n', long, global = true, default_value = "flux-system")]
    pub namespace: String,

    // kubeconfig and timeout keep the ids and value types of `flux local`'s own flags of the
    // same names: clap then leaves those subcommands their own flags instead of clashing.
    /// Path to the kubeconfig file to use for CLI requests.
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<std::path::PathBuf>,

    /// The name of the kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,

    /// Timeout for this operation.
    #[arg(long, global = true, default_value = "5m0s", value_parser = flux_runtime::flags::parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render Helm charts locally.
    #[command(subcommand)]
    Helm(commands::helm::HelmCommand),
    /// Check requirements and installation.
    Check(commands::check::CheckArgs),
    /// Generates completion scripts for various shells.
    #[command(subcommand)]
    Completion(commands::completion::CompletionCommand),
    /// Build a flux object locally.
    #[command(subcommand)]
    Build(commands::build::BuildCommand),
    /// Diff a flux resource.
    #[command(subcommand)]
    Diff(commands::build::DiffCommand),
    /// Create or update sources and resources.
    Create(commands::create::CreateArgs),
    /// Display Kubernetes events for Flux resources.
    Events(commands::events::EventsArgs),
    /// Export resources in YAML format.
    Export(commands::export::ExportArgs),
    /// Get the resources and their status.
    Get(commands::get::GetArgs),
    /// Print the resources reconciled by Flux.
    Tree(commands::tree::TreeArgs),
    /// Reconcile sources and resources.
    Reconcile(commands::reconcile::ReconcileArgs),
    /// Resume suspended resources.
    Resume(commands::suspend::ResumeArgs),
    /// Suspend resources.
    Suspend(commands::suspend::SuspendArgs),
    /// Install or upgrade Flux.
    Install(commands::install::InstallArgs),
    /// Uninstall Flux and its custom resource definitions.
    Uninstall(commands::uninstall::UninstallArgs),
    /// Build kustomizations as `kubectl kustomize` does.
    #[command(subcommand)]
    Kustomize(commands::kustomize::KustomizeCommand),
    /// Run, build and diff a fleet repository with no cluster.
    #[command(subcommand)]
    Local(commands::local::LocalCommand),
    /// Print the client and server-side components version information.
    Version(commands::version::VersionArgs),
    /// Push artifacts
    #[command(subcommand)]
    Push(commands::artifact::PushCommand),
    /// Pull artifacts
    #[command(subcommand)]
    Pull(commands::artifact::PullCommand),
    /// Tag artifacts
    #[command(subcommand)]
    Tag(commands::artifact::TagCommand),
    /// List artifacts
    #[command(subcommand)]
    List(commands::artifact::ListCommand),
}

/// Runs `flux` with `args` (program name first), writing to `out`; returns the exit code:
/// 0 on success, 1 on any error (Flux's cobra exit code), help and version included as 0.
pub fn run<I, S>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> ExitCode
where
    I: IntoIterator<Item = S>,
    S: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let (text, code) = (e.render().to_string(), if e.use_stderr() { 1 } else { 0 });
            let sink: &mut dyn Write = if code == 0 { out } else { err };
            let _ = write!(sink, "{text}");
            return ExitCode::from(code);
        }
    };
    match dispatch(&cli, out, err) {
        Ok(()) => ExitCode::SUCCESS,
        // `flux install --export | head`: the reader left; that is not an error to report.
        Err(CommandError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(CommandError::Changes) => ExitCode::from(1),
        Err(e) => {
            let _ = writeln!(err, "✗ {e}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), CommandError> {
    match &cli.command {
        Command::Install(args) => commands::install::run(&cli.global, args, out, err),
        Command::Uninstall(args) => commands::uninstall::run(&cli.global, args, err),
        Command::Build(cmd) => commands::build::run_build(&cli.global, cmd, out),
        Command::Diff(cmd) => commands::build::run_diff(&cli.global, cmd, out),
        Command::Create(args) => commands::create::run(&cli.global, args, out, err),
        Command::Get(args) => commands::get::run(&cli.global, args, out, err),
        Command::Check(args) => commands::check::run(&cli.global, args, err),
        Command::Completion(cmd) => commands::completion::run(cmd, out),
        Command::Events(args) => commands::events::run(&cli.global, args, out, err),
        Command::Export(args) => commands::export::run(&cli.global, args, out, err),
        Command::Tree(args) => commands::tree::run(&cli.global, args, out),
        Command::Reconcile(args) => commands::reconcile::run(&cli.global, args, err),
        Command::Resume(args) => commands::suspend::run_resume(&cli.global, args, err),
        Command::Suspend(args) => commands::suspend::run_suspend(&cli.global, args, err),
        Command::Version(args) => commands::version::run(Some(&cli.global), args, out),
        Command::Kustomize(cmd) => commands::kustomize::run(cmd, out),
        Command::Helm(cmd) => commands::helm::run(cmd, out),
        Command::Local(cmd) => commands::local::run(&cli.global, cmd, out, err),
        Command::Push(cmd) => commands::artifact::run_push(&cli.global, cmd, out, err),
        Command::Pull(cmd) => commands::artifact::run_pull(&cli.global, cmd, err),
        Command::Tag(cmd) => commands::artifact::run_tag(&cli.global, cmd, err),
        Command::List(cmd) => commands::artifact::run_list(&cli.global, cmd, out, err),
    }
}

/// The `flux` binary's entry point.
pub fn main() -> ExitCode {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run(std::env::args_os(), &mut stdout.lock(), &mut stderr.lock())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_goes_to_stdout_with_exit_zero() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(["flux", "install", "--help"], &mut out, &mut err);
        assert_eq!(code, ExitCode::SUCCESS);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("--components-extra"), "{text}");
        assert!(err.is_empty());
    }

    #[test]
    fn repeated_flags_take_the_last_value_like_cobra() {
        let cli = Cli::try_parse_from([
            "flux",
            "install",
            "-n",
            "a",
            "--namespace=b",
            "--log-level=debug",
            "--log-level=error",
        ])
        .unwrap();
        assert_eq!(cli.global.namespace, "b");
        let Command::Install(args) = cli.command else {
            panic!("expected install");
        };
        assert_eq!(args.log_level, "error");
    }

    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn closed_stdout_ends_quietly() {
        let mut err = Vec::new();
        let code = run(["flux", "install", "--export"], &mut ClosedPipe, &mut err);
        assert_eq!(code, ExitCode::SUCCESS);
        assert!(err.is_empty(), "{}", String::from_utf8_lossy(&err));
    }

    #[test]
    fn missing_subcommand_is_an_error() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run(["flux"], &mut out, &mut err), ExitCode::from(1));
        assert!(!err.is_empty());
    }
}
