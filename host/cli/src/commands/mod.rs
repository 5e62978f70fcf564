//! One module per command. [`run`] matches the parsed command once and calls that command's one function; each
//! takes its own arguments and the [`CommandContext`] every command shares.

mod archdeps;
mod attest;
mod authoring;
mod baseline;
mod bench;
mod build;
mod builds;
mod check;
mod compare;
mod doctor;
mod export;
mod goreleaser;
mod otlp;
mod plugins;
mod report;
mod verify;
mod why;

use std::path::PathBuf;

use anyhow::Result;

use gohook_records::Store;

use crate::args::{BaselineCommand, Cli, Command, ExportArgs, ExportCommand, GoreleaserCommand, PluginCommand};

/// What every command gets: the record root and the policy file named on the command line.
pub struct CommandContext {
    pub store: Store,
    /// `--config`; `None` lets the policy be found as usual.
    pub config: Option<PathBuf>,
}

/// Runs the command; its exit status.
pub fn run(cli: Cli) -> Result<u8> {
    let store = match &cli.dir {
        Some(dir) => Store::new(std::path::absolute(dir)?),
        None => Store::locate(),
    };
    let context = CommandContext { store, config: cli.config };
    match cli.command {
        Command::Build(args) => build::build(args, context),
        Command::Exec(args) => build::exec(args, context),
        Command::Bench(args) => bench::bench(args, context),
        Command::Compare(args) => compare::compare(args, context),
        Command::Export(ExportArgs { to: Some(ExportCommand::Otlp(args)), .. }) => otlp::export(args, context),
        Command::Export(args) => export::export(args, context),
        Command::Report(args) => report::report(args, context),
        Command::Why(args) => why::why(args, context),
        Command::Builds(args) => builds::builds(args, context),
        Command::Attest(args) => attest::attest(args, context),
        Command::Verify(args) => verify::verify(args),
        Command::Check(args) => check::check(args, context),
        Command::Plugins(args) => plugins::plugins(args, context),
        Command::Doctor(args) => doctor::doctor(args, context),
        Command::Archdeps(args) => archdeps::archdeps(args),
        Command::Plugin(PluginCommand::New(args)) => authoring::new(args),
        Command::Plugin(PluginCommand::Build(args)) => authoring::build(args),
        Command::Plugin(PluginCommand::Test(args)) => authoring::test(args, context),
        Command::Goreleaser(GoreleaserCommand::Lint(args)) => goreleaser::lint(args, context),
        Command::Baseline(BaselineCommand::Save(args)) => baseline::save(args, context),
        Command::Baseline(BaselineCommand::List(args)) => baseline::list(args),
    }
}
