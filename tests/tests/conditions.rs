//! gohook's numbers under the conditions builds really run in, on real go builds: a build the policy refused inside
//! a benchmark, two builds a side, a machine busy with other work, a cold build that fails in one package, a library
//! package benchmarked and asked why and what-if. Each is a case where a number once misled; each asserts what is
//! said instead.

use std::path::Path;
use std::process::{Child, Command};

use gohook_tests::*;
use serde_json::Value;

/// One test at a time: they time builds, and a busy machine is what one of them is about.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A module with one library package that imports nothing: a cold build of it compiles it alone.
fn library_module(dir: &Path) {
    std::fs::write(dir.join("go.mod"), "module example.com/lib\n\ngo 1.26\n").unwrap();
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(dir.join("lib/lib.go"), "package lib\n\nfunc Double(x int) int { return 2 * x }\n").unwrap();
}

/// The architecture a policy refusing this machine's allows instead.
fn other_arch() -> &'static str {
    if host_target().1 == "amd64" { "arm64" } else { "amd64" }
}

#[test]
fn a_failed_build_is_no_sample_and_two_builds_a_side_decide_nothing() {
    let _serial = one_at_a_time();
    let world = World::new();
    let module = tempfile::tempdir().unwrap();
    library_module(module.path());
    let bench = |run: &str, n: &str| world.run_gohook(module.path(), &["bench", "-n", n, "--run", run, "--", "./lib"]);
    assert_exit(&bench("main", "2"), 0, "two good builds of main");

    // A policy that refuses this machine's architecture stops the next build of main at go's first probe.
    let policy = module.path().join("gohook.toml");
    std::fs::write(&policy, format!("[plugins.arch]\nsettings = {{ allow = [\"{}\"] }}\n", other_arch())).unwrap();
    let refused = bench("main", "1");
    std::fs::remove_file(&policy).unwrap();
    assert_exit(&refused, 1, "the refused build");
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("bench: [1/1] main FAILED (exit 1): "), "{stderr}");
    assert!(stderr.contains(" wall, 0 tool runs (go failed before running any tool)\n"), "not 'all cached': {stderr}");
    assert!(stderr.contains("no comparison, benchmark summary or baseline counts a failed build"), "{stderr}");
    let builds = world.builds();
    let failed = builds.last().unwrap().clone();
    assert_eq!(world.summary(&failed)["exit"], serde_json::json!({"code": 1}));

    // A baseline of main saves its two good builds, says which one it left out, and keys them by platform too.
    let baselines = tempfile::tempdir().unwrap();
    let dir = baselines.path().to_str().unwrap();
    let out = world.run_gohook(module.path(), &["baseline", "save", dir, "--run", "main"]);
    assert_exit(&out, 0, "baseline save");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("main: left out build {failed} — failed before any tool ran (exit 1)")),
        "{stderr}"
    );
    let (goos, goarch) = host_target();
    assert!(
        stderr.contains("gohook: saved 2 builds as the newest baseline of key (")
            && stderr.contains(&format!("platform={goos}/{goarch})")),
        "{stderr}"
    );
    // … so the same machine finds it: not "no baseline for this machine's key".
    let out = world.run_gohook(module.path(), &["compare", "--baseline", dir, "main", "--format", "json"]);
    assert_exit(&out, 0, "compare --baseline on the machine that saved it");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["old"]["builds"].as_u64(), report["new"]["builds"].as_u64()), (Some(2), Some(2)));
    assert_eq!(
        report["new"]["dropped"],
        serde_json::json!([{"build_id": failed, "why": "failed before any tool ran (exit 1)"}])
    );

    // Two builds against two can never reach alpha 0.05 (the smallest two-sided p is 1/3): undecided, never ✅, and
    // a gate asked for a decision exits 2.
    assert_exit(&bench("branch", "2"), 0, "two builds of the branch");
    let out =
        world.run_gohook(module.path(), &["compare", "main", "branch", "--threshold", "5%", "--format", "markdown"]);
    assert_exit(&out, 2, "a 2-against-2 gate");
    let markdown = text(&out.stdout);
    assert_eq!(
        markdown.lines().next().unwrap(),
        "**❔ gohook: undecided: 2 builds against 2 cannot show a difference at alpha 0.05; use ≥ 4 builds a side (exit 2)**"
    );
    assert!(!markdown.contains('✅'), "{markdown}");
    assert!(
        markdown.contains("these samples cannot detect any slowdown: 2 builds against 2 never reach alpha 0.05"),
        "{markdown}"
    );
    assert!(markdown.contains(&format!("main: left out build {failed}")), "{markdown}");
    assert!(markdown.contains("run main (2 builds; 1 left out)"), "{markdown}");
    // p-values are exact: with 2 and 2 values only 6 arrangements exist, so p is a multiple of 1/3.
    let out = world.run_gohook(module.path(), &["compare", "main", "branch", "--format", "json"]);
    assert_exit(&out, 0, "compare without a threshold decides nothing and exits 0");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["decision"], serde_json::json!({"kind": "undecided", "per_side": 4}));
    assert_eq!(report["noise"]["detectable_percent"], Value::Null);
    for row in report["rows"].as_array().unwrap().iter().filter(|r| r["old"]["n"] == 2 && r["new"]["n"] == 2) {
        let p = row["p_value"].as_f64().unwrap();
        assert!((p * 3.0 - (p * 3.0).round()).abs() < 1e-9 && p >= 1.0 / 3.0 - 1e-9, "{row}");
    }
}

