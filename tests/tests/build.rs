//! `gohook build` and bare `-toolexec` on real go builds of the sample module.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use gohook_tests::*;
use serde_json::Value;

const EXIT_0: Exit = Exit::Code(0);

fn assert_success(out: &std::process::Output, what: &str) {
    assert!(out.status.success(), "{what} failed ({:?}):\n{}", out.status, text(&out.stderr));
}

/// Every run belongs to the build, shares its time axis and sits inside its window.
fn assert_on_build_axis(records: &BuildRecords, build: &str) {
    let start = records.start.as_ref().expect("gohook build writes a start record");
    let end = records.end.as_ref().expect("gohook build writes an end record");
    let (window_start, window_end) = (start.start_unix_ns, end.end_unix_ns);
    for run in &records.runs {
        assert_eq!(run.build_id, build);
        assert_eq!(run.build_start_unix_ns, window_start, "{run:?}");
        assert!(window_start <= run.start_unix_ns && run.end_unix_ns() <= window_end, "{run:?}");
    }
}

#[test]
fn sample_build_records_every_stage_once() {
    let world = World::new();
    let sample = fresh_sample();
    let binary = sample.path().join("sample-bin");
    let out = world.run_gohook(sample.path(), &["build", "-o", binary.to_str().unwrap(), "."]);
    assert_success(&out, "gohook build");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "only gohook's summary line: {stderr}");
    assert!(stderr.starts_with("gohook: build "), "{stderr}");

    let ran = Command::new(&binary).arg("tests").output().unwrap();
    assert_eq!(text(&ran.stdout), "hello, tests\n2 + 40 = 42\n");

    let build = world.only_build();
    let records = world.records(&build);
    assert_on_build_axis(&records, &build);
    assert_eq!(records.end.as_ref().unwrap().exit, EXIT_0);

    assert_eq!(records.packages(Stage::Link), ["example.com/sample"]);
    // The build's circumstances, recorded at go's probes: the go command gohook ran, in the sample's directory.
    let context = records.context.as_ref().expect("a context record");
    assert_eq!(context.go.command[1], "build");
    // gohook build adds one flag of its own: where go writes its plan (`gohook why`).
    let command = &context.go.command;
    let output = command.iter().position(|a| a == "-o").expect("-o in the go command");
    assert_eq!(command[output + 1], binary.to_str().unwrap());
    assert_eq!(command.iter().filter(|a| a.starts_with("-debug-actiongraph=")).count(), 1, "{command:?}");
    assert_eq!(Path::new(&context.go.dir), sample.path().canonicalize().unwrap());
    let go_version = Command::new("go").args(["env", "GOVERSION"]).output().unwrap();
    assert_eq!(context.go.version, text(&go_version.stdout).trim());
    let compiled = records.packages(Stage::Compile);
    for package in SAMPLE_PACKAGES {
        assert_eq!(compiled.iter().filter(|p| *p == package).count(), 1, "{package} compiled once: {compiled:?}");
    }
    let unique: BTreeSet<_> = compiled.iter().collect();
    assert_eq!(unique.len(), compiled.len(), "no package compiled twice");
    // A package with .s files runs asm twice: once for the symbol ABIs, once to assemble.
    let sum_asm = records.packages(Stage::Asm).into_iter().filter(|p| p == "example.com/sample/internal/sum").count();
    assert_eq!(sum_asm, 2);
    let (goos, goarch) = host_target();
    for run in records.work() {
        assert_eq!((run.goos.as_str(), run.goarch.as_str()), (goos.as_str(), goarch.as_str()));
        assert_eq!(run.exit, EXIT_0);
        assert!(run.user_ns + run.sys_ns > 0, "rusage recorded: {run:?}");
        assert!(run.max_rss_bytes > 1 << 20, "peak RSS recorded: {run:?}");
    }
    // go asks each tool for its identity once per go command.
    let mut probed: Vec<_> = records.stage(Stage::Probe).iter().map(|r| r.tool.clone()).collect();
    probed.sort();
    assert_eq!(probed, ["asm", "compile", "link"]);
}

