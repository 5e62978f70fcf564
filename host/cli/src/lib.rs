//! gohook's commands, run by the `gohook-commands` executable: the command line ([`args`], parsing and value checks
//! only), one module per command (`commands`; none imports another), what several commands share (`go`: running go
//! under gohook; `check_report`: what checks said about files and its renderers; `after_build`: the export at the
//! end of a build; `progress`), the moment server's side of the moment protocol (`serve`), and the calibration of
//! what a process costs, which the reports take as given.
//!
//! The `gohook` executable go runs for every tool run holds only the shim (`gohook_shim`); any other first argument
//! makes it `exec` this one, so none of this code, the reports (`gohook_analysis`) or the wasm runtime
//! (`gohook_runtime`) is ever loaded by the shim.

mod after_build;
mod args;
mod calibration;
mod check_report;
mod commands;
mod evidence;
mod go;
mod output;
mod progress;
mod serve;

use std::ffi::OsString;
use std::path::Path;

use clap::Parser;

use gohook_analysis::Remedy;
use gohook_policy::MOMENT_SERVER;
use gohook_process::{EXIT_USAGE, logging};

/// The `gohook-commands` executable's exit status: moments when the shim asks, else a gohook command.
pub fn main(argv: Vec<OsString>) -> u8 {
    if let Some([first, policy]) = argv.get(1..)
        && first == MOMENT_SERVER
    {
        return serve::serve(Path::new(policy));
    }
    // An author trying a plugin wants its logs and what it read (info); every other command shows warnings.
    let trying_a_plugin = argv.get(1..3).is_some_and(|a| a[0] == "plugin" && a[1] == "test");
    let level = if trying_a_plugin { tracing::Level::INFO } else { tracing::Level::WARN };
    logging::init_at(logging::Target::Stderr, level);
    let cli = match args::Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let remedy = e.chain().find_map(|cause| cause.downcast_ref::<gohook_analysis::Error>()?.remedy());
            match remedy {
                Some(remedy) => eprintln!("gohook: {e:#}: {}", what_to_do(&remedy)),
                None => eprintln!("gohook: {e:#}"),
            }
            EXIT_USAGE
        }
    }
}

/// What to do about an error of the reports, in gohook's commands and flags.
fn what_to_do(remedy: &Remedy) -> String {
    match remedy {
        Remedy::RecordABuild => "run `gohook build` first".to_owned(),
        Remedy::NameABuildOrRun { name } => {
            format!("`gohook builds` lists builds and their runs, `gohook bench --run {name}` records one")
        }
        Remedy::SaveABaseline { dir } => format!(
            "save one on this kind of machine with `gohook baseline save {}`, or choose the key with --key",
            dir.display()
        ),
        Remedy::WriteAnExport { again: false } => "write one with `gohook export`".to_owned(),
        Remedy::WriteAnExport { again: true } => "write it again with `gohook export`".to_owned(),
    }
}
