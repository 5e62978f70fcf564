//! Plugins written in standard Go: `gohook plugin new|build|test` from an empty directory with only the toolchains
//! on PATH (and the same for Rust), the example Go plugin in a real build, and Go plugins that misbehave.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gohook_tests::*;

/// A PATH with gohook's directory and the directories of `programs` (as found on this PATH), nothing else.
fn only_on_path(programs: &[&str]) -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = vec![gohook_bin().parent().unwrap().to_owned()];
    for program in programs {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .find(|dir| dir.join(program).is_file())
            .unwrap_or_else(|| panic!("{program} is not on PATH"));
        dirs.push(found);
    }
    std::env::join_paths(dirs).unwrap()
}

fn gohook_in(world: &World, dir: &Path, path: &std::ffi::OsStr, args: &[&str]) -> Output {
    let out = world.gohook().current_dir(dir).env("PATH", path).args(args).output().unwrap();
    eprintln!("gohook {args:?}: {}", text(&out.stderr));
    out
}

#[test]
fn a_go_starter_builds_and_tests_in_an_empty_directory_with_only_go_and_gohook_on_path() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let path = only_on_path(&["go"]);
    // The binaries the test checks, named as `plugin test` is given them (relative to the directory).
    sample_binary(dir.path(), "plain", &[], &[]);
    sample_binary(dir.path(), "trimmed", &[], &["-trimpath"]);

    assert_eq!(gohook_in(&world, dir.path(), &path, &["plugin", "new", "x", "--lang", "go"]).status.code(), Some(0));
    let out = gohook_in(&world, dir.path(), &path, &["plugin", "build", "x"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).starts_with("gohook: built x/x.wasm ("), "{}", text(&out.stderr));
    let out = gohook_in(&world, dir.path(), &path, &["plugin", "test", "x/x.wasm", "plain", "trimmed"]);
    assert_eq!(out.status.code(), Some(1));
    let version = text(&Command::new("go").args(["env", "GOVERSION"]).output().unwrap().stdout).trim().to_owned();
    assert_eq!(
        text(&out.stdout),
        format!(
            "plain: FAIL (1 of 1 check failed: x)\n  error[x/trimpath] built without -trimpath ({version})\n      \
             fix: build with go build -trimpath\ntrimmed: ok (x)\n  passed: x\n\
             2 files: 1 passed, 1 failed, 0 could not be checked\n"
        )
    );
    // The starter's own test runs natively.
    let out = world.command("go").current_dir(dir.path().join("x")).env("PATH", &path).arg("test").output().unwrap();
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn a_rust_starter_builds_and_tests_in_an_empty_directory_with_cargo_and_gohook_on_path() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    // cargo links build scripts and proc-macros for this machine with its C compiler.
    let path = only_on_path(&["cargo", "rustc", "cc"]);
    sample_binary(dir.path(), "plain", &[], &[]);
    sample_binary(dir.path(), "stripped", &[], &["-ldflags=-s -w"]);
    assert_eq!(gohook_in(&world, dir.path(), &path, &["plugin", "new", "y", "--lang", "rust"]).status.code(), Some(0));
    // The starter's crates compile once per checkout, not per test run.
    let target = repo_root().join("target/plugin-starter");
    let out = world
        .gohook()
        .current_dir(dir.path())
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", &target)
        .args(["plugin", "build", "y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = gohook_in(&world, dir.path(), &path, &["plugin", "test", "y/y.wasm", "plain", "stripped"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("plain: FAIL (1 of 1 check failed: y)\n  error[y/dwarf] DWARF sections present: .debug_"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("stripped: ok (y)\n  passed: y\n2 files: 1 passed, 1 failed, 0 could not be checked\n"),
        "{stdout}"
    );
}