#[test]
fn type_error_fails_with_the_compilers_message() {
    let world = World::new();
    let sample = fresh_sample();
    std::fs::write(sample.path().join("internal/greet/broken.go"), "package greet\n\nvar broken int = \"text\"\n")
        .unwrap();
    let out = world.run_gohook(sample.path(), &["build", "-o", "bin", "."]);
    assert_eq!(out.status.code(), Some(1), "go build's own exit code");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("# example.com/sample/internal/greet\n"), "{stderr}");
    assert!(
        stderr.contains(
            "internal/greet/broken.go:3:18: cannot use \"text\" (untyped string constant) as int value in variable declaration"
        ),
        "{stderr}"
    );
    assert!(!sample.path().join("bin").exists());

    let build = world.only_build();
    let records = world.records(&build);
    let greet: Vec<_> = records
        .stage(Stage::Compile)
        .into_iter()
        .filter(|r| r.package == "example.com/sample/internal/greet")
        .collect();
    assert_eq!(greet.len(), 1);
    assert_eq!(greet[0].exit, Exit::Code(2), "compile exits 2 on type errors");
    assert_eq!(records.end.as_ref().unwrap().exit, Exit::Code(1));
    assert!(records.stage(Stage::Link).is_empty());
}

/// Builds the sample in `dir`: how many of its packages compiled, and how many links ran.
fn sample_runs(world: &World, dir: &Path) -> (usize, usize) {
    let out = world.run_gohook(dir, &["build", "-o", "bin", "."]);
    assert_success(&out, "gohook build");
    let records = world.records(&world.builds().pop().unwrap());
    let compiles = records.packages(Stage::Compile).iter().filter(|p| SAMPLE_PACKAGES.contains(&p.as_str())).count();
    (compiles, records.stage(Stage::Link).len())
}

/// go keys each tool's cache on its `-V=full` answer, and gohook keys that answer on the plugins that run at that
/// tool's moments only: a link check relinks and recompiles nothing, a compile check recompiles, and the allow-list
/// (at the probe, which runs on every go command cached or not, and after the link) recompiles nothing.
#[test]
fn the_cache_is_keyed_per_tool_on_the_plugins_that_run_there() {
    let world = World::new();
    let sample = fresh_sample();
    let policy = |text: &str| std::fs::write(sample.path().join("gohook.toml"), text).unwrap();
    assert_eq!(sample_runs(&world, sample.path()), (3, 1));
    assert_eq!(sample_runs(&world, sample.path()), (0, 0), "identical second build comes from go's cache");

    // The allow-list runs at the probe, where it refuses what it must on every go command, and after the link (it
    // checks the binary's images): no compile is keyed on it, the link is.
    policy("[plugins.arch]\nsettings = { allow = [\"amd64\", \"arm64\"] }\n");
    assert_eq!(sample_runs(&world, sample.path()), (0, 1), "the allow-list recompiles nothing");
    let (goos, goarch) = host_target();
    let other = if goarch == "arm64" { "amd64" } else { "arm64" };
    policy(&format!("[plugins.arch]\nsettings = {{ allow = [{other:?}] }}\n"));
    let refused = world.run_gohook(sample.path(), &["build", "-o", "bin", "."]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains(&format!("error[arch/not-allowed] GOARCH={goarch} is not allowed")),
        "{goos}/{goarch}: {}",
        text(&refused.stderr)
    );

    // A link check: its settings key the link alone.
    let arch = "[plugins.arch]\nsettings = { allow = [\"amd64\", \"arm64\"] }\n";
    policy(&format!("{arch}\n[plugins.pie]\nrules = {{ \"pie/not-pie\" = \"warn\" }}\n"));
    assert_eq!(sample_runs(&world, sample.path()), (0, 1), "a new link check relinks, compiles nothing");
    policy(&format!(
        "{arch}\n[plugins.pie]\nrules = {{ \"pie/not-pie\" = \"warn\" }}\nsettings = {{ allow_static_pie = false }}\n"
    ));
    assert_eq!(sample_runs(&world, sample.path()), (0, 1), "a link check's setting relinks, compiles nothing");
    assert_eq!(sample_runs(&world, sample.path()), (0, 0));

    // A plugin that runs before every compile keys the compiles (and so, through them, the link).
    let watch = test_plugin("compile-watch").display().to_string();
    let with_watch =
        |label: &str| format!("{arch}\n[plugins.watch]\npath = {watch:?}\nsettings = {{ label = {label:?} }}\n");
    policy(&with_watch("a"));
    assert_eq!(sample_runs(&world, sample.path()), (3, 1), "a compile check recompiles");
    policy(&with_watch("b"));
    assert_eq!(sample_runs(&world, sample.path()), (3, 1), "and so does its setting");
    assert_eq!(sample_runs(&world, sample.path()), (0, 0));

    // Record-keeping settings cannot change a build, so they keep the cache.
    policy(&format!("[records]\nkeep_builds = 20\n\n{}", with_watch("b")));
    assert_eq!(sample_runs(&world, sample.path()), (0, 0));
}

