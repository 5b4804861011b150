//! `flux completion SHELL`: the shell completion script for bash, zsh, fish or PowerShell,
//! generated from the command definition so it always knows every subcommand and flag.

use std::io::Write;

use clap::{CommandFactory, Subcommand};
use clap_complete::Shell;

use super::CommandError;
use crate::cli::Cli;

#[derive(Debug, Clone, Subcommand)]
pub enum CompletionCommand {
    /// Generates bash completions scripts: `. <(flux completion bash)`.
    Bash,
    /// Generates fish completions scripts: `flux completion fish | source`.
    Fish,
    /// Generates powershell completions scripts.
    Powershell,
    /// Generates zsh completions scripts: `flux completion zsh > "${fpath[1]}/_flux"`.
    Zsh,
}

pub fn run(cmd: &CompletionCommand, out: &mut dyn Write) -> Result<(), CommandError> {
    let shell = match cmd {
        CompletionCommand::Bash => Shell::Bash,
        CompletionCommand::Fish => Shell::Fish,
        CompletionCommand::Powershell => Shell::PowerShell,
        CompletionCommand::Zsh => Shell::Zsh,
    };
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "flux", &mut buf);
    out.write_all(&buf)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(cmd: CompletionCommand) -> String {
        let mut out = Vec::new();
        run(&cmd, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn scripts_know_the_cluster_commands() {
        let bash = script(CompletionCommand::Bash);
        assert!(bash.contains("complete -F _flux"), "{bash}");
        assert!(bash.contains("reconcile"));
        assert!(bash.contains("--status-selector"));
        let fish = script(CompletionCommand::Fish);
        assert!(fish.contains("complete -c flux"), "{fish}");
        assert!(script(CompletionCommand::Zsh).starts_with("#compdef flux"));
    }
}