/// A copy of a Go plugin of the repository, built by `gohook plugin build` in `dir`; its component.
fn built_go_plugin(world: &World, source: &str, dir: &Path) -> PathBuf {
    let copy = dir.join(Path::new(source).file_name().unwrap());
    copy_dir(&repo_root().join(source), &copy);
    let out = world.run_gohook(dir, &["plugin", "build", copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let name = std::fs::read_to_string(copy.join("go.mod"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("module ")
        .to_owned();
    copy.join(format!("{name}.wasm"))
}

#[test]
fn the_example_go_plugin_fails_the_link_naming_its_rule_and_warns_when_told_to() {
    let world = World::new();
    let plugins = tempfile::tempdir().unwrap();
    let plugin = built_go_plugin(&world, "plugins/example-go", plugins.path());
    let sample = fresh_sample();
    let policy = |rules: &str| {
        let text = format!(
            "[plugins.denied-packages]\npath = {:?}\nsettings = {{ deny = [\"example.com/sample/internal/sum\"] }}\n{rules}",
            plugin.display().to_string()
        );
        std::fs::write(sample.path().join("gohook.toml"), text).unwrap();
    };
    policy("");
    let out = world.run_gohook(sample.path(), &["build", "-o", "bin", "."]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("  error[denied-packages/linked] example.com/sample/internal/sum is linked in\n"),
        "{stderr}"
    );
    assert!(!sample.path().join("bin").exists(), "a failed link leaves no binary");

    policy("rules = { \"denied-packages/linked\" = \"warn\" }\n");
    let out = world.run_gohook(sample.path(), &["build", "-o", "bin", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(sample.path().join("bin").exists());
    let records = world.records(&world.builds().pop().unwrap());
    let link = &records.stage(Stage::Link)[0];
    let findings: Vec<(&str, FindingLevel, &str)> =
        link.findings.iter().map(|f| (f.rule.as_str(), f.severity, f.message.as_str())).collect();
    assert_eq!(
        findings,
        [("denied-packages/linked", FindingLevel::Warning, "example.com/sample/internal/sum is linked in")]
    );

    // The same plugin alone at the moments a build calls it, as its author tries it: after the link, given what
    // go would hand it; at a moment it does not handle, told so.
    let plugin_test = |moment: &str, input: &str, files: &[&str]| {
        let plugin = plugin.to_str().unwrap();
        let settings = r#"{"deny": ["example.com/sample/internal/sum"]}"#;
        let mut args = vec!["plugin", "test", plugin, "--settings", settings, "--moment", moment, "--input", input];
        args.extend(files);
        world.run_gohook(sample.path(), &args)
    };
    let out = plugin_test("after-tool", r#"{"import_path": "example.com/sample"}"#, &["bin"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "after-tool link of example.com/sample -> bin: FAIL (1 of 1 check failed: denied-packages)\n  \
         error[denied-packages/linked] example.com/sample/internal/sum is linked in\n      fix: remove the import of \
         example.com/sample/internal/sum\n1 file: 0 passed, 1 failed, 0 could not be checked\n"
    );
    let out = plugin_test("probe", r#"{"goos": "darwin", "goarch": "arm64"}"#, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).lines().next(),
        Some(
            "probe of compile for darwin/arm64: error: no plugin was called: denied-packages handles after-tool, \
             check for tools link"
        )
    );
}

#[test]
fn go_plugins_that_misbehave_are_contained_and_named() {
    let world = World::new();
    let plugins = tempfile::tempdir().unwrap();
    let hostile = built_go_plugin(&world, "tests/plugins/hostile-go", plugins.path()).display().to_string();
    let sample = fresh_sample();
    let mut policy = String::new();
    for mode in ["loop", "memory", "panic", "sleep", "log-flood", "text", "foreign", "deadlock", "exit"] {
        policy +=
            &format!("[plugins.{mode}]\npath = {hostile:?}\nsettings = {{ mode = {mode:?} }}\ntimeout_ms = 1000\n\n");
    }
    std::fs::write(sample.path().join("gohook.toml"), policy).unwrap();
    let out = world.run_gohook(sample.path(), &["build", "-o", "bin", "."]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    for expected in [
        "plugin loop did not finish within its time limit of 1000 ms",
        "plugin memory exceeded its memory limit of 64 MiB",
        "plugin panic panicked at hostile-go/main.go:39: hostile Go plugin gave up on purpose",
        "plugin sleep did not finish within its time limit of 1000 ms",
        "plugin log-flood did not finish within its time limit of 1000 ms",
        "error[hostile-go/text] message \\e[2J\\e[H\\e[32mok\\e[0m\\r\\nerror[strip/symbols] fake line\\u{202e}",
        "its rule id `strip/symbols` is outside its namespace `hostile-go/`",
        "plugin deadlock stopped with fatal error: all goroutines are asleep - deadlock! at hostile-go/main.go:44",
        "plugin exit exited (os.Exit or process::exit) instead of returning its findings",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    assert!(!stderr.contains('\x1b'), "no control character reaches the terminal");
    let records = world.records(&world.builds().pop().unwrap());
    let failed: Vec<&str> = records.stage(Stage::Link)[0]
        .findings
        .iter()
        .filter(|f| f.rule == "gohook/plugin-failed")
        .map(|f| f.plugin.as_str())
        .collect();
    assert_eq!(failed, ["deadlock", "exit", "log-flood", "loop", "memory", "panic", "sleep"]);
}

#[test]
fn a_go_plugin_reads_every_format_through_the_reader_and_only_the_pages_it_needs() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let plugin = built_go_plugin(&world, "tests/plugins/formats-go", dir.path());
    // Stripped: go's parsers read a symbol table eagerly when there is one, and headers are what this check needs.
    let build = |goos: &str, goarch: &str| {
        sample_binary(
            dir.path(),
            &format!("{goos}-{goarch}"),
            &[("GOOS", goos), ("GOARCH", goarch)],
            &["-ldflags=-s -w"],
        )
    };
    let linux = build("linux", "amd64");
    let darwin = build("darwin", "arm64");
    let windows = build("windows", "amd64");
    let darwin_amd64 = build("darwin", "amd64");
    let universal = dir.path().join("universal");
    universal_macho(&[&darwin_amd64, &darwin], &universal);
    for (file, verdict) in [
        (&linux, "ELF amd64"),
        (&darwin, "Mach-O arm64"),
        (&windows, "PE amd64"),
        (&universal, "universal Mach-O amd64+arm64"),
    ] {
        let out = world
            .gohook()
            .current_dir(dir.path())
            .args(["plugin", "test", plugin.to_str().unwrap(), file.to_str().unwrap(), "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["files"][0]["findings"][0]["message"], verdict, "{}", file.display());
        // Headers only: the host counts what the plugin read, and it is a sliver of the file.
        let stderr = text(&out.stderr);
        let line = stderr.lines().find(|l| l.contains("[formats-go] read ")).unwrap_or_else(|| panic!("{stderr}"));
        let bytes: u64 = line.split("read ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        let size = std::fs::metadata(file).unwrap().len();
        assert!(bytes > 0 && bytes * 20 < size, "{}: read {bytes} of {size} bytes", file.display());
    }
}
