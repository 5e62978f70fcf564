//! gohook's commands. The shim itself is not one of them: see [`gohook_shim`].

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use crate::calibration;
use crate::commands::build::{self as driver, GoCommand, RunOptions};
use crate::commands::compare::{self, Side};
use crate::commands::report::{BuildRecords, RunSummary, Summary, format_duration, format_unix_ns};
use crate::commands::trace;
use crate::commands::{bench, benchfmt, export, pprof};
use gohook_policy::PluginSpec;
use gohook_policy::Policy;
use gohook_records::Labels;
use gohook_records::Store;
use gohook_records::{BuildLabel, BuildPackages, CheckRun, Record};
use gohook_runtime::Checker;
use gohook_shim::logging;

/// The subcommand names; any other first argument is a tool path and gohook runs as the toolexec shim.
pub const COMMANDS: &[&str] = &[
    "build",
    "bench",
    "compare",
    "export",
    "exec",
    "report",
    "builds",
    "plugins",
    "check",
    "goreleaser",
    "doctor",
    "help",
];

const ABOUT: &str = "A -toolexec shim for go build: times every compile, asm and link on one time axis";

const AFTER_HELP: &str = "\
How go runs gohook:
  go build -toolexec=/abs/path/to/gohook ./...   every tool invocation goes through gohook
  gohook build ./...                             the same, plus one build id and a summary
  gohook exec -- go test ./...                   any go command, -toolexec through GOFLAGS
  gohook bench -n 5 --run before -- ./cmd/app    N cold builds; gohook compare before after
  goreleaser: builds[].flags: [-toolexec=gohook] (README: \"Use with goreleaser\")

As a shim (first argument a tool path) gohook passes the tool's output and exit code
through untouched, prints nothing of its own on success, and appends one timing record
per invocation.

Environment:
  GOHOOK_DIR     record root (default: the user cache directory, e.g. ~/.cache/gohook)
  GOHOOK_CONFIG  policy file (default: the nearest gohook.toml above the go command's
                 directory; empty: none)
  GOHOOK_LOG     log filter, e.g. debug (default: warn); the shim logs to
                 GOHOOK_LOG_FILE or <root>/gohook.log
  GOHOOK_GO      the go binary gohook build/exec run (default: go from PATH)
  GOHOOK_RUN     labels every build (and `gohook check`) with a run, e.g. one goreleaser
                 release; `gohook report --run NAME` shows them together
  GOHOOK_TARGET  labels the build with its target within the run (goreleaser's .Target)
  GOHOOK_LABELS  free-form labels, key=value,key=value (gohook build/bench --label adds)

Exit codes: gohook build/exec exit with go's code (130 after Ctrl-C); gohook check exits
1 on a policy failure; every command exits 2 on usage or I/O errors.";

#[derive(Parser, Debug)]
#[command(name = "gohook", version, about = ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// Policy file to use instead of the nearest gohook.toml.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Record root (default: GOHOOK_DIR, else the user cache directory).
    #[arg(long, global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// What `build` and `exec` record besides each tool run's times.
#[derive(clap::Args, Debug)]
struct Recording {
    /// Label the build (repeatable), e.g. --label machine=ci-large; shown by `builds` and `report`, kept in
    /// exports and benchfmt. GOHOOK_LABELS=k=v,k2=v2 does the same for any go command.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// Record the compiler's phases (parse, inlining, escape analysis, SSA back end, object writing) and the
    /// linker's (loadlib, deadcode, dwarf, …) for every compile and link; `report` then shows them. Changes
    /// nothing go builds or caches. `[records] phases = true` in gohook.toml does it for every build.
    #[arg(long)]
    phases: bool,
    /// Collect the compiler's and linker's own CPU profiles into one pprof profile, with a `package` label on
    /// every sample: go tool pprof -top -tagfocus=package=example.com/slow FILE.
    #[arg(long, value_name = "FILE")]
    cpuprofile: Option<PathBuf>,
    /// Write the build's timeline page (one self-contained HTML file) and print its path; without =FILE it
    /// goes to <records dir>/html/<build id>.html.
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    html: Option<String>,
}

impl Recording {
    fn options(self, store: Store, config: Option<PathBuf>) -> RunOptions {
        let html = self.html.map(|path| (!path.is_empty()).then(|| PathBuf::from(path)));
        RunOptions { store, config, phases: self.phases, cpuprofile: self.cpuprofile, html }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run `go build` with gohook as -toolexec; every argument goes to go build.
    ///
    /// Example: gohook build -o bin/app ./cmd/app
    #[command(after_help = "Prints a one-line summary on stderr when go exits, and exits with go's exit code.")]
    Build {
        #[command(flatten)]
        recording: Recording,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "GO BUILD ARGS")]
        args: Vec<OsString>,
    },
    /// Build the same thing N times, cold (a fresh private GOCACHE per build), under one run name; with --vs, against
    /// a second configuration, interleaved A B B A.
    ///
    /// Example: gohook bench -n 5 --run before -- -o /tmp/app ./cmd/app
    #[command(after_help = "Each build prints a progress line on stderr; the end shows each stage's median ± 95% \
                            CI, or with --vs/--vs-go the comparison of the two sides (as `gohook compare`). The \
                            builds stay recorded: `gohook compare RUN OTHER` compares them again later, with builds \
                            from another commit or machine (`gohook export`).")]
    Bench {
        /// Builds per side.
        #[arg(short = 'n', default_value_t = 5, value_name = "N")]
        builds: usize,
        /// The run name the builds are recorded under (default: bench-<time>).
        #[arg(long, value_name = "NAME")]
        run: Option<String>,
        /// Keep one private GOCACHE per side (warmed by one uncounted build) instead of a fresh one per build.
        #[arg(long)]
        warm: bool,
        /// Label every build (repeatable).
        #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
        labels: Vec<(String, String)>,
        /// A second side: the same build with these environment settings, e.g. --vs 'GOAMD64=v3' or
        /// --vs 'GOFLAGS=-gcflags=all=-N'.
        #[arg(long, value_name = "KEY=VALUE ...")]
        vs: Option<String>,
        /// A second side built by another go binary, e.g. --vs-go ~/sdk/go1.27/bin/go.
        #[arg(long, value_name = "GO")]
        vs_go: Option<PathBuf>,
        /// The run name of the second side (default: <run>-vs).
        #[arg(long, value_name = "NAME")]
        vs_run: Option<String>,
        /// With a second side: exit 1 on a significant slowdown costing more than this share of the build, e.g. 5%.
        #[arg(long, value_name = "PERCENT", value_parser = compare::parse_percent)]
        threshold: Option<f64>,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "GO BUILD ARGS")]
        args: Vec<OsString>,
    },
    /// Compare two sets of builds: is NEW faster or slower than OLD, per stage, and is the difference significant.
    ///
    /// Example: gohook compare before after --threshold 5%
    #[command(after_help = "OLD and NEW are each a run name (gohook bench --run, GOHOOK_RUN), a build id, or a file \
                            written by `gohook export` (from this or another machine). Per row: median ± 95% CI on \
                            each side, the change, and the Mann-Whitney U p-value; `~` when the change is not \
                            significant at --alpha, \"need ≥ N samples\" when the sides are too small to tell. Exit \
                            1 when --threshold is given and a time row (the whole build or a stage) got significantly \
                            slower by more than that share of the whole build; else 0 (improvements and noise too).")]
    Compare {
        old: String,
        new: String,
        /// Significance level of the Mann-Whitney U test.
        #[arg(long, default_value_t = gohook_stats::DEFAULT_ALPHA)]
        alpha: f64,
        /// Exit 1 when a time row (whole build or a stage) is significantly slower and its slowdown costs more than
        /// this share of the whole build, e.g. 5%.
        #[arg(long, value_name = "PERCENT", value_parser = compare::parse_percent)]
        threshold: Option<f64>,
        #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
        format: CompareFormat,
        /// Write to this file instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write builds with their machine identity to one portable file that `gohook compare` reads anywhere.
    ///
    /// Example: gohook export --run before -o before.json
    Export {
        /// Every build of this run.
        #[arg(long, value_name = "NAME", conflicts_with = "builds")]
        run: Option<String>,
        /// Build ids (or unique prefixes); default: the latest build.
        builds: Vec<String>,
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
    },
    /// Run any command with gohook as -toolexec of the go commands it starts (through GOFLAGS).
    ///
    /// Example: gohook exec -- go test ./...
    Exec {
        #[command(flatten)]
        recording: Recording,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true, value_name = "COMMAND")]
        command: Vec<OsString>,
    },
    /// Show where a recorded build spent its time.
    Report {
        /// Build id or a unique prefix of it (default: the latest build).
        #[arg(conflicts_with = "run")]
        build: Option<String>,
        /// Every build and check labelled with this GOHOOK_RUN (e.g. all targets of one goreleaser run).
        #[arg(long, value_name = "NAME")]
        run: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
        /// With chrome-trace: a `go build -debug-trace=FILE` file to merge into the output.
        #[arg(long, value_name = "GO_TRACE")]
        merge: Option<PathBuf>,
        /// Write to this file instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// List recorded builds, oldest first.
    Builds {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Check finished binaries with the configured plugins (or --rules); exit 0 pass, 1 policy failure, 2 error.
    ///
    /// Example: gohook check --rules strip,dwarf dist/app_linux_amd64/app
    #[command(after_help = "Without --rules: the plugins of gohook.toml, or every built-in plugin with its defaults \
                            when there is no gohook.toml.")]
    Check {
        /// Binaries to check (ELF, Mach-O thin or universal, PE).
        #[arg(required_unless_present = "artifacts", value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Also check every binary listed in goreleaser's dist/artifacts.json.
        #[arg(long, value_name = "ARTIFACTS_JSON")]
        artifacts: Option<PathBuf>,
        /// Plugins to run, by name (comma separated); settings from gohook.toml where it has them.
        #[arg(long, value_delimiter = ',', value_name = "NAMES")]
        rules: Vec<String>,
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        /// Also show the Go build info of each binary (go version, GOOS/GOARCH, -buildmode, -ldflags, …).
        #[arg(long)]
        explain: bool,
        /// The target the binaries were built for (goreleaser's {{ .Target }}), recorded with the results when
        /// GOHOOK_RUN is set (default: GOHOOK_TARGET).
        #[arg(long, value_name = "TARGET")]
        target: Option<String>,
        /// Exit 0 even when a binary fails the policy (errors such as an unreadable file still exit 2): for CI steps
        /// that upload the SARIF to code scanning and must not fail on findings.
        #[arg(long)]
        exit_zero: bool,
    },
    /// Check the installation: go, the -toolexec path, the record and plugin cache directory, the policy and its
    /// plugins, the wasm target for plugin authors; exit 1 when something must be fixed.
    Doctor {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// goreleaser integration: `gohook goreleaser lint` checks the build matrix against the policy.
    #[command(subcommand)]
    Goreleaser(GoreleaserCommand),
    /// List the plugins the policy configures: version, moments, tools, and whether native code is cached.
    Plugins {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
}

#[derive(Subcommand, Debug)]
enum GoreleaserCommand {
    /// Expand the build matrix as goreleaser does and put every target to the policy's probe checks (the arch
    /// allow-list), before anything builds; exit 0 pass, 1 a forbidden target, 2 error.
    ///
    /// Example: gohook goreleaser lint .goreleaser.yaml
    #[command(after_help = "The policy is the nearest gohook.toml above the config file (or --config). Targets \
                            follow goreleaser v2: goos × goarch × goamd64/goarm64/goarm/…, `ignore`, `targets`, \
                            and goreleaser's defaults for absent fields.")]
    Lint {
        /// The goreleaser config (version 2).
        #[arg(default_value = ".goreleaser.yaml", value_name = "GORELEASER_YAML")]
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ReportFormat {
    /// A human summary.
    Table,
    /// The summary as one JSON object.
    Json,
    /// Trace Event JSON in epoch microseconds; opens in Perfetto next to go's -debug-trace.
    ChromeTrace,
    /// Every record, one JSON object per line.
    Records,
    /// The Go benchmark format (one line per build, stage and package) for benchstat; also with --run.
    Benchfmt,
    /// A gzipped pprof profile (samples: tool runs; stack: build, stage, package) for `go tool pprof`; give -o.
    Pprof,
    /// The timeline page: one self-contained HTML file (tool runs on lanes, critical path, concurrency, tables).
    Html,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum CompareFormat {
    Table,
    Json,
    /// A GitHub-flavoured table, for a pull-request comment.
    Markdown,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    let mut labels = gohook_records::parse_labels(text)?;
    match (labels.pop(), labels.is_empty()) {
        (Some(label), true) => Ok(label),
        _ => Err(format!("{text:?}: one KEY=VALUE per --label")),
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum CheckFormat {
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ListFormat {
    Table,
    Json,
}

/// Every command, run in this process: what `gohook-plugin-host` runs.
pub fn main(argv: Vec<OsString>) -> u8 {
    entry(argv, run_plugin_command)
}

/// The commands that run no plugins, in this process; the others are handed to the plugin host, so that the
/// `gohook` executable never links the wasm runtime.
pub fn main_without_plugins(argv: Vec<OsString>) -> u8 {
    entry(argv, |_, argv| Ok(crate::plugin_host::exec_command(argv)))
}

/// How a command that runs plugins is run: in this process, or handed to the plugin host.
type PluginCommand = fn(Cli, &[OsString]) -> Result<u8>;

fn entry(argv: Vec<OsString>, plugin_command: PluginCommand) -> u8 {
    logging::init(logging::Target::Stderr);
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { crate::EXIT_USAGE } else { 0 };
        }
    };
    let result = if cli.command.runs_plugins() { plugin_command(cli, &argv) } else { run_timing_command(cli) };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gohook: {e:#}");
            crate::EXIT_USAGE
        }
    }
}

impl Command {
    /// Whether the command runs plugins (and so needs the wasm runtime).
    fn runs_plugins(&self) -> bool {
        matches!(
            self,
            Command::Check { .. } | Command::Doctor { .. } | Command::Goreleaser(_) | Command::Plugins { .. }
        )
    }
}

/// The record root: `--dir`, else GOHOOK_DIR or the user cache directory.
fn store_of(cli: &Cli) -> Result<Store> {
    Ok(match &cli.dir {
        Some(dir) => Store::new(std::path::absolute(dir)?),
        None => Store::locate(),
    })
}

/// build, exec, report, builds.
fn run_timing_command(cli: Cli) -> Result<u8> {
    let store = store_of(&cli)?;
    match cli.command {
        Command::Build { recording, args } => {
            let command = GoCommand::build(args, &self_path()?)?.with_labels(&recording.labels);
            driver::run(command, recording.options(store, cli.config))
        }
        Command::Bench { builds, run, warm, labels, vs, vs_go, vs_run, threshold, args } => {
            let run = run.unwrap_or_else(|| format!("bench-{}", chrono_free_stamp()));
            let mut configs = vec![bench::Config { run: run.clone(), env: Vec::new(), go: None }];
            if vs.is_some() || vs_go.is_some() {
                let env = bench::parse_env(vs.as_deref().unwrap_or("")).map_err(anyhow::Error::msg)?;
                configs.push(bench::Config { run: vs_run.unwrap_or_else(|| format!("{run}-vs")), env, go: vs_go });
            } else if vs_run.is_some() {
                anyhow::bail!("--vs-run names the second side: give --vs or --vs-go too");
            }
            let options =
                bench::Options { builds, warm, labels, configs, alpha: gohook_stats::DEFAULT_ALPHA, threshold };
            bench::run(args, &self_path()?, &store, cli.config.as_deref(), options)
        }
        Command::Compare { old, new, alpha, threshold, format, output } => {
            if !(alpha > 0.0 && alpha < 1.0) {
                anyhow::bail!("--alpha {alpha}: give a significance level between 0 and 1, e.g. 0.05");
            }
            let (old, new) = (Side::resolve(&store, &old)?, Side::resolve(&store, &new)?);
            let report = compare::Report::of(&old, &new, &compare::Options { alpha, threshold });
            let text = match format {
                CompareFormat::Table => report.to_table(),
                CompareFormat::Markdown => report.to_markdown(),
                CompareFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
            };
            write_output(output, &text)?;
            Ok(report.exit_code)
        }
        Command::Export { run, builds, output } => {
            let records = match run {
                Some(run) => {
                    let builds = compare::run_builds(&store, &run)?;
                    if builds.is_empty() {
                        anyhow::bail!("no builds labelled with run {run:?} in {}", store.root().display());
                    }
                    builds
                }
                None => selected_builds(&store, &builds)?,
            };
            export::write(&output, records.clone())?;
            eprintln!("gohook: exported {} build(s) to {}", records.len(), output.display());
            Ok(0)
        }
        Command::Exec { recording, command } => {
            let command = GoCommand::exec(command, &self_path()?)?.with_labels(&recording.labels);
            driver::run(command, recording.options(store, cli.config))
        }
        Command::Report { run: Some(run), format, output, .. } => {
            let summary = RunSummary::load(&store, &run)
                .with_context(|| format!("cannot read the records in {}", store.root().display()))?;
            if summary.builds.is_empty() && summary.checks.is_empty() {
                anyhow::bail!("no builds or checks labelled GOHOOK_RUN={run} in {}", store.root().display());
            }
            let text = match format {
                ReportFormat::Json => serde_json::to_string_pretty(&summary)? + "\n",
                ReportFormat::Table => summary.to_table(),
                ReportFormat::Benchfmt => benchfmt::render(&compare::run_builds(&store, &run)?),
                other => anyhow::bail!("--run shows a table, json or benchfmt, not {other:?}: pick one build for that"),
            };
            write_output(output, &text)?;
            Ok(0)
        }
        Command::Report { build, format, merge, output, run: None } => {
            let records = selected_builds(&store, build.as_slice())?.remove(0);
            if let ReportFormat::Pprof = format {
                write_binary(output, &pprof::render(&records))?;
                return Ok(0);
            }
            let text = render_report(&store, &records, format, merge)?;
            write_output(output, &text)?;
            Ok(0)
        }
        Command::Builds { format } => {
            list_builds(&store, format)?;
            Ok(0)
        }
        Command::Plugins { .. } | Command::Check { .. } | Command::Doctor { .. } | Command::Goreleaser(_) => {
            unreachable!("commands that run plugins go to run_plugin_command")
        }
    }
}

/// check, goreleaser lint, plugins, doctor: in the plugin host's process.
fn run_plugin_command(cli: Cli, _argv: &[OsString]) -> Result<u8> {
    let store = store_of(&cli)?;
    match cli.command {
        Command::Plugins { format } => list_plugins(&store, cli.config, format),
        Command::Check { mut files, artifacts, rules, format, explain, target, exit_zero } => {
            if let Some(list) = artifacts {
                files.extend(crate::commands::check::artifacts(&list)?);
            }
            let policy = Policy::find(cli.config.as_deref(), &std::env::current_dir()?)?;
            let mut selected = select_checks(policy, &rules)?;
            if explain {
                selected.plugins.entry("buildinfo".to_owned()).or_default();
            }
            let specs = PluginSpec::from_policy(&selected)?;
            let report = crate::commands::check::check_files(&specs, store.root(), &files);
            record_checks(&store, &report, target);
            let text = match format {
                CheckFormat::Human => report.to_human(),
                CheckFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
                CheckFormat::Sarif => serde_json::to_string_pretty(&report.to_sarif())? + "\n",
            };
            write_output(None, &text)?;
            Ok(match report.exit_code() {
                1 if exit_zero => 0,
                code => code,
            })
        }
        Command::Doctor { format } => {
            let findings = crate::commands::doctor::diagnose(&store, cli.config.as_deref(), &std::env::current_dir()?);
            let text = match format {
                ListFormat::Table => crate::commands::doctor::to_human(&findings),
                ListFormat::Json => serde_json::to_string_pretty(&findings)? + "\n",
            };
            write_output(None, &text)?;
            Ok(crate::commands::doctor::exit_code(&findings))
        }
        Command::Goreleaser(GoreleaserCommand::Lint { file, format }) => {
            let config = std::path::absolute(&file)?;
            let dir = config.parent().unwrap_or(std::path::Path::new("."));
            let policy = Policy::find(cli.config.as_deref(), dir)?;
            let specs = PluginSpec::from_policy(&policy)?;
            let report = crate::commands::goreleaser::lint(&config, policy.source, &specs, store.root())?;
            let text = match format {
                ListFormat::Table => report.to_human(),
                ListFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
            };
            write_output(None, &text)?;
            Ok(report.exit_code())
        }
        Command::Build { .. }
        | Command::Bench { .. }
        | Command::Compare { .. }
        | Command::Export { .. }
        | Command::Exec { .. }
        | Command::Report { .. }
        | Command::Builds { .. } => {
            unreachable!("commands without plugins go to run_timing_command")
        }
    }
}

/// Under a run label (goreleaser's post hooks), what `gohook check` found goes into the run's records, so
/// `gohook report --run` shows each target's build next to its check. Recording is best effort: the verdict
/// already went to stdout.
fn record_checks(store: &Store, report: &crate::commands::check::CheckReport, target: Option<String>) {
    let labels = match Labels::from_env() {
        Ok(Some(labels)) if !labels.run.is_empty() => labels,
        Ok(_) => return,
        Err(e) => return eprintln!("gohook: {e}; the check results are not recorded"),
    };
    let target = target.unwrap_or(labels.target);
    for file in &report.files {
        let record = Record::Check(CheckRun {
            run: labels.run.clone(),
            target: target.clone(),
            path: file.path.clone(),
            unix_ns: gohook_records::now_unix_ns(),
            status: file.status,
            findings: file.findings.clone(),
        });
        if let Err(e) = store.append_check(&labels.run, &record) {
            eprintln!("gohook: cannot record the check in {}: {e}", store.run_checks_path(&labels.run).display());
            return;
        }
    }
}

/// The plugins `gohook check` runs: those named by --rules (with the policy's settings where it has some), else the
/// policy's, else every built-in with its defaults.
fn select_checks(policy: Policy, rules: &[String]) -> Result<Policy> {
    let names: Vec<String> = if !rules.is_empty() {
        rules.to_vec()
    } else if policy.plugins.is_empty() {
        gohook_policy::BUILTINS.iter().map(|b| b.name.to_owned()).collect()
    } else {
        return Ok(policy);
    };
    let mut plugins = std::collections::BTreeMap::new();
    for name in names {
        let config = match policy.plugins.get(&name) {
            Some(config) => config.clone(),
            None if gohook_policy::builtin(&name).is_some() => Default::default(),
            None => {
                let builtins: Vec<&str> = gohook_policy::BUILTINS.iter().map(|b| b.name).collect();
                anyhow::bail!(
                    "--rules {name}: no such plugin in gohook.toml or built in (built-ins: {})",
                    builtins.join(", ")
                );
            }
        };
        plugins.insert(name, config);
    }
    Ok(Policy { plugins, ..policy })
}

/// One row of `gohook plugins`.
#[derive(serde::Serialize)]
struct PluginRow {
    name: String,
    source: String,
    version: String,
    moments: Vec<String>,
    tools: Vec<String>,
    native_code: String,
    problem: Option<String>,
}

fn list_plugins(store: &Store, config: Option<PathBuf>, format: ListFormat) -> Result<u8> {
    let policy = Policy::find(config.as_deref(), &std::env::current_dir()?)?;
    let specs = PluginSpec::from_policy(&policy)?;
    let mut checker = Checker::new(&specs, store.root());
    let mut rows = Vec::new();
    for spec in &specs {
        let meta = checker.metadata(spec);
        let native_code = checker.native_code_state(spec);
        let (version, moments, tools, problem) = match meta {
            Ok(m) => (m.version, m.moments, m.tools, None),
            Err(failure) => (String::new(), vec![], vec![], Some(format!("plugin {} {failure}", spec.name))),
        };
        rows.push(PluginRow {
            name: spec.name.clone(),
            source: spec.source.describe(),
            version,
            moments,
            tools,
            native_code,
            problem,
        });
    }
    let text = match format {
        ListFormat::Json => serde_json::to_string_pretty(&rows)? + "\n",
        ListFormat::Table => {
            let mut out = match &policy.source {
                Some(path) => format!("policy: {}\n", path.display()),
                None => "no gohook.toml found (here or above); no plugins configured\n".to_owned(),
            };
            if !rows.is_empty() {
                out += &format!(
                    "{:<16} {:<9} {:<28} {:<10} {:<14} {}\n",
                    "PLUGIN", "VERSION", "MOMENTS", "TOOLS", "NATIVE CODE", "SOURCE"
                );
            }
            for row in &rows {
                out += &format!(
                    "{:<16} {:<9} {:<28} {:<10} {:<14} {}\n",
                    row.name,
                    row.version,
                    row.moments.join(","),
                    if row.tools.is_empty() { "all".to_owned() } else { row.tools.join(",") },
                    row.native_code,
                    row.source
                );
                if let Some(problem) = &row.problem {
                    out += &format!("  problem: {problem}\n");
                }
            }
            let builtins: Vec<&str> = gohook_policy::BUILTINS.iter().map(|b| b.name).collect();
            out += &format!("built-in plugins: {}\n", builtins.join(", "));
            out
        }
    };
    write_output(None, &text)?;
    let broken = rows.iter().any(|r| r.problem.is_some());
    Ok(u8::from(broken))
}

/// gohook's own absolute path, for `-toolexec` (go looks the first word up in PATH, and tools run in other dirs).
fn self_path() -> Result<PathBuf> {
    std::env::current_exe().context("cannot find gohook's own executable to pass as -toolexec")
}

/// Summaries (table, JSON) add the calibrated per-process cost; records and traces never start the calibration.
fn render_report(
    store: &Store,
    records: &BuildRecords,
    format: ReportFormat,
    merge: Option<PathBuf>,
) -> Result<String> {
    Ok(match format {
        ReportFormat::Table => Summary::of(records, calibration::process_cost(store)).to_table(),
        ReportFormat::Json => {
            serde_json::to_string_pretty(&Summary::of(records, calibration::process_cost(store)))? + "\n"
        }
        ReportFormat::ChromeTrace => {
            let mut events = match merge {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                    trace::parse_go_trace(&text)
                        .with_context(|| format!("{} is not a go -debug-trace file (a JSON array)", path.display()))?
                }
                None => Vec::new(),
            };
            events.extend(trace::events(records));
            serde_json::to_string(&events)? + "\n"
        }
        ReportFormat::Records => {
            let start = records.start.iter().cloned().map(Record::BuildStart);
            let runs = records.runs.iter().cloned().map(Record::Tool);
            let end = records.end.iter().cloned().map(Record::BuildEnd);
            let label = records.label.iter().map(|l| {
                Record::Label(BuildLabel { build_id: records.id.clone(), run: l.run.clone(), target: l.target.clone() })
            });
            let context = records.context.iter().cloned().map(Record::Context);
            let packages = records.packages.iter().map(|packages| {
                Record::Packages(BuildPackages { build_id: records.id.clone(), packages: packages.clone() })
            });
            let self_reports = records.self_reports.iter().cloned().map(Record::SelfReport);
            let mut out = String::new();
            for record in start.chain(label).chain(context).chain(runs).chain(self_reports).chain(end).chain(packages) {
                out.push_str(&serde_json::to_string(&record)?);
                out.push('\n');
            }
            out
        }
        ReportFormat::Benchfmt => benchfmt::render(std::slice::from_ref(records)),
        ReportFormat::Html => {
            crate::commands::timeline::render(records, &Summary::of(records, calibration::process_cost(store)))
        }
        ReportFormat::Pprof => unreachable!("a pprof profile is binary: written by write_binary"),
    })
}

/// A binary report: to `output`, or to stdout when that is not a terminal.
fn write_binary(output: Option<PathBuf>, bytes: &[u8]) -> Result<()> {
    use std::io::IsTerminal;
    match output {
        Some(path) => crate::commands::write_file(&path, bytes),
        None if std::io::stdout().is_terminal() => {
            anyhow::bail!(
                "a pprof profile is binary: write it to a file with -o build.pb.gz, then `go tool pprof -top build.pb.gz`"
            )
        }
        None => std::io::stdout().lock().write_all(bytes).context("cannot write to stdout"),
    }
}

/// The builds named by id (or unique prefix); the latest when none is named (never empty).
fn selected_builds(store: &Store, ids: &[String]) -> Result<Vec<BuildRecords>> {
    if !ids.is_empty() {
        return ids.iter().map(|id| BuildRecords::find(store, id)).collect();
    }
    let latest = store
        .latest()?
        .with_context(|| format!("no recorded builds in {}: run `gohook build` first", store.builds_dir().display()))?;
    Ok(vec![BuildRecords::load(store, &latest).with_context(|| format!("cannot read {}", latest.path.display()))?])
}

/// `20261126T012517Z`: a run name from the current time (UTC), sortable and valid as a file name.
fn chrono_free_stamp() -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    now.replace(['-', ':'], "")
}

fn write_output(output: Option<PathBuf>, text: &str) -> Result<()> {
    match output {
        Some(path) => crate::commands::write_file(&path, text.as_bytes()),
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(text.as_bytes()) {
                // `gohook report | head` is fine.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write to stdout"),
            }
        }
    }
}

fn list_builds(store: &Store, format: ListFormat) -> Result<()> {
    let process_cost = calibration::process_cost(store);
    let mut summaries = Vec::new();
    for file in store.list().with_context(|| format!("cannot list {}", store.builds_dir().display()))? {
        match BuildRecords::load(store, &file) {
            Ok(records) => summaries.push(Summary::of(&records, process_cost)),
            Err(e) => tracing::warn!("skipping {}: {e}", file.path.display()),
        }
    }
    let text = match format {
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
    write_output(None, &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_list_matches_clap() {
        let mut names: Vec<String> = Cli::command().get_subcommands().map(|c| c.get_name().to_owned()).collect();
        names.push("help".to_owned());
        names.sort();
        let mut listed: Vec<String> = COMMANDS.iter().map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(names, listed);
    }

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
