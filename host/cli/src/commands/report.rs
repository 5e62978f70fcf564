//! `gohook report`: one build, or every build and check of a run, in the format asked for. Each format is one arm
//! of [`render`], and the compiler holds every format to both kinds of subject: a new `ReportFormat` does not build
//! until it says what it makes of each.

use anyhow::{Context as _, Result, bail};

use gohook_analysis::{BuildRecords, ProcessCost, RunSummary, Summary, summary_and_reasons};
use gohook_records::Store;

use crate::args::{ReportArgs, ReportFormat};
use crate::calibration;
use crate::commands::CommandContext;
use crate::output::{write_binary, write_output};

/// What a report is about.
enum Subject {
    Build(Box<BuildRecords>),
    /// Every build labelled with a run (`--run`).
    Run {
        name: String,
        builds: Vec<BuildRecords>,
    },
}

enum Rendered {
    Text(String),
    /// Bytes no terminal should get; `hint` says how to write them to a file instead.
    Binary {
        bytes: Vec<u8>,
        hint: &'static str,
    },
}

pub fn report(args: ReportArgs, context: CommandContext) -> Result<u8> {
    let ReportArgs { build, run, format, merge, cores, output } = args;
    if !cores.is_empty() && run.is_some() {
        bail!("--cores replays one build: name it (gohook report BUILD --cores 1,2,4), not --run");
    }
    if cores.contains(&0) {
        bail!("--cores: give numbers of cores from 1 up, e.g. --cores 1,2,4,8");
    }
    let store = &context.store;
    let subject = match run {
        Some(name) => {
            let builds = BuildRecords::of_run(store, &name)?;
            let checked = store.load_checks(&name).is_ok_and(|checks| !checks.records.is_empty());
            if builds.is_empty() && !checked {
                bail!("no builds or checks labelled GOHOOK_RUN={name} in {}", store.root().display());
            }
            Subject::Run { name, builds }
        }
        None => Subject::Build(Box::new(BuildRecords::selected(store, build.as_slice())?.remove(0))),
    };
    // Summaries add the calibrated per-process cost; other formats never start the calibration.
    let process_cost = if uses_process_cost(format) { calibration::process_cost(store) } else { None };
    match render(format, &subject, store, process_cost, merge.as_deref(), &cores)? {
        Rendered::Text(text) => write_output(output, &text)?,
        Rendered::Binary { bytes, hint } => write_binary(output, &bytes, hint)?,
    }
    Ok(0)
}

fn uses_process_cost(format: ReportFormat) -> bool {
    match format {
        ReportFormat::Table | ReportFormat::Json | ReportFormat::Html => true,
        ReportFormat::ChromeTrace | ReportFormat::Records | ReportFormat::Benchfmt | ReportFormat::Pprof => false,
    }
}

fn render(
    format: ReportFormat,
    subject: &Subject,
    store: &Store,
    process_cost: Option<ProcessCost>,
    merge: Option<&std::path::Path>,
    cores: &[u32],
) -> Result<Rendered> {
    let run_summary = |name: &str, builds: &[BuildRecords]| -> Result<RunSummary> {
        RunSummary::of(store, name, builds, process_cost)
            .with_context(|| format!("cannot read the records in {}", store.root().display()))
    };
    let one_build = |what: &str| -> Result<Rendered> {
        bail!("--run shows a table, json or benchfmt, not {what}: pick one build for that (gohook report BUILD)")
    };
    Ok(match (format, subject) {
        (ReportFormat::Table, Subject::Build(build)) => {
            Rendered::Text(with_cores(summary_and_reasons(store, build, process_cost).0, build, cores)?.to_table())
        }
        (ReportFormat::Table, Subject::Run { name, builds }) => Rendered::Text(run_summary(name, builds)?.to_table()),
        (ReportFormat::Json, Subject::Build(build)) => {
            let summary = with_cores(summary_and_reasons(store, build, process_cost).0, build, cores)?;
            Rendered::Text(serde_json::to_string_pretty(&summary)? + "\n")
        }
        (ReportFormat::Json, Subject::Run { name, builds }) => {
            Rendered::Text(serde_json::to_string_pretty(&run_summary(name, builds)?)? + "\n")
        }
        (ReportFormat::ChromeTrace, Subject::Build(build)) => {
            let mut events = match merge {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                    gohook_analysis::parse_go_trace(&text)
                        .with_context(|| format!("{} is not a go -debug-trace file (a JSON array)", path.display()))?
                }
                None => Vec::new(),
            };
            events.extend(gohook_analysis::trace_events(build));
            Rendered::Text(serde_json::to_string(&events)? + "\n")
        }
        (ReportFormat::ChromeTrace, Subject::Run { .. }) => one_build("chrome-trace")?,
        (ReportFormat::Records, Subject::Build(build)) => {
            let mut out = String::new();
            for record in build.records() {
                out.push_str(&serde_json::to_string(&record)?);
                out.push('\n');
            }
            Rendered::Text(out)
        }
        (ReportFormat::Records, Subject::Run { .. }) => one_build("records")?,
        (ReportFormat::Benchfmt, Subject::Build(build)) => {
            Rendered::Text(gohook_analysis::benchfmt(std::slice::from_ref(build)))
        }
        (ReportFormat::Benchfmt, Subject::Run { builds, .. }) => Rendered::Text(gohook_analysis::benchfmt(builds)),
        (ReportFormat::Pprof, Subject::Build(build)) => Rendered::Binary {
            bytes: gohook_analysis::pprof_profile(build),
            hint: "a pprof profile is binary: write it to a file with -o build.pb.gz, then `go tool pprof -top \
                   build.pb.gz`",
        },
        (ReportFormat::Pprof, Subject::Run { .. }) => one_build("pprof")?,
        (ReportFormat::Html, Subject::Build(build)) => {
            let (summary, reasons) = summary_and_reasons(store, build, process_cost);
            Rendered::Text(gohook_analysis::timeline_page(build, &summary, &reasons))
        }
        (ReportFormat::Html, Subject::Run { .. }) => one_build("html")?,
    })
}

/// The summary with the what-if predictions for `cores`, when asked; an error when the build cannot tell.
fn with_cores(mut summary: Summary, build: &BuildRecords, cores: &[u32]) -> Result<Summary> {
    if cores.is_empty() {
        return Ok(summary);
    }
    match gohook_analysis::WhatIf::of(build, cores) {
        Some(what_if) => summary.what_if = Some(what_if),
        None => bail!(
            "--cores needs the build's package graph, which `gohook build` and `gohook bench` record (not a bare \
             -toolexec build, `gohook exec`, an older gohook's bench, or a build without tool runs)"
        ),
    }
    Ok(summary)
}
