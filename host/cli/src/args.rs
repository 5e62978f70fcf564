//! The command line: what each command takes and its help, nothing else. [`crate::commands::run`] matches the
//! parsed [`Command`] once and calls one function per command.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use gohook_native::Platform;

const ABOUT: &str = "A -toolexec shim for go build: times every compile, asm and link on one time axis";

/// `gohook --help`'s closing part: how go runs gohook, the environment (from `gohook_process::env::ALL`, so a new
/// variable shows up here), exit codes.
fn after_help() -> String {
    format!(
        "\
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
{}
Exit codes: gohook build/exec exit with go's code (130 after Ctrl-C); gohook check exits
1 on a policy failure; every command exits 2 on usage or I/O errors.",
        gohook_process::env::help(88)
    )
}

#[derive(Parser, Debug)]
#[command(name = "gohook", version, about = ABOUT, after_help = after_help())]
pub struct Cli {
    /// Policy file to use instead of the nearest gohook.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Record root (default: GOHOOK_DIR, else the user cache directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// What `build` and `exec` record besides each tool run's times.
#[derive(clap::Args, Debug)]
pub struct Recording {
    /// Label the build (repeatable), e.g. --label machine=ci-large; shown by `builds` and `report`, kept in
    /// exports and benchfmt. GOHOOK_LABELS=k=v,k2=v2 does the same for any go command.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
    /// Record the compiler's phases (parse, inlining, escape analysis, SSA back end, object writing) and the
    /// linker's (loadlib, deadcode, dwarf, …) for every compile and link; `report` then shows them. Changes
    /// nothing go builds or caches. `[records] phases = true` in gohook.toml does it for every build.
    #[arg(long)]
    pub phases: bool,
    /// Collect the compiler's and linker's own CPU profiles into one pprof profile, with a `package` label on
    /// every sample: go tool pprof -top -tagfocus=package=example.com/slow FILE.
    #[arg(long, value_name = "FILE")]
    pub cpuprofile: Option<PathBuf>,
    /// Write the build's timeline page (one self-contained HTML file) and print its path; without =FILE it
    /// goes to <records dir>/html/<build id>.html.
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub html: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run `go build` with gohook as -toolexec; every argument goes to go build.
    ///
    /// Example: gohook build -o bin/app ./cmd/app
    #[command(after_help = "Prints a one-line summary on stderr when go exits, and exits with go's exit code.")]
    Build(BuildArgs),
    /// Build the same thing N times, cold (a fresh private GOCACHE per build), under one run name; with --vs, against
    /// a second configuration, interleaved A B B A.
    ///
    /// Example: gohook bench -n 5 --run before -- -o /tmp/app ./cmd/app
    #[command(after_help = "Each build prints a progress line on stderr; the end shows each stage's median ± 95% \
                            CI, or with --vs/--vs-go the comparison of the two sides (as `gohook compare`). The \
                            builds stay recorded: `gohook compare RUN OTHER` compares them again later, with builds \
                            from another commit or machine (`gohook export`).")]
    Bench(BenchArgs),
    /// Compare two sets of builds: is NEW faster or slower than OLD, per stage, and is the difference significant.
    ///
    /// Example: gohook compare before after --threshold 5%
    #[command(after_help = "OLD and NEW are each a run name (gohook bench --run, GOHOOK_RUN), a build id, or a file \
                            written by `gohook export` (from this or another machine). Per row: median ± 95% CI on \
                            each side, the change, and the Mann-Whitney U p-value; `~` when the change is not \
                            significant at --alpha, \"need ≥ N samples\" when the sides are too small to tell. Exit \
                            1 when --threshold is given and a time row (the whole build or a stage) got significantly \
                            slower by more than that share of the whole build; else 0 (improvements and noise too).")]
    Compare(CompareArgs),
    /// Write builds with their machine identity to one portable file that `gohook compare` reads anywhere, or send
    /// them to an OpenTelemetry backend (`gohook export otlp`).
    ///
    /// Example: gohook export --run before -o before.json
    Export(ExportArgs),
    /// Run any command with gohook as -toolexec of the go commands it starts (through GOFLAGS).
    ///
    /// Example: gohook exec -- go test ./...
    Exec(ExecArgs),
    /// Show where a recorded build spent its time.
    Report(ReportArgs),
    /// Why a build compiled or linked what go's cache could have served: per package, the root cause against the
    /// last build that had it (a file, a flag, a setting, the toolchain, gohook's policy, an emptied cache), with the
    /// packages that rebuilt because of it.
    ///
    /// Example: gohook why            (the latest build)
    #[command(after_help = "BUILD is a build id or a unique prefix (default: the latest build); PACKAGE… narrows the \
                            answer. It reads what `gohook build` records of go's own cache keys \
                            (GODEBUG=gocachehash=1, -debug-actiongraph); builds recorded otherwise (bare -toolexec, \
                            `gohook exec`, `gohook build --no-plan`) say what cannot be told and exit 0. Exit 2 on \
                            an unknown build.")]
    Why(WhyArgs),
    /// List recorded builds, oldest first.
    Builds(BuildsArgs),
    /// Write signed evidence for each binary a build linked: SLSA provenance v1 (what was asked, the modules, the
    /// toolchain and plugins, by digest) and the policy's verdict (in-toto test-result), as Sigstore bundles cosign
    /// verifies and as in-toto JSON lines.
    ///
    /// Example: gohook attest --key cosign.key            (the latest build's -o binary)
    #[command(after_help = "BUILD is a build id or unique prefix; default: the latest build (under GOHOOK_RUN, \
                            the latest of that run for --target). The binary is the build's -o, or --binary FILE \
                            (goreleaser's {{ .Path }}), which must be the one the build linked: its main package \
                            and Go version are checked against the records. Files per binary, in -o DIR (default: \
                            gohook.toml's [attest] dir, else beside the binary): NAME.provenance.sigstore.json, \
                            NAME.provenance.intoto.jsonl, NAME.verdict.sigstore.json, NAME.verdict.intoto.jsonl; \
                            --unsigned: NAME.KIND.statement.json and NAME.KIND.predicate.json for a CI step that \
                            signs (actions/attest). Verify: gohook verify, or cosign verify-blob-attestation --key \
                            cosign.pub --insecure-ignore-tlog --type slsaprovenance1 --bundle \
                            NAME.provenance.sigstore.json NAME. Exit 2 on any error.")]
    Attest(AttestArgs),
    /// Verify a binary's attestations: the signature, that they are about this binary, that the modules they list
    /// are the binary's own, and that the policy passed it; then say in plain words what they state.
    ///
    /// Example: gohook verify bin/app --attestation bin/app.provenance.sigstore.json --key cosign.pub
    #[command(after_help = "--attestation takes a Sigstore bundle, a DSSE envelope or in-toto JSON lines, by gohook \
                            or another tool (repeatable: the provenance and the verdict). --policy also requires the \
                            statements to name that gohook.toml by digest. Exit 0 only when everything holds; 1 when \
                            something does not (the reason on stderr, or in --format json); 2 on usage or I/O \
                            errors.")]
    Verify(VerifyArgs),
    /// Check finished binaries with the configured plugins (or --rules); exit 0 pass, 1 policy failure, 2 error.
    ///
    /// Example: gohook check --rules strip,dwarf dist/app_linux_amd64/app
    #[command(after_help = "Without --rules: the plugins of gohook.toml, or every built-in plugin with its defaults \
                            when there is no gohook.toml.")]
    Check(CheckArgs),
    /// Check the installation: go, the -toolexec path, the record and plugin cache directory, the policy and its
    /// plugins, the wasm target for plugin authors, and whether the Go toolchain is native to this machine (every
    /// go on PATH and in the usual places, with its version and architecture); exit 1 when something must be fixed.
    #[command(after_help = "The toolchain checks read each executable's own header (Mach-O, ELF, universal \
                            slices), so a foreign go is found even where it cannot run. On an Apple Silicon Mac an \
                            x86-64 go, compile or link runs under Rosetta and builds 2-3x slower, with no error. \
                            --host declares the machine (e.g. to check a toolchain directory for another one).")]
    Doctor(DoctorArgs),
    /// Is the module native on a target: packages that do not build for it, dependencies that run generic Go where
    /// the reference architecture has assembly, cgo libraries of a foreign architecture, and the package sets of
    /// the two platforms side by side.
    ///
    /// Example: gohook archdeps --target darwin/arm64 ./...
    #[command(after_help = "Reads go's own package lists (`go list -e -deps -json`, GOOS/GOARCH set per platform, \
                            cgo on unless CGO_ENABLED says otherwise), so build tags, vendor/ and replace count as \
                            go resolves them; nothing is downloaded that go would not (GOFLAGS=-mod=mod \
                            GOPROXY=off works from the module cache alone). The standard library's assembly is \
                            left out: nothing a module can change. Exit 0 native, 1 a package that does not build \
                            for a target or a linked object of another architecture, 2 go's error (a pattern \
                            that matches nothing, a module not in the cache) or usage.")]
    Archdeps(ArchdepsArgs),
    /// goreleaser integration: `gohook goreleaser lint` checks the build matrix against the policy.
    #[command(subcommand)]
    Goreleaser(GoreleaserCommand),
    /// List the plugins the policy configures: version, moments, tools, and whether native code is cached.
    Plugins(PluginsArgs),
    /// Write, build and try a plugin of your own, in Go or Rust: `plugin new`, `plugin build`, `plugin test`.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Baselines keyed by machine, for a regression gate per chip in CI: `baseline save`, `baseline list`; `gohook
    /// compare --baseline DIR NEW` compares with one.
    #[command(subcommand)]
    Baseline(BaselineCommand),
}

