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
    build_profile_labels_phases_and_ranks_packages(&world, &build, module.path());
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

/// With phases, `-top` still ranks packages (the phases are labels on their samples, not frames of their own), and
/// the phase split is one `-tags` or `-tagfocus=phase=…` away.
fn build_profile_labels_phases_and_ranks_packages(world: &World, build: &str, dir: &Path) {
    let profile = dir.join("build.pb.gz");
    let out = world.gohook().args(["report", build, "--format", "pprof", "-o"]).arg(&profile).output().unwrap();
    assert_success(&out, "gohook report --format pprof");
    let top = pprof(&["-top", "-nodecount=100"], &profile);
    let rows: Vec<&str> = top.lines().skip_while(|l| !l.trim_start().starts_with("flat")).skip(1).collect();
    let first = rows.first().and_then(|r| r.split_whitespace().last()).unwrap_or_default();
    assert_eq!(first, "example.com/m/d", "the slowest package leads -top: {top}");
    assert!(!top.contains("be:compilefuncs"), "no phase frames: {top}");
    let tags = pprof(&["-tags"], &profile);
    for phase in ["be:compilefuncs", "fe:parse", "loadlib", "outside phases"] {
        assert!(tags.contains(&format!(": {phase}\n")), "a phase tag {phase}: {tags}");
    }
    let focused = pprof(&["-top", "-tagfocus=phase=be:compilefuncs"], &profile);
    assert!(focused.contains("example.com/m/d") && !focused.contains(" link\n"), "{focused}");
}

