//! `gohook export`: builds with their machine identity in one portable file (`gohook_analysis`'s export format).

use anyhow::{Result, bail};

use gohook_analysis::BuildRecords;

use crate::args::{ExportArgs, ExportCommand};
use crate::commands::{Context, otlp};

pub fn export(args: ExportArgs, context: Context) -> Result<u8> {
    let ExportArgs { to, run, builds, output } = args;
    if let Some(ExportCommand::Otlp(args)) = to {
        return otlp::export(args, context);
    }
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
        None => selected_builds(store, &builds)?,
    };
    let count = records.len();
    gohook_analysis::write_export(&output, records)?;
    eprintln!("gohook: exported {count} build(s) to {}", output.display());
    Ok(0)
}

/// The builds named by id (or unique prefix); the latest when none is named (never empty).
pub fn selected_builds(store: &gohook_records::Store, ids: &[String]) -> Result<Vec<BuildRecords>> {
    if ids.is_empty() {
        return Ok(vec![BuildRecords::latest(store)?]);
    }
    Ok(ids.iter().map(|id| BuildRecords::find(store, id)).collect::<Result<_, _>>()?)
}