/// Reads the first bytes of a file.
fn head(path: &Path, len: usize) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    bytes[..len.min(bytes.len())].to_vec()
}

fn cross_build(goos: &str, goarch: &str) -> (World, BuildRecords, Vec<u8>) {
    let world = World::new();
    let sample = fresh_sample();
    let out = world
        .gohook()
        .current_dir(sample.path())
        .env("GOOS", goos)
        .env("GOARCH", goarch)
        .args(["build", "-o", "bin", "."])
        .output()
        .unwrap();
    assert_success(&out, "cross build");
    let build = world.only_build();
    let records = world.records(&build);
    for run in records.work() {
        assert_eq!((run.goos.as_str(), run.goarch.as_str()), (goos, goarch), "{run:?}");
    }
    assert_eq!(records.packages(Stage::Link), ["example.com/sample"]);
    let binary = std::fs::read(sample.path().join("bin")).unwrap();
    (world, records, binary)
}

#[test]
fn darwin_arm64_cross_build_is_recorded_and_mach_o() {
    let (_world, records, binary) = cross_build("darwin", "arm64");
    // MH_MAGIC_64 little-endian, then CPU_TYPE_ARM64 (0x0100000c).
    assert_eq!(binary[..8], [0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0x00, 0x00, 0x01]);
    assert_eq!(records.packages(Stage::Asm).iter().filter(|p| p.ends_with("internal/sum")).count(), 2);
}

#[test]
fn windows_amd64_cross_build_is_recorded_and_pe() {
    let (_world, _records, binary) = cross_build("windows", "amd64");
    assert_eq!(binary[..2], *b"MZ");
    let pe_offset = u32::from_le_bytes(binary[0x3c..0x40].try_into().unwrap()) as usize;
    assert_eq!(binary[pe_offset..pe_offset + 4], *b"PE\0\0");
    // IMAGE_FILE_MACHINE_AMD64
    assert_eq!(u16::from_le_bytes(binary[pe_offset + 4..pe_offset + 6].try_into().unwrap()), 0x8664);
}

#[test]
fn bare_toolexec_is_silent_and_groups_one_aligned_build() {
    let world = World::new();
    let sample = fresh_sample();
    let toolexec = format!("-toolexec={}", gohook_bin().display());
    let before = now_ns();
    let out =
        world.command("go").current_dir(sample.path()).args(["build", &toolexec, "-o", "bin", "."]).output().unwrap();
    let after = now_ns();
    assert_success(&out, "go build -toolexec=gohook");
    assert_eq!(text(&out.stdout), "", "nothing on stdout");
    assert_eq!(text(&out.stderr), "", "nothing on stderr");
    assert_eq!(head(&sample.path().join("bin"), 4), b"\x7fELF");

    let build = world.only_build();
    assert!(build.starts_with("go-"), "derived from the go process: {build}");
    let records = world.records(&build);
    assert!(records.start.is_none() && records.end.is_none(), "no driver, no start/end records");
    assert_eq!(records.packages(Stage::Link), ["example.com/sample"]);
    let build_start = records.runs[0].build_start_unix_ns;
    // /proc gives go's start in 10 ms clock ticks, rounded down.
    assert!(before - 50_000_000 <= build_start && build_start <= before + 50_000_000, "{before} vs {build_start}");
    for run in &records.runs {
        assert_eq!(run.build_id, build.as_str());
        assert!(run.build_start_unix_ns.abs_diff(build_start) < 1_000_000, "one axis: {run:?}");
        assert!(build_start <= run.start_unix_ns && run.end_unix_ns() <= after, "{run:?}");
    }
}

