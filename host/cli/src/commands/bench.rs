//! `gohook bench`: N builds of the same thing under one run name, cold by default (each with a fresh, private
//! GOCACHE, so every package compiles), optionally against a second configuration, interleaved A B B A so that a
//! machine that drifts (thermals, other load) drifts for both. Ends with a per-stage summary, and with `--vs` the
//! comparison of the two sides.
//!
//! Each build is recorded as `gohook build` records one: go's plan and cache-key inputs, and the package graph
//! (listed once per side before the timed builds, since the builds of a side build the same packages), so `why`,
//! the critical path and `report --cores` work on benchmark builds. Programs are linked into a place of the
//! benchmark's own, so that every build links; a library is built as go builds it, with no `-o`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use gohook_analysis::{BuildRecords, CompareOptions, Comparison, Side, Subject, Summary, format_duration};
use gohook_policy::Policy;
use gohook_process::signals;
use gohook_records::Store;

use crate::after_build;
use crate::args::BenchArgs;
use crate::commands::CommandContext;
use crate::go::{GoLaunch, Graph, PackageGraph, gohook_executable, list_packages, run_recorded};

/// One configuration to build with.
struct Config {
    /// The run name its builds are labelled with.
    run: String,
    /// Extra environment (`--vs 'GOAMD64=v3'`).
    env: Vec<(String, String)>,
    /// Another go binary (`--vs-go`).
    go: Option<PathBuf>,
}

struct Options {
    builds: usize,
    warm: bool,
    labels: Vec<(String, String)>,
    configs: Vec<Config>,
    alpha: f64,
    threshold: Option<f64>,
}

/// `KEY=VALUE KEY2=VALUE2` (words as a shell splits them, without quotes) into environment pairs.
fn parse_env(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split_whitespace()
        .map(|word| match word.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => Err(format!("--vs {word:?}: give environment settings as KEY=VALUE, e.g. --vs 'GOAMD64=v3'")),
        })
        .collect()
}

/// `gohook bench`.
pub fn bench(args: BenchArgs, context: CommandContext) -> Result<u8> {
    let BenchArgs { builds, run, warm, labels, vs, vs_go, vs_run, threshold, args } = args;
    let run = run.unwrap_or_else(|| format!("bench-{}", chrono_free_stamp()));
    let mut configs = vec![Config { run: run.clone(), env: Vec::new(), go: None }];
    if vs.is_some() || vs_go.is_some() {
        let env = parse_env(vs.as_deref().unwrap_or("")).map_err(anyhow::Error::msg)?;
        configs.push(Config { run: vs_run.unwrap_or_else(|| format!("{run}-vs")), env, go: vs_go });
    } else if vs_run.is_some() {
        bail!("--vs-run names the second side: give --vs or --vs-go too");
    }
    let options = Options { builds, warm, labels, configs, alpha: gohook_stats::DEFAULT_ALPHA, threshold };
    run_bench(args, &gohook_executable()?, &context.store, context.config.as_deref(), options)
}

/// `20261126T012517Z`: a run name from the current time (UTC), sortable and valid as a file name.
fn chrono_free_stamp() -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    now.replace(['-', ':'], "")
}