/// A process that keeps one core busy until it is killed.
fn cpu_hog() -> Child {
    Command::new("sh").args(["-c", "while :; do :; done"]).spawn().expect("sh starts")
}

#[test]
fn a_busy_machine_is_measured_said_and_not_mistaken_for_the_build() {
    let _serial = one_at_a_time();
    let world = World::new();
    let module = tempfile::tempdir().unwrap();
    let build = |world: &World| {
        independent_module(module.path(), 6);
        let out = world.run_gohook(module.path(), &["build", "-p", "2", "-o", "bin", "."]);
        assert_exit(&out, 0, "gohook build");
        let id = world.builds().pop().unwrap();
        let out = world.gohook().args(["report", &id, "--cores", "1,2", "--format", "json"]).output().unwrap();
        assert_exit(&out, 0, "report --cores");
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        (id, summary)
    };
    let others = |summary: &Value| {
        let load = &summary["load"];
        let outside =
            u64_of(load, "machine_busy_ns").saturating_sub(u64_of(load, "build_cpu_ns")) + u64_of(load, "steal_ns");
        outside as f64 / u64_of(load, "wall_ns") as f64
    };

    // Alone on the machine: nothing else ran, and the replay of the build as it ran is within 15% of it.
    let (_, quiet) = build(&world);
    assert!(others(&quiet) < 0.25, "others on a quiet machine: {}", quiet["load"]);
    assert!(quiet["what_if"]["machine_shared"].is_null());
    assert!(quiet["what_if"]["off"].as_f64().unwrap().abs() < 0.15, "{}", quiet["what_if"]);

    // Beside a program that keeps a core busy: the load is recorded and said, and the what-if replays the runs at
    // their CPU time and checks itself on the cores the build had.
    let mut hog = cpu_hog();
    let (id, busy) = build(&world);
    let _ = hog.kill();
    let _ = hog.wait();
    assert!(others(&busy) >= 0.4, "a hog on one of the cores: {}", busy["load"]);
    let shared = &busy["what_if"]["machine_shared"];
    assert!(shared["others_cores"].as_f64().unwrap() >= 0.4, "{shared}");
    let table = text(&world.gohook().args(["report", &id, "--cores", "1,2"]).output().unwrap().stdout);
    assert!(
        table.contains("\nload: other work kept ")
            && table.contains(": the machine was shared, so the runs' wall times are longer than they would be alone"),
        "{table}"
    );
    assert!(table.contains("\n  the machine was shared: other work kept "), "{table}");
    assert!(
        table.contains(&format!(
            "check: replayed as it ran (-p 2 on the {:.2} cores it had) ",
            shared["free_cores"].as_f64().unwrap()
        )),
        "{table}"
    );
    assert!(table.contains("measured on a machine shared with other work"), "the verdict says so: {table}");

    // One floor and one bound, however the machine was: the verdict's floor is the what-if's, its work the runs'
    // CPU, and no prediction beats that CPU over the cores it has.
    let records = world.records(&id);
    let limit = &busy["critical_path"]["limit"];
    assert_eq!(limit["floor_ns"], busy["what_if"]["floor_ns"]);
    let cpu: u64 = records.work().map(|r| r.user_ns + r.sys_ns).sum();
    assert_eq!(u64_of(limit, "cpu_ns"), cpu);
    let machine = records.context.as_ref().unwrap().machine.logical_cpus as u64;
    for point in busy["what_if"]["curve"].as_array().unwrap() {
        assert!(u64_of(point, "wall_ns") >= cpu / u64_of(point, "cores").max(machine), "{point}");
    }
    // compare says which side shared its machine.
    let out = world.gohook().args(["compare", &world.builds()[0], &id]).output().unwrap();
    assert!(
        text(&out.stdout).contains("\nNEW: 1 of 1 build shared the machine with other work (a median "),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_cold_build_that_fails_counts_what_never_ran_as_not_run() {
    let _serial = one_at_a_time();
    let world = World::with_cold_go_cache();
    let module = tempfile::tempdir().unwrap();
    let dir = module.path();
    std::fs::write(dir.join("go.mod"), "module example.com/broken\n\ngo 1.26\n").unwrap();
    for (package, text) in [
        ("a", "package a\n\nvar X int = \"not an int\"\n".to_owned()),
        ("b", "package b\n\nimport \"example.com/broken/a\"\n\nvar Y = a.X\n".to_owned()),
        ("c", "package c\n\nimport \"example.com/broken/b\"\n\nvar Z = b.Y\n".to_owned()),
    ] {
        std::fs::create_dir_all(dir.join(package)).unwrap();
        std::fs::write(dir.join(package).join(format!("{package}.go")), text).unwrap();
    }
    std::fs::write(
        dir.join("main.go"),
        "package main\n\nimport \"example.com/broken/c\"\n\nfunc main() { println(c.Z) }\n",
    )
    .unwrap();
    let out = world.run_gohook(dir, &["build", "-o", "bin", "."]);
    assert_exit(&out, 1, "a build whose package a does not compile");
    let id = world.only_build();
    assert!(text(&out.stderr).contains(&format!("gohook: build {id} FAILED (exit 1): ")), "{}", text(&out.stderr));

    // Nothing was in the cache, so nothing was served: b, c and main never compiled because a failed, and the link
    // never ran. go's own plan says which: no action id, no command.
    let summary = world.summary(&id);
    let stages = &summary["go_cache"]["stages"];
    assert_eq!(
        (stages[0]["stage"].as_str(), stages[0]["served"].as_u64(), stages[0]["not_run"].as_u64()),
        (Some("compile"), Some(0), Some(3)),
        "{stages}"
    );
    assert_eq!(stages[1], serde_json::json!({"stage": "link", "ran": 0, "served": 0, "not_run": 1}));
    let ran = stages[0]["ran"].as_u64().unwrap();
    let table = text(&world.gohook().args(["report", &id]).output().unwrap().stdout);
    let plan = format!(
        "go's cache (its plan): compile {ran} ran, 0 served, 3 not run (a dependency failed); link 0 ran, 0 served, 1 not run (a dependency failed)"
    );
    assert!(table.contains(&plan), "{plan} in\n{table}");
}

#[test]
fn bench_builds_a_library_and_records_what_gohook_build_records() {
    let _serial = one_at_a_time();
    let world = World::new();
    let module = tempfile::tempdir().unwrap();
    chain_module(module.path());
    // A library: no program to link, so no -o; go's "no main packages to build" must not be what the user sees.
    let out = world.run_gohook(module.path(), &["bench", "-n", "1", "--run", "lib", "--", "./a"]);
    assert_exit(&out, 0, "gohook bench of a library package");
    let id = world.only_build();
    let summary = world.summary(&id);
    let steps: Vec<&str> =
        summary["critical_path"]["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(steps, ["example.com/m/c", "example.com/m/b", "example.com/m/a"], "the chain, no link");
    assert_eq!(summary["critical_path"]["queued_from_plan"], true);
    assert!(summary["go_cache"]["stages"][0]["ran"].as_u64().unwrap() >= 3, "{}", summary["go_cache"]);
    let out = world.gohook().args(["report", &id, "--cores", "1,2"]).output().unwrap();
    assert_exit(&out, 0, "report --cores on a bench build");
    let out = world.gohook().args(["why", &id]).output().unwrap();
    assert_exit(&out, 0, "why on a bench build");
    assert!(!text(&out.stdout).contains("recorded without go's cache-key inputs"), "{}", text(&out.stdout));
    let answer = text(&out.stdout);
    assert!(answer.contains("example.com/m/c") && answer.contains(": no earlier build recorded it"), "{answer}");
}