#[test]
fn dash_x_lines_match_records_for_two_parallel_builds() {
    let world = World::new();
    let samples = [fresh_sample(), fresh_sample()];
    let children: Vec<_> = samples
        .iter()
        .map(|sample| world.spawn_gohook(sample.path(), &["build", "-a", "-x", "-p", "4", "-o", "bin", "."]))
        .collect();
    let outputs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let builds = world.builds();
    assert_eq!(builds.len(), 2);

    for out in &outputs {
        assert_success(out, "gohook build -a -x");
        let stderr = text(&out.stderr);
        // `go build -x` prints each tool command it runs, prefixed with the -toolexec program.
        let x_lines = toolexec_lines(&stderr, gohook_bin());
        let summary_line = stderr.lines().last().unwrap();
        let build = builds.iter().find(|b| summary_line.contains(b.as_str())).expect("summary names the build");
        let records = world.records(build);
        assert!(x_lines > 100, "a -a build runs many tools: {x_lines}");
        assert_eq!(records.work().count(), x_lines, "one record per tool run go reported");
        let summary = world.summary(build);
        assert_eq!(summary["skipped_records"], serde_json::json!({"corrupt": 0, "unsupported_version": 0}));
    }
}

#[test]
fn chrome_trace_merges_with_gos_debug_trace() {
    let world = World::new();
    let sample = fresh_sample();
    let go_trace = sample.path().join("go-trace.json");
    let out =
        world.run_gohook(sample.path(), &["build", &format!("-debug-trace={}", go_trace.display()), "-o", "bin", "."]);
    assert_success(&out, "gohook build -debug-trace");
    let build = world.only_build();
    let summary = world.summary(&build);

    let ours = world.run_gohook(sample.path(), &["report", "--format", "chrome-trace"]);
    assert_success(&ours, "report --format chrome-trace");
    let ours: Vec<Value> = serde_json::from_slice(&ours.stdout).expect("the trace is a JSON array");

    let merged_path = sample.path().join("merged.json");
    let out = world.run_gohook(
        sample.path(),
        &[
            "report",
            "--format",
            "chrome-trace",
            "--merge",
            go_trace.to_str().unwrap(),
            "-o",
            merged_path.to_str().unwrap(),
        ],
    );
    assert_success(&out, "report --merge");
    let merged: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&merged_path).unwrap()).unwrap();
    let go: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&go_trace).unwrap()).unwrap();
    assert_eq!(merged.len(), go.len() + ours.len(), "both traces are in the merged file");

    let micros = |ns: u64| ns as f64 / 1000.0;
    let (build_start, build_end) = (micros(u64_of(&summary, "start_unix_ns")), micros(u64_of(&summary, "end_unix_ns")));
    let tool_events: Vec<&Value> = ours.iter().filter(|e| e["ph"] == "X" && e["tid"] != 0).collect();
    assert_eq!(tool_events.len() as u64, u64_of(&summary, "invocations") + u64_of(&summary, "probes"));
    for event in &tool_events {
        let ts = event["ts"].as_f64().unwrap();
        assert!(build_start <= ts && ts + event["dur"].as_f64().unwrap() <= build_end + 1.0, "{event}");
        assert_eq!(event["pid"], 1);
    }
    // Same time base: go's own events (pid 0, epoch µs) frame our tool runs.
    let go_ts: Vec<f64> = go.iter().filter_map(|e| e["ts"].as_f64()).collect();
    let (go_first, go_last) =
        (go_ts.iter().cloned().fold(f64::MAX, f64::min), go_ts.iter().cloned().fold(0.0, f64::max));
    assert!(build_start <= go_first && go_last <= build_end, "go's trace sits inside gohook's build window");
    let link = tool_events.iter().find(|e| e["cat"] == "link").expect("the link is in the trace");
    let go_link = go
        .iter()
        .find(|e| e["name"].as_str().is_some_and(|n| n.starts_with("Executing action (link")) && e["ph"] == "B")
        .expect("go traced its link action");
    let go_link_end = go
        .iter()
        .find(|e| e["name"] == go_link["name"] && e["ph"] == "E")
        .expect("go traced the end of its link action");
    let (link_start, link_end) =
        (link["ts"].as_f64().unwrap(), link["ts"].as_f64().unwrap() + link["dur"].as_f64().unwrap());
    assert!(
        go_link["ts"].as_f64().unwrap() <= link_start && link_end <= go_link_end["ts"].as_f64().unwrap(),
        "gohook's link run sits inside go's link action"
    );
}