fn timeline_page_renders_every_run_offline(page: &Path, summary: &serde_json::Value) {
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"), "a strict CSP");
    for forbidden in ["http://", "https://", "src=\""] {
        assert!(!html.contains(forbidden), "the page refers to nothing outside itself ({forbidden})");
    }
    // The module's packages got new constants since the first build: each run's tooltip says why it ran.
    let notes = html.split("\"notes\":[").nth(1).and_then(|rest| rest.split(']').next()).unwrap_or_default();
    for file in ["a.go", "b.go", "c.go", "d.go"] {
        assert!(notes.contains(&format!("\"source: {file} changed\"")), "why each package ran, for hover: {notes}");
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
    // What if: the curve of predicted wall time over 1..=16 cores (or twice go's -p), the floor and the build itself.
    let what_if = &summary["what_if"];
    let curve = what_if["curve"].as_array().unwrap();
    assert_eq!(curve.len(), 16.max(2 * what_if["measured"]["cores"].as_u64().unwrap() as usize));
    let points = dom.split("id=\"what-if-curve\"").nth(1).and_then(|rest| rest.split("points=\"").nth(1));
    let points = points.and_then(|rest| rest.split('"').next()).unwrap_or_default();
    assert_eq!(points.split(' ').count(), curve.len(), "one point per core count: {points}");
    assert!(dom.contains("id=\"what-if-floor\"") && dom.contains("id=\"what-if-measured\""), "{dom}");

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

/// Of a PNG's pixel columns, how many show a bar's colour (a saturated pixel: bars are coloured, the axis, grid and
/// background grey or white) below the first `skip_rows` rows; and how many columns there are.
fn coloured_columns(png_bytes: &[u8], skip_rows: usize) -> (usize, usize) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let channels = frame.color_type.samples();
    let (width, height) = (frame.width as usize, frame.height as usize);
    let saturated = |x: usize, y: usize| {
        let at = (y * width + x) * channels;
        let rgb = &pixels[at..at + 3];
        rgb.iter().max().unwrap() - rgb.iter().min().unwrap() > 40
    };
    let coloured = (0..width).filter(|&x| (skip_rows..height).any(|y| saturated(x, y))).count();
    (width, coloured)
}

/// A build of 10,000 compiles of 1-200 ms, 16 at a time as go runs them at -p 16 (each slot starts its next run
/// 0.1 ms after its last ended), written into `world`'s record root as the shim would.
fn ten_thousand_runs(world: &World) -> String {
    use gohook_records::{BuildContext, Record};
    let store = Store::new(world.root.path().to_owned());
    let id = "big";
    let start = 1_700_000_000_000_000_000u64;
    let mut context = BuildContext { build_id: id.into(), ..BuildContext::default() };
    context.machine.logical_cpus = 16;
    context.go.parallelism = 16;
    store.append(id, &Record::Context(context), 50).unwrap();
    let mut slot_ends = [start; 16];
    for i in 0..10_000u64 {
        let duration_ns = 1_000_000 + (i * 7919) % 199_000_000;
        let slot = (0..16).min_by_key(|&s| slot_ends[s]).unwrap();
        let start_unix_ns = slot_ends[slot] + 100_000;
        slot_ends[slot] = start_unix_ns + duration_ns;
        let run = ToolRun {
            build_id: id.into(),
            build_start_unix_ns: start,
            tool: "compile".into(),
            stage: Stage::Compile,
            package: format!("example.com/big/p{i}"),
            goos: "linux".into(),
            goarch: "amd64".into(),
            start_unix_ns,
            duration_ns,
            user_ns: duration_ns / 2,
            sys_ns: 0,
            max_rss_bytes: 50 << 20,
            exit: Exit::Code(0),
            gohook_ns: 50_000,
            gohook_cpu_ns: 40_000,
            plugin_ns: 0,
            pid: i as u32 + 1,
            findings: Vec::new(),
            plugins: Vec::new(),
        };
        store.append(id, &Record::Tool(run), 50).unwrap();
    }
    id.to_owned()
}

#[test]
fn the_page_of_ten_thousand_runs_filters_zooms_and_names_its_bars_in_a_real_browser() {
    let world = World::new();
    let build = ten_thousand_runs(&world);
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("big.html");
    let out = world.gohook().args(["report", &build, "--format", "html", "-o"]).arg(&page).output().unwrap();
    assert_success(&out, "gohook report --format html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"), "a strict CSP");

    let opened = std::time::Instant::now();
    let mut browser = browser::Browser::open(&page, 1400, 1000);
    assert_eq!(browser.body_attribute("toolRuns"), "10000");
    let loaded_ms = opened.elapsed().as_secs_f64() * 1e3;
    let draw_ms = browser.body_attribute("drawMs");
    eprintln!(
        "10,000-run page: {} bytes, Chromium start + load + draw {loaded_ms:.0} ms, first draw {draw_ms} ms",
        html.len()
    );
    assert_eq!(browser.body_attribute("resources"), "0", "the page fetched nothing");
    // The first view is the whole build, its runs packed into go's 16 slots: every run is drawn, from the build's
    // first moment to its last.
    assert_eq!(browser.body_attribute("viewMode"), "lanes");
    assert_eq!(browser.body_attribute("rows"), "16");
    assert_eq!(browser.body_attribute("drawnBars"), "10000");
    let wall: f64 = browser.body_attribute("viewEndMs").parse().unwrap();
    let drawn_from: f64 = browser.body_attribute("drawnFromMs").parse().unwrap();
    let drawn_to: f64 = browser.body_attribute("drawnToMs").parse().unwrap();
    assert!(drawn_from < 0.001 * wall && drawn_to > 0.999 * wall, "bars from {drawn_from} to {drawn_to} of {wall} ms");
    // … and the screen agrees: every column of the chart below its axis shows a bar's colour.
    let png = browser.screenshot_of("#gantt");
    let (columns, coloured) = coloured_columns(&png, 22);
    assert!(coloured as f64 >= 0.98 * columns as f64, "bars in {coloured} of {columns} columns");
    let shot = repo_root().join("target/screenshots/timeline-10000-lanes.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    std::fs::write(&shot, &png).unwrap();

    // One click away: a row per run, only the rows in sight drawn.
    browser.click("#view-mode");
    assert_eq!(browser.body_attribute("viewMode"), "runs");
    let drawn: usize = browser.body_attribute("drawnBars").parse().unwrap();
    assert!(drawn > 0 && drawn < 100, "only the visible rows are drawn: {drawn}");

    // Typed into the filter: p12, p120-p129 and p1200-p1299 match, and only they.
    browser.type_into("#search", "p12");
    assert_eq!(browser.body_attribute("matchingRuns"), "111");
    assert_eq!(browser.evaluate("document.getElementById('matches').textContent"), "111 runs match");

    // Whole build shown: bars of at most 200 ms on a minute-long axis are too narrow to name.
    let (from, to) = (browser.body_attribute("viewStartMs"), browser.body_attribute("viewEndMs"));
    assert_eq!(from, "0.000");
    let whole: f64 = to.parse().unwrap();
    // ctrl + wheel over the middle of the chart zooms in around the pointer.
    let middle = browser.evaluate(
        "(() => { const b = document.getElementById('gantt').getBoundingClientRect(); \
         return [b.left + b.width / 2, b.top + 200]; })()",
    );
    let (x, y) = (middle[0].as_f64().unwrap(), middle[1].as_f64().unwrap());
    for _ in 0..6 {
        browser.wheel(x, y, -300.0, true);
    }
    let from: f64 = browser.body_attribute("viewStartMs").parse().unwrap();
    let to: f64 = browser.body_attribute("viewEndMs").parse().unwrap();
    assert!(from > 0.0 && to < whole && to - from < whole / 4.0, "zoomed in: {from}..{to} of {whole}");
    let labelled: usize = browser.body_attribute("labelledBars").parse().unwrap();
    assert!(labelled > 0, "zoomed in, wide bars carry their package's name");
}
