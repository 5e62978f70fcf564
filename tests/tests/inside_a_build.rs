//! Where the time goes inside a build: the compiler's and linker's phases (`--phases`), their merged CPU profiles
//! (`--cpuprofile`) and the timeline page (`--html`), on real go builds, checked with go's own pprof and a real
//! headless Chromium.

use std::path::Path;
use std::process::Command;

use gohook_tests::*;

fn assert_success(out: &std::process::Output, what: &str) {
    assert!(out.status.success(), "{what} failed ({:?}):\n{}", out.status, text(&out.stderr));
}

/// The compiler phases every compile reports (go 1.26's `-bench` names).
const COMPILE_PHASES: [&str; 2] = ["fe:parse", "be:compilefuncs"];

#[test]
fn phases_profiles_and_the_page_of_one_build_change_nothing_go_builds() {
    let world = World::new();
    let module = tempfile::tempdir().unwrap();
    // A first build puts std into go's cache whatever ran before; new constants then make the module's own
    // packages, and only them, compile again: the chain a→b→c, d beside it, and main.
    chain_module(module.path());
    assert_success(&world.run_gohook(module.path(), &["build", "-o", "warm", "."]), "gohook build");
    chain_module(module.path());
    let out = world.run_gohook(
        module.path(),
        &["build", "--phases", "--cpuprofile=cpu.pb.gz", "--html=page/build.html", "-o", "with-phases", "."],
    );
    assert_success(&out, "gohook build --phases --cpuprofile --html");
    // go saw nothing extra: stdout is empty (the linker's phase lines were taken out), stderr is gohook's own.
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "summary, profile and page lines only: {stderr}");
    assert!(lines[0].starts_with("gohook: build "), "{stderr}");
    assert!(lines[1].starts_with("gohook: CPU profiles of 5 compiles and 1 link merged into cpu.pb.gz"), "{stderr}");
    assert_eq!(lines[2], "gohook: timeline page: page/build.html");

    let build = world.builds().pop().unwrap();
    let records = world.records(&build);
    let compiles = records.stage(Stage::Compile);
    assert_eq!(compiles.len(), 5, "the module's five packages compiled");
    for compile in &compiles {
        let phases = records.phase_names(compile);
        for phase in COMPILE_PHASES {
            assert!(phases.iter().any(|p| p == phase), "{} has {phase}: {phases:?}", compile.package);
        }
        assert!(!phases.iter().any(|p| p.ends_with("total")), "subtotals and totals are left out: {phases:?}");
    }
    let link = records.stage(Stage::Link)[0];
    let link_phases = records.phase_names(link);
    for phase in ["loadlib", "deadcode", "pclntab"] {
        assert!(link_phases.iter().any(|p| p == phase), "the link has {phase}: {link_phases:?}");
    }
    // The report sums them per stage and shows them for the slowest packages.
    let summary = world.summary(&build);
    let phase_rows = summary["phases"].as_array().unwrap();
    let parse = phase_rows.iter().find(|p| p["stage"] == "compile" && p["phase"] == "fe:parse").unwrap();
    assert_eq!(parse["runs"], 5);
    assert!(summary["slowest_packages"][0]["phases"].as_array().is_some_and(|p| !p.is_empty()), "{summary}");
    let table = text(&world.gohook().args(["report", &build]).output().unwrap().stdout);
    assert!(table.contains("\nphases (the compiler's and linker's own timers"), "{table}");

    // go's cache keys did not change: the same build without --phases finds every package in the cache.
    let out = world.run_gohook(module.path(), &["build", "-o", "plain", "."]);
    assert_success(&out, "gohook build without --phases");
    let plain = world.builds().pop().unwrap();
    assert_eq!(world.records(&plain).stage(Stage::Compile).len(), 0, "a build with --phases feeds go's cache as usual");
    // And the binary is the same, byte for byte, as one built from nothing without --phases.
    let cold = World::with_cold_go_cache();
    assert_success(&cold.run_gohook(module.path(), &["build", "-o", "cold", "."]), "cold gohook build");
    let with_phases = std::fs::read(module.path().join("with-phases")).unwrap();
    assert!(with_phases == std::fs::read(module.path().join("cold")).unwrap(), "the binaries differ");

    merged_cpu_profile_has_compiler_functions_per_package(&module.path().join("cpu.pb.gz"));
    build_profile_stacks_phases_under_packages(&world, &build, module.path());
    timeline_page_renders_every_run_offline(&module.path().join("page/build.html"), &summary);
}

fn pprof(args: &[&str], profile: &Path) -> String {
    let out = Command::new("go").args(["tool", "pprof"]).args(args).arg(profile).output().unwrap();
    assert_success(&out, &format!("go tool pprof {args:?}"));
    text(&out.stdout)
}