#[test]
fn exec_runs_go_test_through_the_shim() {
    let world = World::new();
    let sample = fresh_sample();
    let out = world.run_gohook(
        sample.path(),
        &["exec", "--label", "purpose=exec", "--phases", "--", "go", "test", "-count=1", "./internal/greet"],
    );
    assert_success(&out, "gohook exec -- go test");
    // go test's own output, without the linker's phase lines (--phases) in it.
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("ok  \texample.com/sample/internal/greet"), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let records = world.records(&world.only_build());
    let compiled = records.packages(Stage::Compile);
    assert!(
        compiled.contains(&"example.com/sample/internal/greet [example.com/sample/internal/greet.test]".to_owned()),
        "test variant compiled: {compiled:?}"
    );
    assert_eq!(records.packages(Stage::Link), ["example.com/sample/internal/greet.test"]);
    // go test vets the package under test (and, for vet's facts, its dependencies) through the shim too.
    let vetted = records.packages(Stage::Vet);
    let variant = "example.com/sample/internal/greet [example.com/sample/internal/greet.test]";
    assert_eq!(vetted.iter().filter(|p| *p == variant).count(), 1, "{vetted:?}");
    let start = records.start.as_ref().unwrap();
    assert_eq!(start.command, ["go", "test", "-count=1", "./internal/greet"]);
    assert_eq!(records.context.as_ref().unwrap().labels, [("purpose".to_owned(), "exec".to_owned())]);
    assert!(
        records.phase_names(records.stage(Stage::Link)[0]).iter().any(|p| p == "loadlib"),
        "the test binary's link"
    );

    let failing = world.run_gohook(sample.path(), &["exec", "--", "sh", "-c", "exit 3"]);
    assert_eq!(failing.status.code(), Some(3), "the command's exit code comes through");
}

#[test]
fn pprof_top_lists_the_slowest_package_first() {
    let world = World::with_cold_go_cache();
    let sample = fresh_sample();
    let out = world.run_gohook(sample.path(), &["build", "-o", "bin", "."]);
    assert_success(&out, "gohook build");
    let build = world.only_build();
    let summary = world.summary(&build);
    let slowest = summary["slowest_packages"][0]["package"].as_str().unwrap().to_owned();

    let profile = sample.path().join("build.pb.gz");
    let out = world.gohook().args(["report", &build, "--format", "pprof", "-o"]).arg(&profile).output().unwrap();
    assert_success(&out, "gohook report --format pprof");
    let top = Command::new("go").args(["tool", "pprof", "-top"]).arg(&profile).output().unwrap();
    assert_success(&top, "go tool pprof -top");
    let text = text(&top.stdout);
    assert!(text.contains("Type: wall"), "{text}");
    // The first row after the header: flat, flat%, sum%, cum, cum%, name.
    let rows: Vec<&str> = text.lines().skip_while(|l| !l.trim_start().starts_with("flat")).skip(1).collect();
    let first = rows.first().unwrap_or_else(|| panic!("no rows in:\n{text}"));
    assert_eq!(first.split_whitespace().last(), Some(slowest.as_str()), "{text}");
    // Its flat time is the package's summed run time from the report, as pprof prints it (3 significant digits).
    let total_ns = summary["slowest_packages"][0]["total_ns"].as_u64().unwrap();
    let flat = first.split_whitespace().next().unwrap();
    let flat_s: f64 = match flat.strip_suffix("ms") {
        Some(ms) => ms.parse::<f64>().unwrap() / 1e3,
        None => flat.trim_end_matches('s').parse().unwrap(),
    };
    assert!((flat_s - total_ns as f64 / 1e9).abs() <= 0.01 * flat_s.max(0.01), "{flat} vs {total_ns} ns");

    // A cold build: everything go compiles was compiled (`unsafe`, which it never compiles, is not counted as
    // cached), so no caveat about cached packages.
    assert_eq!(summary["packages_compiled"], summary["packages_in_build"], "{summary}");
    assert_eq!(summary["critical_path"]["cached_packages"], 0);
    let table = gohook_tests::text(&world.gohook().args(["report", &build]).output().unwrap().stdout);
    assert!(table.contains(", 0 from go's build cache\n") && !table.contains("cached packages did no work"), "{table}");
}

