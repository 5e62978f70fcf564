//! Shared pieces of the end-to-end tests: the gohook binary, a private record root, copies of the sample Go module,
//! and readers for what gohook recorded. Everything runs the real go toolchain; nothing is mocked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use tempfile::TempDir;

pub mod browser;
pub mod jaeger;

pub use gohook_analysis::BuildRecords;
pub use gohook_records::{Exit, FindingLevel, Stage, Store, ToolRun};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// A go tool the tests drive (`goreleaser`, `benchstat`): where `tools/test` installs it (`target/go-tools`), else
/// from PATH, else from `go env GOPATH`/bin.
pub fn go_tool(name: &str) -> PathBuf {
    let installed = repo_root().join("target/go-tools").join(name);
    if installed.is_file() {
        return installed;
    }
    let on_path = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file()));
    if let Some(found) = on_path {
        return found;
    }
    let gopath = text(&Command::new("go").args(["env", "GOPATH"]).output().unwrap().stdout).trim().to_owned();
    let path = Path::new(&gopath).join("bin").join(name);
    assert!(path.is_file(), "{name} is not installed: tools/test installs it into target/go-tools with go install");
    path
}

/// The gohook binary, built once per test process with the same profile as the tests, with `gohook-commands`
/// (`gohook-commands`) next to it, as `cargo install` puts them.
pub fn gohook_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let build = |bin: &str| {
            let run = escargot::CargoBuild::new()
                .package("gohook")
                .bin(bin)
                .current_release()
                .manifest_path(repo_root().join("Cargo.toml"))
                .run()
                .unwrap_or_else(|e| panic!("cargo builds {bin}: {e}"));
            run.path().to_owned()
        };
        let host = build("gohook-commands");
        let gohook = build("gohook");
        assert_eq!(host.parent(), gohook.parent(), "`gohook-commands` lives next to gohook");
        gohook
    })
}

/// A private gohook world: its own record root, and a go environment that ignores the user's GOFLAGS.
pub struct World {
    pub root: TempDir,
    /// A go build cache of its own, for tests that need everything compiled (go's shared cache would serve std from
    /// an earlier test run, since a release gohook answers `-V=full` the same way every time).
    go_cache: Option<TempDir>,
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

impl World {
    pub fn new() -> World {
        World { root: tempfile::tempdir().unwrap(), go_cache: None }
    }

    /// A world whose go commands start from an empty build cache.
    pub fn with_cold_go_cache() -> World {
        World { root: tempfile::tempdir().unwrap(), go_cache: Some(tempfile::tempdir().unwrap()) }
    }

