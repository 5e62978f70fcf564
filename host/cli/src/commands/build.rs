//! `gohook build` and `gohook exec`: run a go command with gohook as `-toolexec`, on one build id and time axis.
//!
//! The driver picks the build id and start stamp, resolves the policy file once, and passes all of it down in the
//! environment, so every shim invocation agrees without looking anything up. Afterwards it prints a short summary on
//! stderr and exits with go's exit code.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use gohook_analysis::{BuildRecords, ProcessCost, Summary, ToolProfile, format_duration};
use gohook_policy::Policy;
use gohook_process::signals;
use gohook_records::{Exit, Store};

use crate::after_build;
use crate::args::{BuildArgs, ExecArgs, Recording};
use crate::calibration;
use crate::commands::CommandContext;
use crate::evidence;
use crate::go::{GoLaunch, gohook_executable, run_recorded};
use crate::output::write_file;

/// `gohook build`.
pub fn build(args: BuildArgs, context: CommandContext) -> Result<u8> {
    let mut launch = GoLaunch::build(args.args, &gohook_executable()?)?.with_labels(&args.recording.labels);
    launch.plan = !args.no_plan;
    let attest = args.attest.map(|dir| (!dir.is_empty()).then(|| PathBuf::from(dir)));
    run(launch, RunOptions { attest, ..RunOptions::of(args.recording, context) })
}

/// `gohook exec`.
pub fn exec(args: ExecArgs, context: CommandContext) -> Result<u8> {
    let launch = GoLaunch::exec(args.command, &gohook_executable()?)?.with_labels(&args.recording.labels);
    run(launch, RunOptions::of(args.recording, context))
}

/// What `build` and `exec` do around the go command.
pub struct RunOptions {
    pub store: Store,
    pub config: Option<PathBuf>,
    /// Record the compiler's and linker's phases (`--phases`).
    pub phases: bool,
    /// Merge the tools' CPU profiles into this file (`--cpuprofile`).
    pub cpuprofile: Option<PathBuf>,
    /// Write the timeline page (`--html`): `Some(None)` to the records directory, `Some(Some(path))` there.
    pub html: Option<Option<PathBuf>>,
    /// Write the binary's attestations (`--attest`): `Some(None)` where `[attest]` or the binary's directory says.
    pub attest: Option<Option<PathBuf>>,
}

impl RunOptions {
    fn of(recording: Recording, context: CommandContext) -> RunOptions {
        let html = recording.html.map(|path| (!path.is_empty()).then(|| PathBuf::from(path)));
        RunOptions {
            store: context.store,
            config: context.config,
            phases: recording.phases,
            cpuprofile: recording.cpuprofile,
            html,
            attest: None,
        }
    }
}

fn run(mut command: GoLaunch, options: RunOptions) -> Result<u8> {
    let policy = Policy::find(options.config.as_deref(), &command.dir)?;
    command.shim.phases = options.phases;
    let profiles = match &options.cpuprofile {
        Some(_) => {
            let dir = tempfile::Builder::new().prefix("gohook-cpuprofiles-").tempdir().context("--cpuprofile")?;
            command.shim.cpuprofile_dir = Some(dir.path().to_owned());
            Some(dir)
        }
        None => None,
    };
    signals::install();
    let finished = run_recorded(&command, &options.store, &policy, true, command.graph())?;
    // Read once for the summary line and every report asked for.
    let process_cost = calibration::process_cost(&options.store);
    let records = BuildRecords::find(&options.store, &finished.build_id);
    let built_nothing =
        !finished.recorded || records.as_ref().is_ok_and(|records| !ran_a_go_tool(records) && finished.exit.success());
    if built_nothing {
        // `gohook exec -- make lint`, `-- go env`: nothing was built, so there is no build to keep (it would only
        // push real ones out of the retention limit). A go command that failed before its first tool stays: that is
        // a failed build.
        if let Err(e) = options.store.remove(&finished.build_id) {
            tracing::warn!("cannot remove the records of a command that built nothing: {e}");
        }
        let printable: Vec<String> = command.argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        eprintln!("gohook: {} ran no go tool ({}): not a build, nothing recorded", printable.join(" "), finished.exit);
        return Ok(exit_code(finished.exit));
    }
    let read = records
        .map(|records| {
            let summary = Summary::of(&records, process_cost);
            (records, summary)
        })
        .map_err(|e| format!("{e:#}"));
    print_summary(&finished.build_id, read.as_ref().ok().map(|(_, summary)| summary), &finished.log_path);
    if !finished.exit.success()
        && let Ok((records, _)) = &read
    {
        warn_of_stale_output(&command, records.start_unix_ns());
    }
    // go's exit stays the exit code: a report that cannot be written is said, not turned into a failure.
    if let Some(path) = &options.cpuprofile
        && let Err(e) = read.as_ref().map_err(|e| anyhow::anyhow!("{e}")).and_then(|(r, _)| write_cpu_profile(r, path))
    {
        eprintln!("gohook: no CPU profile: {e:#}");
    }
    drop(profiles);
    if let Some(path) = options.html {
        let path =
            path.unwrap_or_else(|| options.store.root().join("html").join(format!("{}.html", finished.build_id)));
        if let Err(e) = read
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .and_then(|(r, _)| write_timeline(&options.store, r, process_cost, &path))
        {
            eprintln!("gohook: no timeline page: {e:#}");
        }
    }
    if let Ok((records, _)) = &read {
        after_build::send_to_otlp(&options.store, &policy, &[records]);
    }
    let attest = options.attest.or_else(|| policy.attest.as_ref().map(|_| None));
    if let Some(dir) = attest {
        if !finished.exit.success() {
            eprintln!("gohook: no attestations: the build failed");
        } else if let Err(e) = read
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .and_then(|(records, _)| evidence::after_build(&options.store, &policy, records, dir))
        {
            eprintln!("gohook: no attestations: {e:#}");
            return Ok(2);
        }
    }
    Ok(exit_code(finished.exit))
}