#[test]
fn critical_path_is_the_known_chain_plus_link_not_the_slow_package_beside_it() {
    let world = World::new();
    let module = tempfile::tempdir().unwrap();
    // A first build puts std into go's cache whatever ran before; new constants then make the module's own
    // packages, and only them, compile again.
    let plan = module.path().join("plan.json");
    let plan_flag = format!("-debug-actiongraph={}", plan.display());
    for _ in 0..2 {
        chain_module(module.path());
        let out = world.run_gohook(module.path(), &["build", &plan_flag, "-o", "bin", "."]);
        assert_success(&out, "gohook build");
    }
    let build = world.builds().pop().unwrap();
    let summary = world.summary(&build);
    let path = &summary["critical_path"];
    let names: Vec<&str> = path["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["example.com/m/c", "example.com/m/b", "example.com/m/a", "example.com/m", "link"], "{path}");

    let records = world.records(&build);
    let compiles = records.stage(Stage::Compile);
    let longest_compile = compiles.iter().map(|r| r.duration_ns).max().unwrap();
    let d = compiles.iter().find(|r| r.package == "example.com/m/d").expect("d compiled");
    assert_eq!(d.duration_ns, longest_compile, "d is the slowest compile");
    let longest_run = records.work().map(|r| r.duration_ns).max().unwrap();
    let total = u64_of(path, "total_ns");
    assert!(longest_run < total && total <= u64_of(&summary, "wall_ns"), "{longest_run} < {total} <= wall: {path}");
    let steps = path["steps"].as_array().unwrap();
    let shares: f64 = steps.iter().map(|s| s["share"].as_f64().unwrap()).sum();
    assert!((shares - 1.0).abs() < 1e-9, "{path}");
    // The std packages came from go's cache, and the report says so.
    assert_eq!(summary["packages_compiled"], 5);
    assert!(summary["packages_in_build"].as_u64().unwrap() > 5, "{summary}");
    let table = text(&world.gohook().args(["report", &build]).output().unwrap().stdout);
    assert!(table.contains("critical path: 4 packages + link"), "{table}");
    // The trace has the path as a track of its own.
    let trace = world.gohook().args(["report", &build, "--format", "chrome-trace"]).output().unwrap();
    let events: Vec<serde_json::Value> = serde_json::from_slice(&trace.stdout).unwrap();
    let track: Vec<&str> =
        events.iter().filter(|e| e["cat"] == "critical-path").map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(track, names);
    assert!(table.contains(&format!("5 of {} packages compiled", summary["packages_in_build"])), "{table}");

    // The verdict comes first: the module's CPU spread over the tools go ran at once against the floor, which is the
    // what-if's: one number. (This module sits near the line — the chain's compiles each keep ~1.6 cores busy alone,
    // and d beside them — so which side it falls on is the figures', asserted here; both kinds are asserted on
    // builds far from it: the core-bound test below, and the critical path's unit tests.)
    let limit = &path["limit"];
    let cpu = records.work().map(|r| r.user_ns + r.sys_ns).sum::<u64>();
    let cpus = records.context.as_ref().unwrap().go.parallelism as u64;
    assert_eq!((u64_of(limit, "cpu_ns"), u64_of(limit, "cpu_per_core_ns")), (cpu, cpu / cpus));
    assert_eq!(limit["floor_ns"], summary["what_if"]["floor_ns"]);
    let floor = fmt_duration(u64_of(limit, "floor_ns"));
    let verdict = if cpu / cpus >= u64_of(limit, "floor_ns") {
        assert_eq!(limit["bound"], "core-bound", "{path}");
        format!("\ncore-bound: {} of CPU / {cpus} cores = ", fmt_duration(cpu))
    } else {
        assert_eq!(limit["bound"], "path-bound", "{path}");
        format!("\npath-bound: the {floor} floor (the longest chain, with go's own time) outlasts ")
    };
    assert!(table.contains(&verdict), "{table}");
    assert!(table.find(&verdict) < table.find("critical path: "), "the verdict before the path: {table}");
    assert_last_finishing_chain(&records, path);
    assert_queues_are_gos_plans(&summary, &plan, "example.com/m");
}

/// Each step of the path is the dependency of the next that finished last.
fn assert_last_finishing_chain(records: &BuildRecords, path: &Value) {
    let graph: std::collections::BTreeMap<&str, Vec<&str>> = records
        .packages
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| (p.package.as_str(), p.imports.iter().map(String::as_str).collect()))
        .collect();
    let span = |package: &str| -> Option<(u64, u64)> {
        let runs: Vec<&ToolRun> =
            records.work().filter(|r| r.package == package && matches!(r.stage, Stage::Compile | Stage::Asm)).collect();
        Some((runs.iter().map(|r| r.start_unix_ns).min()?, runs.iter().map(|r| r.end_unix_ns()).max()?))
    };
    // The packages that ran among `package`'s dependencies, looking through those go served from its cache.
    fn ran_deps<'a>(
        graph: &std::collections::BTreeMap<&'a str, Vec<&'a str>>,
        span: &dyn Fn(&str) -> Option<(u64, u64)>,
        package: &'a str,
        out: &mut Vec<&'a str>,
    ) {
        for import in graph.get(package).into_iter().flatten() {
            if span(import).is_some() { out.push(import) } else { ran_deps(graph, span, import, out) }
        }
    }
    let steps = path["steps"].as_array().unwrap();
    for pair in steps.windows(2) {
        let (previous, next) = (pair[0]["name"].as_str().unwrap(), pair[1]["name"].as_str().unwrap());
        let candidates: Vec<&str> = if next == "link" {
            graph.keys().copied().filter(|p| span(p).is_some()).collect()
        } else {
            let mut deps = Vec::new();
            ran_deps(&graph, &span, next, &mut deps);
            deps
        };
        let last = candidates.iter().max_by_key(|p| span(p).unwrap().1).expect("a dependency that ran");
        assert_eq!(*last, previous, "{next} waited for {last} last: {path}");
    }
}