#[derive(Subcommand, Debug)]
pub enum BaselineCommand {
    /// Save builds (a run, build ids, default the latest build) as the newest baseline of their machine's key in DIR,
    /// a directory a CI cache or artifact store carries; keeps the newest --keep of that key.
    ///
    /// Example: gohook baseline save .gohook-baselines --run main --key runner=macos-14
    #[command(after_help = "The key: cpu (model), cpus (logical), os, platform (GOOS/GOARCH built for) and go \
                            (version) of the machine that ran the builds, each overridable: --key NAME=VALUE sets or \
                            adds a part (a runner label is the usual one), --key NAME= drops one (--key cpu= when a \
                            runner label may land on several CPU models). `gohook compare --baseline DIR NEW` picks \
                            the newest baseline whose key equals NEW's (with the same --key) and refuses any other.")]
    Save(BaselineSaveArgs),
    /// The keys in DIR and how many baselines each holds, newest last.
    List(BaselineListArgs),
}

#[derive(clap::Args, Debug)]
pub struct BaselineSaveArgs {
    /// The baselines directory (what CI caches).
    #[arg(value_name = "DIR")]
    pub baselines: PathBuf,
    /// Build ids (or unique prefixes); default: the latest build.
    #[arg(conflicts_with = "run")]
    pub builds: Vec<String>,
    /// Every build of this run.
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,
    /// A part of the key: NAME=VALUE sets it, NAME= drops it.
    #[arg(long = "key", value_name = "NAME=VALUE", value_parser = parse_key_part)]
    pub key: Vec<(String, String)>,
    /// How many baselines of this key to keep.
    #[arg(long, default_value_t = 10)]
    pub keep: usize,
}