fn run_bench(args: Vec<OsString>, gohook: &Path, store: &Store, config: Option<&Path>, options: Options) -> Result<u8> {
    if options.builds == 0 {
        bail!("-n 0: a benchmark needs at least one build (5 or more to tell differences apart)");
    }
    for side in &options.configs {
        let earlier = BuildRecords::of_run(store, &side.run)?.len();
        if earlier > 0 {
            eprintln!(
                "bench: run {} already has {earlier} builds; these add to them (another --run starts afresh)",
                side.run
            );
        }
    }
    let template = GoLaunch::build(args, gohook)?;
    let policy = Policy::find(config, &template.dir)?;
    signals::install();

    // One private cache per side when warm (warmed by one unlabelled build first), else one per build.
    let scratch =
        tempfile::Builder::new().prefix("gohook-bench-").tempdir().context("cannot create a temporary directory")?;
    let warm_caches: Vec<PathBuf> =
        (0..options.configs.len()).map(|i| scratch.path().join(format!("cache-{i}"))).collect();
    if options.warm {
        for (side, cache) in options.configs.iter().zip(&warm_caches) {
            eprintln!("bench: warming {}'s private GOCACHE (not counted)", side.run);
            let command = command_for(&template, side, cache, &options.labels, false);
            let finished = run_recorded(&command, store, &policy, false, Graph::None)?;
            if !finished.exit.success() {
                bail!("the warm-up build failed ({}): see `gohook report {}`", finished.exit, finished.build_id);
            }
        }
    }

    // The package graph of each side, listed before the timed builds: the builds of a side build the same packages.
    let graphs: Vec<Option<PackageGraph>> = options
        .configs
        .iter()
        .map(|side| {
            let command = command_for(&template, side, &scratch.path().join("list-cache"), &options.labels, false);
            let list = command.go_list().ok_or_else(|| "not a go build".to_owned());
            list.and_then(|list| list_packages(&list))
                .map_err(|why| {
                    eprintln!(
                        "bench: {}'s builds are recorded without their package graph ({why}): no critical path, \
                         what-if or why for them",
                        side.run
                    )
                })
                .ok()
        })
        .collect();
    // go refuses `-o DIR/` when nothing named is a program; a library's build links nothing and needs no -o.
    let links = graphs.iter().flatten().all(|graph| graph.named_main > 0);

    let total = options.builds * options.configs.len();
    let mut done = 0;
    let mut benched = Vec::new();
    for round in 0..options.builds {
        // A B, then B A: whatever the first build of a round does to the second (a cache just deleted, a disk
        // still writing) falls on both sides equally, and so does a machine that drifts.
        let mut order: Vec<usize> = (0..options.configs.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let side = &options.configs[i];
            if signals::received().is_some() {
                bail!(
                    "interrupted after {done} of {total} builds; the finished ones are recorded under their run names"
                );
            }
            let cold = scratch.path().join(format!("cold-{round}-{i}"));
            let cache = if options.warm { &warm_caches[i] } else { &cold };
            let mut command = command_for(&template, side, cache, &options.labels, true);
            if links {
                relink_every_time(&mut command, &scratch.path().join(format!("out-{round}-{i}")));
            }
            let graph = graphs[i].as_ref().map_or(Graph::None, Graph::Known);
            let finished = run_recorded(&command, store, &policy, false, graph)?;
            done += 1;
            benched.push(finished.build_id.clone());
            let line = BuildRecords::find(store, &finished.build_id)
                .map(|build| progress(&Summary::of(&build, None)))
                .unwrap_or_default();
            eprintln!("bench: [{done}/{total}] {} {line}", side.run);
            if !options.warm {
                let _ = std::fs::remove_dir_all(&cold);
            }
            if !finished.exit.success() {
                eprintln!(
                    "bench: build {done} of {total} ({}) failed: {}; see `gohook report {}` and its log {}. It stays \
                     recorded under run {}, but no comparison, benchmark summary or baseline counts a failed build.",
                    side.run,
                    finished.exit,
                    finished.build_id,
                    finished.log_path.display(),
                    side.run
                );
                return Ok(finished.exit.shell_code());
            }
        }
    }

    let sides: Vec<Side> = options
        .configs
        .iter()
        .map(|c| Ok(Side::new(&c.run, "run", BuildRecords::of_run(store, &c.run)?)))
        .collect::<Result<_>>()?;
    let exported: Vec<&BuildRecords> =
        sides.iter().flat_map(|side| &side.builds).filter(|build| benched.contains(&build.id)).collect();
    after_build::send_to_otlp(store, &policy, &exported);
    match sides.as_slice() {
        [a, b] => {
            let report = Comparison::of(a, b, &CompareOptions { alpha: options.alpha, threshold: options.threshold });
            print!("{}", report.to_table());
            println!("(compare again any time: gohook compare {} {})", a.name, b.name);
            Ok(report.exit_code)
        }
        [only] => {
            let report = Comparison::of(only, only, &CompareOptions { alpha: options.alpha, threshold: None });
            print!("{}", per_stage(&report));
            println!("(compare with another run: gohook compare {} OTHER)", only.name);
            Ok(0)
        }
        _ => Ok(0),
    }
}

fn command_for(
    template: &GoLaunch,
    side: &Config,
    cache: &Path,
    labels: &[(String, String)],
    counted: bool,
) -> GoLaunch {
    let mut argv = template.argv.clone();
    if let Some(go) = &side.go {
        argv[0] = go.clone().into();
    }
    let mut env = template.env.clone();
    env.push(("GOCACHE".to_owned(), cache.display().to_string()));
    env.extend(side.env.iter().cloned());
    let mut shim = template.shim.clone();
    if counted {
        shim.run = Some(side.run.clone());
    }
    // go's plan and cache keys are asked of every build alike, so both sides pay the same (see the README).
    GoLaunch {
        argv,
        dir: template.dir.clone(),
        env,
        shim,
        list: template.list.clone(),
        plan: true,
        list_after: false,
        watch_outside: false,
    }
    .with_labels(labels)
}