fn merged_cpu_profile_has_compiler_functions_per_package(profile: &Path) {
    let top = pprof(&["-top", "-nodecount=40"], profile);
    assert!(top.contains("cmd/compile/internal/"), "compiler functions: {top}");
    let tags = pprof(&["-tags"], profile);
    // Each chain package compiles for long enough to be sampled.
    for package in ["example.com/m/a", "example.com/m/b", "example.com/m/c", "example.com/m/d"] {
        assert!(tags.contains(&format!(": {package}\n")), "a package tag for {package}: {tags}");
    }
    assert!(tags.contains(": compile\n"), "a tool tag: {tags}");
    let focused = pprof(&["-top", "-tagfocus=package=example.com/m/d"], profile);
    assert!(focused.contains("cmd/compile/internal/"), "{focused}");
}

fn build_profile_stacks_phases_under_packages(world: &World, build: &str, dir: &Path) {
    let profile = dir.join("build.pb.gz");
    let out = world.gohook().args(["report", build, "--format", "pprof", "-o"]).arg(&profile).output().unwrap();
    assert_success(&out, "gohook report --format pprof");
    let top = pprof(&["-top", "-nodecount=100"], &profile);
    assert!(top.contains("compile be:compilefuncs"), "{top}");
    assert!(top.contains("link loadlib"), "{top}");
}

fn timeline_page_renders_every_run_offline(page: &Path, summary: &serde_json::Value) {
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"), "a strict CSP");
    for forbidden in ["http://", "https://", "src=\""] {
        assert!(!html.contains(forbidden), "the page refers to nothing outside itself ({forbidden})");
    }
    let dom = text(&headless_chromium(page, &["--dump-dom"]).stdout);
    let attribute = |name: &str| -> Option<u64> {
        let at = dom.find(&format!("{name}=\""))? + name.len() + 2;
        dom[at..].split('"').next()?.parse().ok()
    };
    let runs = u64_of(summary, "invocations");
    // The page's script ran (the CSP allowed it by hash) and drew one bar per tool run.
    assert_eq!(attribute("data-tool-runs"), Some(runs), "{dom}");
    assert_eq!(attribute("data-drawn-bars"), Some(runs));
    // The browser's own resource log: the page loaded nothing besides itself.
    assert_eq!(attribute("data-resources"), Some(0));
    assert!(attribute("data-peak-running").is_some_and(|peak| (1..=runs).contains(&peak)));
    assert!(dom.contains(&format!("<b id=\"tool-runs\">{runs}</b>")), "the header's count");

    let screenshot = repo_root().join("target/screenshots/timeline.png");
    std::fs::create_dir_all(screenshot.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&screenshot);
    let shot = format!("--screenshot={}", screenshot.display());
    headless_chromium(page, &["--window-size=1400,1600", &shot]);
    let png = std::fs::read(&screenshot).expect("chromium saved the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "{} bytes", png.len());
}

#[test]
fn phases_setting_in_gohook_toml_applies_to_bare_toolexec_builds_of_the_sample() {
    let world = World::new();
    let sample = fresh_sample();
    std::fs::write(sample.path().join("gohook.toml"), "[records]\nphases = true\n").unwrap();
    let toolexec = format!("-toolexec={}", gohook_bin().display());
    let out =
        world.command("go").current_dir(sample.path()).args(["build", &toolexec, "-o", "bin", "."]).output().unwrap();
    assert_success(&out, "go build -toolexec=gohook");
    assert_eq!(text(&out.stdout) + &text(&out.stderr), "", "bare mode stays silent");
    let records = world.records(&world.only_build());
    let compiles = records.stage(Stage::Compile);
    assert_eq!(compiles.len(), SAMPLE_PACKAGES.len());
    for compile in compiles {
        let phases = records.phase_names(compile);
        assert!(COMPILE_PHASES.iter().all(|p| phases.iter().any(|q| q == p)), "{phases:?}");
    }
    assert!(records.phase_names(records.stage(Stage::Link)[0]).iter().any(|p| p == "loadlib"));

    // The same sample built from nothing without phases is the same binary, byte for byte.
    std::fs::remove_file(sample.path().join("gohook.toml")).unwrap();
    let cold = World::with_cold_go_cache();
    let out =
        cold.command("go").current_dir(sample.path()).args(["build", &toolexec, "-o", "plain", "."]).output().unwrap();
    assert_success(&out, "go build -toolexec=gohook without phases");
    assert_eq!(cold.records(&cold.only_build()).self_reports.len(), 0, "no phases asked for, none recorded");
    let with_phases = std::fs::read(sample.path().join("bin")).unwrap();
    assert!(with_phases == std::fs::read(sample.path().join("plain")).unwrap(), "the binaries differ");
}