#[derive(clap::Args, Debug)]
pub struct BaselineListArgs {
    /// The baselines directory.
    #[arg(value_name = "DIR")]
    pub baselines: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum GoreleaserCommand {
    /// Expand the build matrix as goreleaser does and put every target to the policy's probe checks (the arch
    /// allow-list), before anything builds; exit 0 pass, 1 a forbidden target, 2 error.
    ///
    /// Example: gohook goreleaser lint .goreleaser.yaml
    #[command(after_help = "The policy is the nearest gohook.toml above the config file (or --config). Targets \
                            follow goreleaser v2: goos × goarch × goamd64/goarm64/goarm/…, `ignore`, `targets`, \
                            and goreleaser's defaults for absent fields.")]
    Lint(LintArgs),
}

#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// Write a working starter plugin into NAME/ (or --into DIR): the plugin, a test, a gohook.toml snippet, and the
    /// SDK it builds on.
    ///
    /// Example: gohook plugin new no-trimpath --lang go
    #[command(after_help = "Go: package main with a Check on the binary (debug/buildinfo), a go test, and the Go \
                            SDK as package NAME/gohook (written by gohook, refreshed by each `plugin build`; \
                            nothing to download). Rust: a crate on the gohook-sdk the same gohook carries \
                            (crates.io supplies its dependencies).")]
    New(PluginNewArgs),
    /// Build the plugin in DIR (default: here) into DIR/NAME.wasm, the component `[plugins.NAME] path =` takes.
    ///
    /// Example: gohook plugin build no-trimpath
    #[command(after_help = "Go (go.mod): GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath, made a \
                            component in-process (the plugin contract embedded, WASI preview 1 adapted to preview \
                            2): Go 1.24 or newer and gohook are all it needs. Rust (Cargo.toml): cargo build \
                            --release --target wasm32-wasip2.")]
    Build(PluginBuildArgs),
    /// Run one plugin at one moment under the same sandbox, limits and text cleaning as a build, and print its
    /// findings and logs; exit 0 pass, 1 a finding that fails, 2 an error.
    ///
    /// Example: gohook plugin test no-trimpath/no-trimpath.wasm ./bin/app
    #[command(after_help = "Moments other than check take what go would hand the plugin as JSON (--input TEXT or \
                            --input @FILE); fields left out get the defaults shown.\n\
                            \n  --moment probe       {\"tool\": \"compile\", \"goos\": <this machine>, \"goarch\": <this \
                            machine>, \"env\": {\"GOFLAGS\": \"-trimpath\"}}\
                            \n  --moment before-tool {\"tool\": \"link\", \"stage\": <from tool>, \"import_path\": \"\", \
                            \"goos\", \"goarch\", \"args\": [\"-o\", \"bin/app\"], \"output\": null}\
                            \n  --moment after-tool  the same, plus \"exit_code\": 0; a FILE given is the tool's output \
                            (for link: the binary the plugin may read).\n\
                            \nExample: gohook plugin test p.wasm --moment after-tool --input '{\"tool\":\"link\"}' ./bin/app")]
    Test(PluginTestArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum PluginLang {
    Go,
    Rust,
}

#[derive(clap::Args, Debug)]
pub struct PluginNewArgs {
    /// The plugin's name: its rule ids are NAME/…, and `[plugins.NAME]` configures it.
    pub name: String,
    #[arg(long, value_enum, default_value_t = PluginLang::Go)]
    pub lang: PluginLang,
    /// Where to write it (default: ./NAME).
    #[arg(long, value_name = "DIR")]
    pub into: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct PluginBuildArgs {
    #[arg(default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct PluginTestArgs {
    /// The plugin component (.wasm).
    pub plugin: PathBuf,
    /// Binaries to check (check: one or more), or the tool's output file (after-tool: at most one).
    pub files: Vec<PathBuf>,
    /// The plugin's settings as a JSON object, as `[plugins.NAME.settings]` would give them.
    #[arg(long, value_name = "JSON")]
    pub settings: Option<String>,
    /// The moment to call the plugin at.
    #[arg(long, value_enum, default_value_t = PluginMoment::Check)]
    pub moment: PluginMoment,
    /// What the moment hands the plugin, as JSON text or @FILE (probe, before-tool, after-tool; see below).
    #[arg(long, value_name = "JSON|@FILE")]
    pub input: Option<String>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluginMoment {
    /// A finished binary (FILE…).
    Check,
    /// go's `-V=full` probe of a tool, before anything builds.
    Probe,
    /// A tool about to run.
    BeforeTool,
    /// A tool that ran; for link, its output is the binary.
    AfterTool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ReportFormat {
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

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareFormat {
    Table,
    Json,
    /// A pull-request comment: the verdict first, the machine and both sides, the tables folded under it.
    Markdown,
    /// The markdown, also appended to $GITHUB_STEP_SUMMARY when GitHub Actions sets it.
    Github,
}

/// `NAME=VALUE` or `NAME=` (a baseline key part to drop).
pub fn parse_key_part(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_owned(), value.trim().to_owned())),
        _ => Err(format!("{text:?}: expected NAME=VALUE (e.g. chip=m3-max), or NAME= to drop a part of the key")),
    }
}

pub fn parse_label(text: &str) -> Result<(String, String), String> {
    let mut labels = gohook_records::parse_labels(text)?;
    match (labels.pop(), labels.is_empty()) {
        (Some(label), true) => Ok(label),
        _ => Err(format!("{text:?}: one KEY=VALUE per --label")),
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum CheckFormat {
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    #[command(flatten)]
    pub recording: Recording,
    /// Do not ask go for its plan and its cache keys' inputs (-debug-actiongraph, GODEBUG=gocachehash=1), which
    /// `gohook why`, the exact cache counts and the queue times read; see the README for what they cost.
    #[arg(long)]
    pub no_plan: bool,
    /// After a build that succeeded, write the -o binary's attestations into DIR (default: gohook.toml's [attest]
    /// dir, else beside the binary), signed with GOHOOK_ATTEST_KEY or [attest] key, else unsigned; as `gohook
    /// attest` would. A missing key or unwritable DIR is said after go's exit code is known and exits 2.
    #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub attest: Option<String>,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "GO BUILD ARGS")]
    pub args: Vec<OsString>,
}

#[derive(clap::Args, Debug)]
pub struct AttestArgs {
    /// A build id or unique prefix (default: the latest build).
    #[arg(value_name = "BUILD")]
    pub build: Option<String>,
    /// The binary to attest, when it is not the build's -o (goreleaser: --binary {{ .Path }}).
    #[arg(long, value_name = "FILE")]
    pub binary: Option<PathBuf>,
    /// Under GOHOOK_RUN, the build of this target (goreleaser's {{ .Target }}; default: GOHOOK_TARGET).
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
    /// The ECDSA P-256 signing key: PKCS#8 PEM (openssl genpkey) or cosign.key (COSIGN_PASSWORD); default:
    /// GOHOOK_ATTEST_KEY, else gohook.toml's [attest] key.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Write the statements and predicates unsigned, for a CI step that signs them (actions/attest).
    #[arg(long, conflicts_with = "key")]
    pub unsigned: bool,
    /// Where the files go (default: gohook.toml's [attest] dir, else beside the binary).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// files: also list every source file compiled into the binary with its sha256, per package (`go list -deps`
    /// with the binary's GOOS, GOARCH, tags and CGO_ENABLED); gohook.toml: [attest] materials = "files".
    #[arg(long, value_enum, value_name = "WHAT")]
    pub materials: Option<MaterialsArg>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaterialsArg {
    /// Every source file compiled into the binary, by sha256.
    Files,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The binary the attestations must be about.
    #[arg(value_name = "BINARY")]
    pub binary: PathBuf,
    /// An attestation file (repeatable): NAME.provenance.sigstore.json, NAME.verdict.sigstore.json, .intoto.jsonl.
    #[arg(long = "attestation", required = true, value_name = "FILE")]
    pub attestations: Vec<PathBuf>,
    /// The public key (PEM; cosign.pub).
    #[arg(long, value_name = "PUB")]
    pub key: PathBuf,
    /// Require the statements to name this gohook.toml by its sha256.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Builds per side.
    #[arg(short = 'n', default_value_t = 5, value_name = "N")]
    pub builds: usize,
    /// The run name the builds are recorded under (default: bench-<time>).
    #[arg(long, value_name = "NAME", value_parser = parse_run_name)]
    pub run: Option<String>,
    /// Keep one private GOCACHE per side (warmed by one uncounted build) instead of a fresh one per build.
    #[arg(long)]
    pub warm: bool,
    /// Label every build (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
    /// A second side: the same build with these environment settings, e.g. --vs 'GOAMD64=v3' or
    /// --vs 'GOFLAGS=-gcflags=all=-N'.
    #[arg(long, value_name = "KEY=VALUE ...")]
    pub vs: Option<String>,
    /// A second side built by another go binary, e.g. --vs-go ~/sdk/go1.27/bin/go.
    #[arg(long, value_name = "GO")]
    pub vs_go: Option<PathBuf>,
    /// The run name of the second side (default: <run>-vs).
    #[arg(long, value_name = "NAME", value_parser = parse_run_name)]
    pub vs_run: Option<String>,
    /// With a second side: exit 1 on a significant slowdown costing more than this share of the build, e.g. 5%.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub threshold: Option<f64>,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "GO BUILD ARGS")]
    pub args: Vec<OsString>,
}

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// OLD then NEW, each a run name, a build id or an exported file; with --baseline, NEW alone.
    #[arg(value_name = "OLD NEW", num_args = 1..=2, required = true)]
    pub sides: Vec<String>,
    /// Compare NEW with the newest baseline in DIR saved on the same kind of machine (`gohook baseline save`);
    /// exit 2, naming the keys DIR has, when there is none for NEW's.
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// With --baseline, a part of NEW's key: NAME=VALUE sets it, NAME= drops it (default parts: cpu, cpus, os,
    /// platform, go), as `gohook baseline save --key` did.
    #[arg(long = "key", value_name = "NAME=VALUE", value_parser = parse_key_part, requires = "baseline")]
    pub key: Vec<(String, String)>,
    /// Significance level of the Mann-Whitney U test.
    #[arg(long, default_value_t = gohook_stats::DEFAULT_ALPHA)]
    pub alpha: f64,
    /// Exit 1 when a time row (whole build or a stage) is significantly slower and its slowdown costs more than
    /// this share of the whole build, e.g. 5%.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub threshold: Option<f64>,
    #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
    pub format: CompareFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub to: Option<ExportCommand>,
    /// Every build of this run.
    #[arg(long, value_name = "NAME", conflicts_with = "builds")]
    pub run: Option<String>,
    /// Build ids (or unique prefixes); default: the latest build.
    pub builds: Vec<String>,
    #[arg(long, short, value_name = "FILE", required = true)]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Send builds as OpenTelemetry traces over OTLP/HTTP (Jaeger, Tempo, Honeycomb, Datadog, a collector): by
    /// default every build not sent to this endpoint yet, bare `go build -toolexec=gohook` ones included.
    ///
    /// Example: OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 gohook export otlp
    #[command(
        after_help = "The endpoint and its settings come from the OpenTelemetry variables                             (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, …_HEADERS,                             …_TIMEOUT in ms (default 5000), …_PROTOCOL http/protobuf or http/json, OTEL_SERVICE_NAME,                             OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED), which win over gohook.toml's [export.otlp]                             table (endpoint, traces_endpoint, headers, timeout_ms, protocol, service_name,                             resource_attributes). With one configured, gohook build, exec and bench send each build                             when it ends. What went out is remembered per endpoint in the record root (otlp/), so no                             build is sent twice and one a dead endpoint missed goes the next time; builds still                             being written wait. Each build is one trace: a root span for the go command, a span per                             tool run, its phases when recorded with --phases, findings as events, the critical path                             marked (gohook.critical_path); a TRACEPARENT in the build's environment, or its GitHub                             Actions run, makes the root a child of that span.\n\
                            Exit: 0 all sent, 1 some could not be (said why; they stay for the next export), 2 a \
                            usage error."
    )]
    Otlp(OtlpArgs),
}

#[derive(clap::Args, Debug)]
pub struct OtlpArgs {
    /// Build ids (or unique prefixes); default: every build not yet sent to this endpoint.
    #[arg(conflicts_with_all = ["run", "since"])]
    pub builds: Vec<String>,
    /// Every build of this run.
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,
    /// Builds started since then: a duration (`2h`, `7days`) or a time (`2026-12-01T00:00:00Z`).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Send builds again even if this endpoint has them (same trace and span ids).
    #[arg(long)]
    pub again: bool,
    /// The collector's base URL, over OTEL_EXPORTER_OTLP_ENDPOINT and gohook.toml (traces go to /v1/traces).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    #[command(flatten)]
    pub recording: Recording,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Build id or a unique prefix of it (default: the latest build).
    #[arg(conflicts_with = "run")]
    pub build: Option<String>,
    /// Every build and check labelled with this GOHOOK_RUN (e.g. all targets of one goreleaser run).
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// With chrome-trace: a `go build -debug-trace=FILE` file to merge into the output.
    #[arg(long, value_name = "GO_TRACE")]
    pub merge: Option<PathBuf>,
    /// What if the build ran on N cores: go's scheduler replayed on each number given with the measured run times
    /// (a run that shared the machine at the time runs its size took alone), e.g. --cores 1,2,4,8,16 (table and
    /// JSON; the page always draws the curve). Best between neighbouring core counts. Needs a build of `gohook build`.
    #[arg(long, value_delimiter = ',', value_name = "N[,M…]", value_parser = clap::value_parser!(u32).range(1..))]
    pub cores: Vec<u32>,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct BuildsArgs {
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Binaries to check (ELF, Mach-O thin or universal, PE).
    #[arg(required_unless_present = "artifacts", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also check every binary listed in goreleaser's dist/artifacts.json.
    #[arg(long, value_name = "ARTIFACTS_JSON")]
    pub artifacts: Option<PathBuf>,
    /// Plugins to run, by name (comma separated); settings from gohook.toml where it has them.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub rules: Vec<String>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Also show the Go build info of each binary (go version, GOOS/GOARCH, -buildmode, -ldflags, …).
    #[arg(long)]
    pub explain: bool,
    /// The target the binaries were built for (goreleaser's {{ .Target }}), recorded with the results when
    /// GOHOOK_RUN is set (default: GOHOOK_TARGET).
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
    /// Exit 0 even when a binary fails the policy (errors such as an unreadable file still exit 2): for CI steps
    /// that upload the SARIF to code scanning and must not fail on findings.
    #[arg(long)]
    pub exit_zero: bool,
}

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// The machine the toolchain must be native to, GOOS/GOARCH (default: this one, asked of its kernel:
    /// hw.optional.arm64 on macOS, uname -m on Linux).
    #[arg(long, value_name = "GOOS/GOARCH")]
    pub host: Option<Platform>,
}

#[derive(clap::Args, Debug)]
pub struct ArchdepsArgs {
    /// go package patterns (default ./...).
    #[arg(value_name = "PACKAGES")]
    pub packages: Vec<String>,
    /// A platform to check (repeatable; default: this machine's, e.g. darwin/arm64 on Apple Silicon).
    #[arg(long = "target", value_name = "GOOS/GOARCH")]
    pub targets: Vec<Platform>,
    /// The reference platform (default: the target's GOOS with amd64, or arm64 when the target is amd64).
    #[arg(long, value_name = "GOOS/GOARCH")]
    pub vs: Option<Platform>,
    /// CGO_ENABLED for every platform listed (default: CGO_ENABLED from the environment, else 1, as a native build
    /// there has; a cross build from this machine has 0 unless CC names a C compiler for the target).
    #[arg(long, value_enum, value_name = "0|1")]
    pub cgo: Option<Switch>,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// A setting that is on (1) or off (0), as go's CGO_ENABLED.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    #[value(name = "0")]
    Off,
    #[value(name = "1")]
    On,
}

#[derive(clap::Args, Debug)]
pub struct PluginsArgs {
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// The goreleaser config (version 2); default: the first goreleaser finds here (.config/goreleaser.y[a]ml,
    /// .goreleaser.y[a]ml, goreleaser.y[a]ml).
    #[arg(value_name = "GORELEASER_YAML")]
    pub file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// A run name gohook records builds under: it names a file, so letters, digits, `-`, `_` and `.`.
fn parse_run_name(text: &str) -> Result<String, String> {
    match gohook_records::valid_build_id(text) {
        true => Ok(text.to_owned()),
        false => Err(format!("run name {text:?} cannot be a file name: use letters, digits, '-', '_' and '.'")),
    }
}

/// `--threshold`: `5%`, `5` or `0.5%`, in percent.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(value) if value >= 0.0 && value.is_finite() => Ok(value),
        _ => Err(format!("{text:?} is not a percentage: write e.g. 5% or 2.5")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The `gohook` executable hands these first arguments to `gohook-commands`; every command must be among them.
    #[test]
    fn the_shims_command_list_matches_the_parser() {
        let mut names: Vec<String> = Cli::command().get_subcommands().map(|c| c.get_name().to_owned()).collect();
        names.push("help".to_owned());
        names.sort();
        let mut listed: Vec<String> = gohook_process::executables::COMMANDS.iter().map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(names, listed);
    }

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}

#[derive(clap::Args, Debug)]
pub struct WhyArgs {
    /// A build id (or unique prefix), then packages to explain; without a build id, the latest build.
    #[arg(value_name = "BUILD|PACKAGE")]
    pub targets: Vec<String>,
    /// Compare with this build instead of, per package, the last earlier build that had it.
    #[arg(long, value_name = "BUILD")]
    pub vs: Option<String>,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}