/// go skips a link whose `-o` output is already up to date, even with an empty cache, so a second identical build
/// would not link: the user's `-o` file is removed first; an `-o` directory (or none) becomes a directory of the
/// build's own.
fn relink_every_time(command: &mut GoLaunch, private_output: &Path) {
    let private_dir = OsString::from(format!("{}/", private_output.display()));
    let given = command.output_flag();
    match given {
        Some((at, output, inline)) => {
            let path = command.dir.join(&output);
            if output.ends_with('/') || path.is_dir() {
                command.argv[at] = if inline {
                    let mut flag = OsString::from("-o=");
                    flag.push(&private_dir);
                    flag
                } else {
                    private_dir
                };
            } else if path.is_file() {
                let _ = std::fs::remove_file(&path);
            }
        }
        None => {
            let at =
                command.argv.iter().position(|a| a.to_string_lossy().starts_with("-toolexec=")).map_or(2, |i| i + 1);
            // A trailing slash: go writes each main package's binary into the directory.
            command.argv.splice(at..at, [OsString::from("-o"), private_dir]);
        }
    }
}

/// `12.31s wall, 117 tool runs (64 compile 8.12s, 1 link 1.20s)`, or `FAILED (exit 1): 0.47s wall, 0 tool runs (go
/// failed before running any tool)`.
fn progress(summary: &Summary) -> String {
    format!(
        "{}{} wall, {} ({})",
        summary.failure().map_or(String::new(), |failure| format!("{failure}: ")),
        format_duration(summary.wall_ns),
        gohook_analysis::count(summary.invocations, "tool run", "tool runs"),
        summary.stages_line()
    )
}

/// One side's medians: the OLD column of a report that compares the side with itself.
fn per_stage(report: &Comparison) -> String {
    let mut out = format!(
        "{} of run {}, medians ± 95% CI:\n",
        gohook_analysis::count(report.old.builds, "build", "builds"),
        report.old.name
    );
    for line in gohook_analysis::describe_dropped(&report.old.dropped, &report.old.name) {
        out += &format!("{line}\n");
    }
    if let Some(context) = &report.old.context {
        out += &format!("machine: {}\n", context.describe());
    }
    for row in report.rows.iter().filter(|r| !matches!(r.subject, Subject::Package(_))) {
        let s = &row.comparison.old;
        let ci = s.ci_relative().map_or("± ∞ (need ≥ 6 builds)".to_owned(), |r| format!("± {:.0}%", r * 100.0));
        let value = row.metric.format(s.median);
        out += &format!("  {:<9} {:<10} {value:>10} {ci}\n", row.metric.key(), row.subject.label());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(args: &[&str]) -> GoLaunch {
        GoLaunch::build(args.iter().map(OsString::from).collect(), Path::new("/opt/gohook")).unwrap()
    }

    fn argv(command: &GoLaunch) -> Vec<String> {
        command.argv[1..].iter().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn every_build_links_into_a_fresh_place_unless_it_names_a_file() {
        let private = Path::new("/scratch/out-0-1");
        let mut none = command(&["./cmd/..."]);
        relink_every_time(&mut none, private);
        assert_eq!(argv(&none), ["build", "-toolexec=/opt/gohook", "-o", "/scratch/out-0-1/", "./cmd/..."]);
        let mut dir = command(&["-o", "bin/", "./cmd/..."]);
        relink_every_time(&mut dir, private);
        assert_eq!(argv(&dir), ["build", "-toolexec=/opt/gohook", "-o", "/scratch/out-0-1/", "./cmd/..."]);
        let mut inline = command(&["-o=bin/", "."]);
        relink_every_time(&mut inline, private);
        assert_eq!(argv(&inline), ["build", "-toolexec=/opt/gohook", "-o=/scratch/out-0-1/", "."]);
        let mut file = command(&["-o", "/nonexistent/app", "."]);
        relink_every_time(&mut file, private);
        assert_eq!(argv(&file), ["build", "-toolexec=/opt/gohook", "-o", "/nonexistent/app", "."]);
    }
}