#[test]
fn a_build_of_more_equal_packages_than_cores_is_core_bound() {
    let world = World::new();
    let module = tempfile::tempdir().unwrap();
    let plan = module.path().join("plan.json");
    let plan_flag = format!("-debug-actiongraph={}", plan.display());
    for _ in 0..2 {
        independent_module(module.path(), 8);
        let out = world.run_gohook(module.path(), &["build", "-p", "2", &plan_flag, "-o", "bin", "."]);
        assert_success(&out, "gohook build");
    }
    let build = world.builds().pop().unwrap();
    let records = world.records(&build);
    let summary = world.summary(&build);
    let path = &summary["critical_path"];
    let limit = &path["limit"];
    assert_eq!(limit["bound"], "core-bound", "{path}");
    let cpu: u64 = records.work().map(|r| r.user_ns + r.sys_ns).sum();
    let cpus = records.context.as_ref().unwrap().go.parallelism as u64;
    assert_eq!((u64_of(limit, "cpu_ns"), u64_of(limit, "cpus")), (cpu, cpus));
    assert_eq!(u64_of(limit, "cpu_per_core_ns"), cpu / cpus);
    // One floor: the verdict's is the what-if's, and no prediction beats the CPU over the cores it has.
    let what_if = &summary["what_if"];
    assert_eq!(limit["floor_ns"], what_if["floor_ns"]);
    assert!(cpu / cpus >= u64_of(limit, "floor_ns"), "{path}");
    let machine_cpus = records.context.as_ref().unwrap().machine.logical_cpus as u64;
    for point in what_if["curve"].as_array().unwrap() {
        let cores = u64_of(point, "cores").max(machine_cpus);
        assert!(u64_of(point, "wall_ns") >= cpu / cores, "{point} beats {cpu} ns of CPU on {cores} cores");
    }
    let table = text(&world.gohook().args(["report", &build]).output().unwrap().stdout);
    let verdict = format!("core-bound: {} of CPU / {cpus} cores = ", fmt_duration(cpu));
    assert!(table.contains(&verdict), "{verdict} in {table}");
    assert!(table.contains("more cores would help, down to ~"), "{table}");

    // Eight packages ready at once on two cores queue: the header's waits are go's plan's, and the largest of them
    // is at least every wait the critical path shows.
    let (_, p95, max) = assert_queues_are_gos_plans(&summary, &plan, "example.com/wide");
    assert!(p95 > 0, "a core-bound build queues: {}", summary["go_cache"]);
    assert!(table.contains(&format!("p95 {}, max {}", fmt_duration(p95), fmt_duration(max))), "{table}");
    assert_last_finishing_chain(&records, path);
}

/// gohook's duration format (`format_duration`), for matching the table.
fn fmt_duration(ns: u64) -> String {
    gohook_analysis::format_duration(ns)
}

