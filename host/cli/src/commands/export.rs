//! `gohook export`: builds with their machine identity in one portable file (`gohook_analysis`'s export format).

use anyhow::{Result, bail};

use gohook_analysis::BuildRecords;

use crate::args::ExportArgs;
use crate::commands::CommandContext;

pub fn export(args: ExportArgs, context: CommandContext) -> Result<u8> {
    let ExportArgs { to: _, run, builds, output } = args;
    let output = output.expect("clap requires --output without a subcommand");
    let store = &context.store;
    let records = match run {
        Some(run) => {
            let builds = BuildRecords::of_run(store, &run)?;
            if builds.is_empty() {
                bail!("no builds labelled with run {run:?} in {}", store.root().display());
            }
            builds
        }
        None => BuildRecords::selected(store, &builds)?,
    };
    let count = records.len();
    gohook_analysis::write_export(&output, records)?;
    eprintln!("gohook: exported {count} build(s) to {}", output.display());
    Ok(0)
}
