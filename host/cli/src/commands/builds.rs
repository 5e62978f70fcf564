//! `gohook builds`: the recorded builds, oldest first, with where and on what each ran.

use anyhow::{Context as _, Result};

use gohook_analysis::{BuildRecords, Summary, format_duration, format_unix_ns};

use crate::args::{BuildsArgs, ListFormat};
use crate::calibration;
use crate::commands::CommandContext;
use crate::output::write_output;

pub fn builds(args: BuildsArgs, context: CommandContext) -> Result<u8> {
    let store = &context.store;
    let process_cost = calibration::process_cost(store);
    let mut summaries = Vec::new();
    for file in store.list().with_context(|| format!("cannot list {}", store.builds_dir().display()))? {
        match BuildRecords::load(store, &file) {
            Ok(records) => summaries.push(Summary::of(&records, process_cost)),
            Err(e) => tracing::warn!("skipping {}: {e}", file.path.display()),
        }
    }
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&summaries)? + "\n",
        ListFormat::Table => {
            let mut out =
                format!("{:<34} {:<20} {:>9} {:>5} {:<12} {}\n", "BUILD", "STARTED", "WALL", "RUNS", "EXIT", "COMMAND");
            for s in &summaries {
                let mut command =
                    if s.command.is_empty() { "(bare -toolexec)".to_owned() } else { s.command.join(" ") };
                if let Some(run) = &s.run {
                    command += &format!(" run={run}");
                }
                if let Some(target) = &s.target {
                    command += &format!(" target={target}");
                }
                out += &format!(
                    "{:<34} {:<20} {:>9} {:>5} {:<12} {}\n",
                    s.build_id,
                    format_unix_ns(s.start_unix_ns),
                    format_duration(s.wall_ns),
                    s.invocations,
                    s.exit.map_or("-".to_owned(), |e| e.to_string()),
                    command,
                );
                // Where and on what it ran: two bare builds differ here when their ids say nothing.
                let mut place = Vec::new();
                if !s.dir.is_empty() {
                    place.push(format!("in {}", s.dir));
                }
                if let Some(context) = &s.context {
                    place.push(context.describe());
                }
                if !place.is_empty() {
                    out += &format!("{:<34} {}\n", "", place.join(" · "));
                }
            }
            out
        }
    };
    write_output(None, &text)?;
    Ok(0)
}