    /// A command with gohook's and go's environment pinned for the test.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env("GOHOOK_DIR", self.root.path())
            .env("GOFLAGS", "")
            .env("GOTOOLCHAIN", "local")
            .env("GOPROXY", "off")
            .env("GOWORK", "off")
            .env("CGO_ENABLED", "0")
            // go writes its action graph's times in the local zone: UTC keeps them readable by go_plan_waits.
            .env("TZ", "UTC")
            .env_remove("GOHOOK_CONFIG")
            .env_remove("GOHOOK_LOG")
            .env_remove("GOHOOK_LOG_FILE")
            .env_remove("GOHOOK_BUILD_ID")
            .env_remove("GOHOOK_BUILD_START_NS")
            .env_remove("GOOS")
            .env_remove("GOARCH");
        // Where builds are exported and which trace they join: only what a test sets.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("OTEL_") || name.starts_with("GITHUB_") || name == "TRACEPARENT" || name == "TRACESTATE"
            {
                command.env_remove(&*name);
            }
        }
        command.env_remove("GOHOOK_GITHUB_CHECK_RUN_ID");
        if let Some(cache) = &self.go_cache {
            command.env("GOCACHE", cache.path());
        }
        command
    }

    pub fn gohook(&self) -> Command {
        self.command(gohook_bin())
    }

    /// `gohook ARGS` run in `dir`.
    pub fn run_gohook(&self, dir: &Path, args: &[&str]) -> Output {
        self.gohook().current_dir(dir).args(args).output().expect("gohook runs")
    }

    /// `gohook ARGS` started in `dir` with its output captured; not waited for.
    pub fn spawn_gohook(&self, dir: &Path, args: &[&str]) -> std::process::Child {
        self.gohook()
            .current_dir(dir)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("gohook starts")
    }

    /// Ids of the recorded builds, oldest first.
    pub fn builds(&self) -> Vec<String> {
        let out = self.gohook().args(["builds", "--format", "json"]).output().unwrap();
        assert!(out.status.success(), "gohook builds: {}", text(&out.stderr));
        let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        list.iter().map(|b| b["build_id"].as_str().unwrap().to_owned()).collect()
    }

    /// The shim running a stand-in `link` (which writes a 4-byte ELF magic to its `-o`) in `dir` as build `id`:
    /// enough for the after-link plugins of `dir`'s gohook.toml to run. Not waited for.
    pub fn spawn_fake_link(&self, dir: &Path, id: &str) -> std::process::Child {
        let link = dir.join("link");
        if !link.exists() {
            let tmp = dir.join(format!("link.{}", std::process::id()));
            std::fs::write(&tmp, "#!/bin/sh\nprintf '\\177ELF' > \"$2\"\n").unwrap();
            Command::new("chmod").arg("+x").arg(&tmp).status().unwrap();
            std::fs::rename(&tmp, &link).unwrap();
        }
        static OUTPUT: AtomicU64 = AtomicU64::new(0);
        let output = format!("out-{id}-{}", OUTPUT.fetch_add(1, Ordering::SeqCst));
        self.gohook()
            .current_dir(dir)
            .env("GOHOOK_BUILD_ID", id)
            .env("GOHOOK_BUILD_START_NS", "1")
            .arg(&link)
            .args(["-o", &output])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// How each plugin run of build `id` got its native code (`compiled`, `hit`, `uncached`, `failed`).
    pub fn plugin_cache_states(&self, id: &str) -> Vec<String> {
        let records = self.records(id);
        records.runs.iter().flat_map(|r| &r.plugins).map(|p| p.cache.name().to_owned()).collect()
    }

    /// Every record of a build, read from this world's record root by the model every report starts from.
    pub fn records(&self, build: &str) -> BuildRecords {
        BuildRecords::find(&Store::new(self.root.path().to_owned()), build)
            .unwrap_or_else(|e| panic!("build {build}: {e}"))
    }

    /// The summary of a build, through `gohook report --format json`.
    pub fn summary(&self, build: &str) -> Value {
        let out = self.gohook().args(["report", build, "--format", "json"]).output().unwrap();
        assert!(out.status.success(), "gohook report: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The only recorded build.
    pub fn only_build(&self) -> String {
        let builds = self.builds();
        assert_eq!(builds.len(), 1, "expected exactly one recorded build, got {builds:?}");
        builds.into_iter().next().unwrap()
    }
}

/// What the tests ask of a build's records beyond the model's own fields.
pub trait RecordsExt {
    /// Runs of one stage.
    fn stage(&self, stage: Stage) -> Vec<&ToolRun>;
    /// Packages of one stage's runs, sorted, duplicates kept.
    fn packages(&self, stage: Stage) -> Vec<String>;
    /// The phase names `run` reported, in its order.
    fn phase_names(&self, run: &ToolRun) -> Vec<String>;
}

impl RecordsExt for BuildRecords {
    fn stage(&self, stage: Stage) -> Vec<&ToolRun> {
        self.runs.iter().filter(|r| r.stage == stage).collect()
    }

    fn packages(&self, stage: Stage) -> Vec<String> {
        let mut packages: Vec<String> = self.stage(stage).iter().map(|r| r.package.clone()).collect();
        packages.sort();
        packages
    }

    fn phase_names(&self, run: &ToolRun) -> Vec<String> {
        BuildRecords::phases_of(&self.self_reports(), run).iter().map(|p| p.name.clone()).collect()
    }
}

pub fn u64_of(value: &Value, key: &str) -> u64 {
    value[key].as_u64().unwrap_or_else(|| panic!("{key} missing in {value}"))
}

/// Asserts a command's exit code, showing its output when it is another.
pub fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}: stdout:\n{}\nstderr:\n{}", text(&out.stdout), text(&out.stderr));
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A tool's output without its terminal colours: goreleaser colours its log whenever `CI` is set (as on CI runners),
/// even with NO_COLOR, which puts escape sequences inside the sentences the tests read.
pub fn plain_text(bytes: &[u8]) -> String {
    let mut plain = String::new();
    let mut rest = text(bytes);
    while let Some(start) = rest.find("\x1b[") {
        plain.push_str(&rest[..start]);
        let sequence = &rest[start + 2..];
        let end = sequence.find(|c: char| c.is_ascii_alphabetic()).map_or(sequence.len(), |end| end + 1);
        rest = sequence[end..].to_owned();
    }
    plain + &rest
}

/// The sample module's three packages.
pub const SAMPLE_PACKAGES: [&str; 3] =
    ["example.com/sample", "example.com/sample/internal/greet", "example.com/sample/internal/sum"];

/// The smallest program go links: a main package that imports nothing, so a cold build compiles only the runtime
/// and what it imports (its assembly included), ~60% of the sample's. For tests that need cold builds of something,
/// not of the sample.
pub const RUNTIME_ONLY_MAIN: &str = "package main\n\nfunc main() { println(\"hello\") }\n";

/// A copy of `examples/sample` whose packages no earlier build has seen: each gets a file with a fresh constant,
/// so go's cache misses on them (and only on them) and every test sees its own compiles.
pub fn fresh_sample() -> TempDir {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("examples/sample"), dir.path());
    let nonce = format!(
        "{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    );
    for (package_dir, name) in [(".", "main"), ("internal/greet", "greet"), ("internal/sum", "sum")] {
        let file = dir.path().join(package_dir).join("nonce.go");
        std::fs::write(file, format!("package {name}\n\nconst nonce = \"{nonce}\"\n")).unwrap();
    }
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A test plugin of `tests/plugins/` (`hostile`, `future`), built for the tests.
pub fn test_plugin(name: &str) -> PathBuf {
    // cargo names a crate's library with `_` for its `-`.
    Path::new(env!("GOHOOK_TEST_WASM_DIR")).join(format!("{}.wasm", name.replace('-', "_")))
}

/// The sample module built by plain go (no gohook, CGO_ENABLED=0) into `dir/name`, with extra environment (GOOS,
/// GOARCH, …) and go build flags.
pub fn sample_binary(dir: &Path, name: &str, env: &[(&str, &str)], flags: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new("go")
        .current_dir(repo_root().join("examples/sample"))
        .env("GOFLAGS", "")
        .env("CGO_ENABLED", "0")
        .envs(env.iter().copied())
        .arg("build")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "go build {env:?} {flags:?}");
    out
}

/// The documented example plugin (`no-debug`), built for the tests.
pub fn example_plugin() -> PathBuf {
    Path::new(env!("GOHOOK_TEST_WASM_DIR")).join("gohook_plugin_example.wasm")
}

/// How many tool runs `go build -x` reported running through `toolexec` (each line starts with it).
pub fn toolexec_lines(stderr: &str, toolexec: &Path) -> usize {
    let prefix = format!("{} ", toolexec.display());
    stderr.lines().filter(|l| l.contains(&prefix)).count()
}

/// The rule ids a file of `gohook check --format json` failed, sorted.
pub fn failed_rules(file: &Value) -> Vec<String> {
    let mut rules: Vec<String> = file["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    rules.sort();
    rules
}

/// Unix nanoseconds now.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// GOOS/GOARCH of the machine, as go names them.
pub fn host_target() -> (String, String) {
    let out = Command::new("go").args(["env", "GOHOSTOS", "GOHOSTARCH"]).output().expect("go is installed");
    let text = text(&out.stdout);
    let mut lines = text.lines();
    (lines.next().unwrap().to_owned(), lines.next().unwrap().to_owned())
}

/// A module whose dependency chain is known: main imports a and d, a imports b, b imports c. c, b and a each
/// compile for a while; d compiles about twice as long as any one of them (a margin that holds on a noisy machine),
/// but not as long as the three in a row.
pub fn chain_module(dir: &Path) {
    let nonce = now_ns();
    std::fs::write(dir.join("go.mod"), "module example.com/m\n\ngo 1.26\n").unwrap();
    let package = |name: &str, imports: &[&str], functions: usize| {
        let mut text = format!("package {name}\n\n");
        for import in imports {
            text += &format!("import \"example.com/m/{import}\"\n\nvar _ = {import}.F0\n");
        }
        text += &format!("const Nonce = \"{nonce}\"\n");
        for i in 0..functions {
            text += &format!(
                "func F{i}(x int) int {{ s := 0; for j := 0; j < x; j++ {{ s += j*{i} ^ (s >> 3) }}; \
                 if s%7 == {} {{ return s + {i} }}; return s - {i} }}\n",
                i % 7
            );
        }
        std::fs::create_dir_all(dir.join(name)).unwrap();
        std::fs::write(dir.join(name).join(format!("{name}.go")), text).unwrap();
    };
    package("c", &[], 1500);
    package("b", &["c"], 1500);
    package("a", &["b"], 1500);
    package("d", &[], 3000);
    std::fs::write(
        dir.join("main.go"),
        "package main\n\nimport (\n\t\"example.com/m/a\"\n\t\"example.com/m/d\"\n)\n\nfunc main() { println(a.F1(3) + d.F1(3)) }\n",
    )
    .unwrap();
}

/// A module of `n` packages that import nothing and compile for equally long, all imported by main: more equal
/// work than two cores can run at once.
pub fn independent_module(dir: &Path, n: usize) {
    let nonce = now_ns();
    std::fs::write(dir.join("go.mod"), "module example.com/wide\n\ngo 1.26\n").unwrap();
    let mut main = String::from("package main\n\nimport (\n");
    for i in 0..n {
        let name = format!("p{i}");
        main += &format!("\t\"example.com/wide/{name}\"\n");
        let mut text = format!("package {name}\n\nconst Nonce = \"{nonce}\"\n");
        for f in 0..600 {
            text += &format!(
                "func F{f}(x int) int {{ s := 0; for j := 0; j < x; j++ {{ s += j*{f} ^ (s >> 3) }}; return s - {f} }}\n"
            );
        }
        std::fs::create_dir_all(dir.join(&name)).unwrap();
        std::fs::write(dir.join(&name).join(format!("{name}.go")), text).unwrap();
    }
    main += ")\n\nfunc main() {\n";
    for i in 0..n {
        main += &format!("\tprintln(p{i}.F1(3))\n");
    }
    main += "}\n";
    std::fs::write(dir.join("main.go"), main).unwrap();
}

/// Two modules: `example.com/app` (main and `app/util`) requires `example.com/lib` (`lib/a`, `lib/b`), replaced by
/// the local directory `../lib`. Returns the app's directory.
pub fn two_module_build(dir: &Path) -> PathBuf {
    let nonce = now_ns();
    let (app, lib) = (dir.join("app"), dir.join("lib"));
    for (module, package, imports) in
        [(&lib, "a", vec![]), (&lib, "b", vec!["example.com/lib/a"]), (&app, "util", vec!["example.com/lib/b"])]
    {
        let mut text = format!("package {package}\n\n");
        for import in &imports {
            text += &format!("import \"{import}\"\n\nvar _ = {}.Nonce\n", import.rsplit('/').next().unwrap());
        }
        text += &format!("const Nonce = \"{nonce}\"\n\nfunc F(x int) int {{ return x * 2 }}\n");
        std::fs::create_dir_all(module.join(package)).unwrap();
        std::fs::write(module.join(package).join(format!("{package}.go")), text).unwrap();
    }
    std::fs::write(lib.join("go.mod"), "module example.com/lib\n\ngo 1.26\n").unwrap();
    std::fs::write(
        app.join("go.mod"),
        "module example.com/app\n\ngo 1.26\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ../lib\n",
    )
    .unwrap();
    std::fs::write(
        app.join("main.go"),
        "package main\n\nimport \"example.com/app/util\"\n\nfunc main() { println(util.F(21)) }\n",
    )
    .unwrap();
    app
}

/// Debian's headless Chromium (`CHROMIUM` names another), for the tests of the timeline page.
pub fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let found = ["chromium", "chromium-browser", "google-chrome"].into_iter().find_map(|name| {
        std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
    });
    found.expect("the timeline page is tested in a real headless Chromium: apt-get install chromium (.ci/run does)")
}

/// Runs headless Chromium on a local page with `args` (e.g. `--dump-dom`), in a profile of its own.
pub fn headless_chromium(page: &Path, args: &[&str]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(out.status.success(), "chromium {args:?} failed: {}", text(&out.stderr));
    out
}

/// An LLVM tool from Debian's llvm package (versioned directory, or on PATH).
pub fn llvm_tool(name: &str) -> PathBuf {
    let versioned = std::fs::read_dir("/usr/lib")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin").join(name))
        .find(|p| p.is_file());
    versioned.unwrap_or_else(|| PathBuf::from(name))
}

/// A universal Mach-O at `out` holding `slices`, made by llvm-lipo.
pub fn universal_macho(slices: &[&Path], out: &Path) {
    let status = Command::new(llvm_tool("llvm-lipo"))
        .arg("-create")
        .args(slices)
        .arg("-output")
        .arg(out)
        .status()
        .expect("llvm-lipo runs (Debian package llvm)");
    assert!(status.success(), "llvm-lipo -create {slices:?}");
}

/// A build of `runs` compiles, one after another 2 ms apart from `start_unix_ns`, written straight into `store` as
/// build `id`: for what must hold at a size no test machine builds in minutes (a 10,000-run export).
pub fn synthetic_build(store: &Store, id: &str, start_unix_ns: u64, runs: u64) {
    use gohook_records::{BuildEnd, BuildStart, Record};
    let start = Record::BuildStart(BuildStart {
        build_id: id.into(),
        start_unix_ns,
        command: vec!["go".into(), "build".into(), "./...".into()],
        dir: "/src".into(),
        gohook_version: "synthetic".into(),
    });
    let run = |i: u64| {
        Record::Tool(ToolRun {
            build_id: id.into(),
            build_start_unix_ns: start_unix_ns,
            tool: "compile".into(),
            stage: Stage::Compile,
            package: format!("example.com/big/p{i}"),
            goos: "linux".into(),
            goarch: "amd64".into(),
            start_unix_ns: start_unix_ns + 1_000_000 + i * 2_000_000,
            duration_ns: 1_500_000,
            user_ns: 1_000_000,
            sys_ns: 100_000,
            max_rss_bytes: 50 << 20,
            exit: Exit::Code(0),
            gohook_ns: 500_000,
            gohook_cpu_ns: 400_000,
            plugin_ns: 0,
            pid: 10_000 + i as u32,
            findings: Vec::new(),
            plugins: Vec::new(),
        })
    };
    let end = Record::BuildEnd(BuildEnd {
        build_id: id.into(),
        end_unix_ns: start_unix_ns + 2_000_000 * (runs + 1),
        exit: Exit::Code(0),
    });
    for record in std::iter::once(start).chain((0..runs).map(run)).chain(std::iter::once(end)) {
        store.append(id, &record, usize::MAX).unwrap();
    }
}

/// What go's own `-debug-actiongraph` file says each compile (`build`) and `link` that ran waited, read here without
/// gohook: from the moment every input was done to go starting it. Every input done is when its `build check cache`
/// action became ready (go 1.26 puts that check between a compile and its imports; it waits on the imports), else
/// when the action itself did. Keyed by (mode, package); values (ready, start) in Unix ns.
pub fn go_plan_waits(plan: &Path) -> std::collections::BTreeMap<(String, String), (u64, u64)> {
    let actions: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(plan).unwrap()).unwrap();
    let time = |action: &Value, field: &str| -> u64 {
        let text = action[field].as_str().unwrap_or_else(|| panic!("{field} of {action}"));
        let at = humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).unwrap_or_else(|e| panic!("{text}: {e}"));
        at.duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    };
    let by_id: std::collections::HashMap<u64, &Value> =
        actions.iter().map(|a| (a["ID"].as_u64().unwrap(), a)).collect();
    let mut waits = std::collections::BTreeMap::new();
    for action in &actions {
        let mode = action["Mode"].as_str().unwrap();
        let ran = action["Cmd"].as_array().is_some_and(|cmd| !cmd.is_empty());
        if !(mode == "build" || mode == "link") || !ran {
            continue;
        }
        let package = action["Package"].as_str().unwrap();
        let deps = action["Deps"].as_array().map(|d| d.iter().filter_map(|d| d.as_u64()).collect()).unwrap_or(vec![]);
        let check = deps
            .iter()
            .filter_map(|d| by_id.get(d))
            .find(|d| d["Mode"] == "build check cache" && d["Package"] == package);
        let ready = time(check.copied().unwrap_or(action), "TimeReady");
        waits.insert((mode.to_owned(), package.to_owned()), (ready, time(action, "TimeStart")));
    }
    waits
}