/// go's exit code, or 130 after Ctrl-C, as a shell reports it.
fn exit_code(exit: Exit) -> u8 {
    match signals::received() {
        Some(libc::SIGINT) => 130,
        _ => exit.shell_code(),
    }
}

/// Whether any shim ran in the build: a go tool, or go's `-V=full` probe of one (every go command that builds asks).
fn ran_a_go_tool(records: &BuildRecords) -> bool {
    !records.runs.is_empty() || records.context.is_some() || !records.tool_keys.is_empty()
}

/// The line gohook prints when go is done: `summary` is `None` when the build's records could not be read.
fn print_summary(build_id: &str, summary: Option<&Summary>, log_path: &Path) {
    match summary {
        Some(summary) => eprintln!(
            "gohook: build {build_id}{}: {} in {} ({}); gohook overhead {}; details: gohook report {build_id}",
            summary.failure().map_or(String::new(), |failure| format!(" {failure}")),
            gohook_analysis::count(summary.invocations, "tool run", "tool runs"),
            format_duration(summary.wall_ns),
            summary.stages_line(),
            format_duration(summary.gohook.whole_ns),
        ),
        None => eprintln!("gohook: build {build_id}: no records were written (see warnings above)"),
    }
    if let Some(line) = summary.and_then(Summary::unrecorded_line) {
        eprintln!("gohook: {line}");
    }
    if let Some(summary) = summary {
        let warnings: Vec<_> =
            summary.findings.iter().filter(|f| f.finding.severity != gohook_records::FindingLevel::Error).collect();
        for f in warnings.iter().take(5) {
            eprintln!(
                "gohook: {}[{}] {} ({} {})",
                f.finding.severity.name(),
                f.finding.rule,
                f.finding.message,
                f.tool,
                f.package
            );
        }
        if warnings.len() > 5 {
            eprintln!("gohook: … and {} more findings: gohook report {build_id}", warnings.len() - 5);
        }
    }
    let warnings = std::fs::read_to_string(log_path).unwrap_or_default();
    let lines: Vec<&str> = warnings.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
    if !lines.is_empty() {
        eprintln!("gohook: {} warning(s) during the build, full log in {}:", lines.len(), log_path.display());
        for line in lines.iter().take(3) {
            eprintln!("  {line}");
        }
    }
}

/// After a failed build: the binary at `-o`, when an earlier build left it there, is not this build's — a release
/// script that misses one exit code would ship it.
fn warn_of_stale_output(command: &GoLaunch, build_start_ns: u64) {
    let Some((_, output, _)) = command.output_flag() else { return };
    let path = command.dir.join(&output);
    let Ok(modified) = std::fs::metadata(&path).and_then(|m| m.modified()) else { return };
    if !path.is_file() || gohook_records::unix_ns(modified) >= build_start_ns {
        return;
    }
    eprintln!(
        "gohook: {output} is not this build's: an earlier build wrote it ({}); this one failed and left it there. \
         Remove it (rm {output}) before anything ships it.",
        humantime::format_rfc3339_seconds(modified)
    );
}

/// Merges the CPU profiles the build's compiles and links wrote (`--cpuprofile`) into `path`.
fn write_cpu_profile(records: &BuildRecords, path: &Path) -> Result<()> {
    let runs: std::collections::HashMap<(u32, u64), &gohook_records::ToolRun> =
        records.runs.iter().map(|r| ((r.pid, r.start_unix_ns), r)).collect();
    let mut profiles = Vec::new();
    for report in &records.self_reports {
        let (Some(file), Some(run)) = (&report.cpu_profile, runs.get(&(report.pid, report.start_unix_ns))) else {
            continue;
        };
        // A tool that failed may have left its profile unfinished.
        if !run.exit.success() {
            continue;
        }
        match std::fs::read(file) {
            Ok(bytes) => {
                profiles.push(ToolProfile { package: run.package.clone(), tool: run.tool.clone(), bytes });
            }
            Err(e) => tracing::warn!("cannot read the CPU profile {file} of {}: {e}", run.package),
        }
    }
    if profiles.is_empty() {
        eprintln!(
            "gohook: no CPU profile written: no compile or link ran to the end (go's build cache served every \
             package, or the build failed); add -a to profile every package"
        );
        return Ok(());
    }
    let merged = gohook_analysis::merge_profiles(&profiles);
    for skipped in &merged.skipped {
        eprintln!("gohook: left out a CPU profile that is not one: {skipped}");
    }
    write_file(path, &merged.gzipped)?;
    let compiled = profiles.iter().filter(|p| p.tool == "compile").count();
    let links = profiles.len() - compiled;
    eprintln!(
        "gohook: CPU profiles of {compiled} compile{} and {links} link{} merged into {} (go tool pprof -top -tagfocus=package=… {})",
        if compiled == 1 { "" } else { "s" },
        if links == 1 { "" } else { "s" },
        path.display(),
        path.display()
    );
    Ok(())
}

/// Writes the build's timeline page to `path` and says where.
fn write_timeline(store: &Store, records: &BuildRecords, cost: Option<ProcessCost>, path: &Path) -> Result<()> {
    let (summary, reasons) = gohook_analysis::summary_and_reasons(store, records, cost);
    write_file(path, gohook_analysis::timeline_page(records, &summary, &reasons).as_bytes())?;
    eprintln!("gohook: timeline page: {}", path.display());
    Ok(())
}