#[test]
fn a_no_op_build_says_there_was_nothing_to_do() {
    let world = World::new();
    let sample = fresh_sample();
    assert_success(&world.run_gohook(sample.path(), &["build", "-o", "bin", "."]), "gohook build");
    let again = world.run_gohook(sample.path(), &["build", "-o", "bin", "."]);
    assert_success(&again, "the same build again");
    assert!(text(&again.stderr).contains(": 0 tool runs in "), "{}", text(&again.stderr));
    let build = world.builds().pop().unwrap();
    let summary = world.summary(&build);
    assert_eq!((u64_of(&summary, "invocations"), u64_of(&summary, "packages_compiled")), (0, 0));
    let table = text(&world.gohook().args(["report", &build]).output().unwrap().stdout);
    let packages = u64_of(&summary, "packages_in_build");
    assert!(
        table.contains(&format!("\nnothing to do: every package came from go's build cache ({packages} packages)\n")),
        "{table}"
    );
    assert!(!table.contains('%') && !table.contains("stage ") && !table.contains("runs overlap"), "{table}");
    assert!(table.contains(" wall, 0 tool runs + "), "{table}");
}

#[test]
fn packages_roll_up_by_module_with_exact_sums() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let app = two_module_build(dir.path());
    assert_success(&world.run_gohook(&app, &["build", "-o", "bin", "."]), "gohook build of two modules");
    let build = world.builds().pop().unwrap();
    let records = world.records(&build);
    let summary = world.summary(&build);
    let modules = summary["modules"].as_array().unwrap();
    let row = |name: &str| modules.iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("{name}: {modules:?}"));
    let wall = |packages: &[&str]| -> u64 {
        records
            .work()
            .filter(|r| packages.contains(&r.package.as_str()) && matches!(r.stage, Stage::Compile | Stage::Asm))
            .map(|r| r.duration_ns)
            .sum()
    };
    let app_row = row("example.com/app");
    assert_eq!((app_row["packages"].as_u64(), app_row["compiled"].as_u64()), (Some(2), Some(2)));
    assert_eq!(u64_of(app_row, "wall_ns"), wall(&["example.com/app", "example.com/app/util"]));
    let lib_row = row("example.com/lib => ../lib");
    assert_eq!((lib_row["packages"].as_u64(), lib_row["compiled"].as_u64()), (Some(2), Some(2)));
    assert_eq!(u64_of(lib_row, "wall_ns"), wall(&["example.com/lib/a", "example.com/lib/b"]));
    let std_row = row("std");
    let all: u64 =
        records.work().filter(|r| matches!(r.stage, Stage::Compile | Stage::Asm)).map(|r| r.duration_ns).sum();
    assert_eq!(u64_of(std_row, "wall_ns"), all - u64_of(app_row, "wall_ns") - u64_of(lib_row, "wall_ns"));
    let shares: f64 = modules.iter().map(|m| m["share"].as_f64().unwrap()).sum();
    assert!((shares - 1.0).abs() < 1e-9, "{modules:?}");
    let table = text(&world.gohook().args(["report", &build]).output().unwrap().stdout);
    assert!(table.contains("\nby module (compile and asm runs added up)\n"), "{table}");
    assert!(table.contains("  example.com/lib => ../lib  (2 of 2 packages compiled)"), "{table}");
}

#[test]
fn a_terminal_sees_live_progress() {
    let world = World::new();
    let sample = fresh_sample();
    // `script` gives gohook a terminal (a pseudo-terminal), as a developer's shell would.
    let command = format!("{} build -o bin -a .", gohook_bin().display());
    let out =
        world.command("script").current_dir(sample.path()).args(["-qec", &command, "/dev/null"]).output().unwrap();
    assert_success(&out, "gohook build under script");
    let screen = text(&out.stdout);
    let updates: Vec<&str> = screen.split('\r').filter(|l| l.contains("tool runs done")).collect();
    assert!(!updates.is_empty(), "no progress line on the terminal:\n{screen}");
    // While go runs, its running tools are counted (after it exited there is nothing to count).
    assert!(updates.iter().any(|l| l.contains(" running, ")), "{updates:?}");
    assert!(screen.contains("gohook: build "), "the summary follows: {screen}");
    // Piped, stderr is the summary line alone: sample_build_records_every_stage_once.
}