/// The nearest-rank percentile of sorted values (gohook's, and the usual definition): the smallest value with at
/// least `p`% of the values at or below it.
pub fn nearest_rank(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// A report (`gohook report --format json`) says what go's own plan file `plan` says: the header's queue p50, p95 and
/// max, and each critical-path step's ready and queued time (its link by `main`, the program's package), none above
/// the header's max. Returns the header's (p50, p95, max).
pub fn assert_queues_are_gos_plans(summary: &Value, plan: &Path, main: &str) -> (u64, u64, u64) {
    let waits = go_plan_waits(plan);
    let mut queued: Vec<u64> = waits.values().map(|(ready, start)| start - ready).collect();
    queued.sort_unstable();
    let cache = &summary["go_cache"];
    let header = (u64_of(cache, "queued_p50_ns"), u64_of(cache, "queued_p95_ns"), u64_of(cache, "queued_max_ns"));
    assert_eq!(header, (nearest_rank(&queued, 50), nearest_rank(&queued, 95), *queued.last().unwrap()));
    let path = &summary["critical_path"];
    assert_eq!(path["queued_from_plan"], true);
    for step in path["steps"].as_array().unwrap() {
        let key = match step["name"].as_str().unwrap() {
            "link" => ("link".to_owned(), main.to_owned()),
            package => ("build".to_owned(), package.to_owned()),
        };
        let (ready, start) = waits[&key];
        assert_eq!((u64_of(step, "ready_unix_ns"), u64_of(step, "queued_ns")), (ready, start - ready), "{key:?}");
        assert!(u64_of(step, "queued_ns") <= header.2, "{step} queued longer than the header's max");
    }
    header
}
