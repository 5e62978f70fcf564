//! `gohook exec`: the go commands inside it build what the user's go would build, and a command that runs no go
//! tool is not a build.

use std::path::Path;

use gohook_tests::*;

/// A module whose binary says whether the build tag `sometag` was on.
fn tagged_module(dir: &Path) {
    std::fs::write(dir.join("go.mod"), "module example.com/tagged\n\ngo 1.22\n").unwrap();
    std::fs::write(dir.join("main.go"), "package main\n\nfunc main() { println(\"sometag:\", tag) }\n").unwrap();
    std::fs::write(dir.join("on.go"), "//go:build sometag\n\npackage main\n\nconst tag = \"on\"\n").unwrap();
    std::fs::write(dir.join("off.go"), "//go:build !sometag\n\npackage main\n\nconst tag = \"off\"\n").unwrap();
}

#[test]
fn goflags_from_the_environment_and_go_env_file_are_kept() {
    let world = World::new();
    let module = tempfile::tempdir().unwrap();
    tagged_module(module.path());
    let go_env = tempfile::tempdir().unwrap();
    let go_env_file = go_env.path().join("env");
    let toolexec = format!("-toolexec={}", gohook_bin().display());
    // (GOFLAGS in the environment, GOFLAGS in go's env file): go takes the environment's when it is set.
    let cases = [
        ("-tags=sometag", "", "-tags=sometag", "on"),
        ("", "-tags=sometag", "-tags=sometag", "on"),
        ("-tags=othertag", "-tags=sometag", "-tags=othertag", "off"),
        ("", "", "", "off"),
    ];
    for (from_env, from_file, expected, tag) in cases {
        std::fs::write(
            &go_env_file,
            if from_file.is_empty() { String::new() } else { format!("GOFLAGS={from_file}\n") },
        )
        .unwrap();
        let run = |program: &Path, args: &[&str]| {
            let out = world
                .command(program)
                .current_dir(module.path())
                .env("GOENV", &go_env_file)
                .env("GOFLAGS", from_env)
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
            (text(&out.stdout), text(&out.stderr))
        };
        let go = Path::new("go");
        let (plain, _) = run(go, &["env", "GOFLAGS"]);
        assert_eq!(plain.trim(), expected);
        let (under_gohook, _) = run(gohook_bin(), &["exec", "--", "go", "env", "GOFLAGS"]);
        let joined = if expected.is_empty() { toolexec.clone() } else { format!("{expected} {toolexec}") };
        assert_eq!(under_gohook.trim(), joined, "env {from_env:?}, file {from_file:?}");
        // The binary go runs is the one plain go builds.
        let (_, plain) = run(go, &["run", "."]);
        assert_eq!(plain, format!("sometag: {tag}\n"));
        let (_, under_gohook) = run(gohook_bin(), &["exec", "--", "go", "run", "."]);
        assert!(under_gohook.starts_with(&plain), "env {from_env:?}, file {from_file:?}: {under_gohook}");
        // `gohook build` puts -toolexec on the command line: go's GOFLAGS, from either place, stay as they were.
        run(gohook_bin(), &["build", "-o", "tagged", "."]);
        let (_, built) = run(&module.path().join("tagged"), &[]);
        assert_eq!(built, plain, "gohook build: env {from_env:?}, file {from_file:?}");
    }
}

#[test]
fn a_command_that_runs_no_go_tool_is_not_a_build() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let out = world.run_gohook(dir.path(), &["exec", "--", "false"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "gohook: false ran no go tool (exit 1): not a build, nothing recorded\n");
    let out = world.run_gohook(dir.path(), &["exec", "--", "go", "env", "GOOS"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stderr), "gohook: go env GOOS ran no go tool (exit 0): not a build, nothing recorded\n");
    let out = world.run_gohook(dir.path(), &["exec", "--", "gohook-no-such-program", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "gohook: cannot run \"gohook-no-such-program\": no such program on PATH, or not executable: No such file or \
         directory (os error 2)\n"
    );
    assert!(world.builds().is_empty(), "{:?}", world.builds());
    // A go command that failed before its first tool is a failed build, and stays one.
    let out = world.run_gohook(dir.path(), &["exec", "--", "go", "build", "-no-such-flag", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let failed = world.builds();
    assert_eq!(failed.len(), 1);
    // Keeping one build, a command that builds nothing pushes none out.
    std::fs::write(dir.path().join("gohook.toml"), "[records]\nkeep_builds = 1\n").unwrap();
    for command in [&["exec", "--", "true"][..], &["exec", "--", "sh", "-c", "exit 4"]] {
        world.run_gohook(dir.path(), command);
        assert_eq!(world.builds(), failed, "{command:?}");
    }
}

/// go's output with its timings (`0.012s`) taken out, and gohook's own lines: what must be equal under gohook.
fn without_timings(output: &str) -> String {
    let words = output.lines().filter(|line| !line.starts_with("gohook: ")).map(|line| {
        line.split('\t')
            .map(|word| {
                let seconds = word.strip_suffix('s').is_some_and(|n| !n.is_empty() && n.parse::<f64>().is_ok());
                if seconds { "TIME" } else { word }
            })
            .collect::<Vec<_>>()
            .join("\t")
    });
    words.map(|line| line + "\n").collect()
}

#[test]
fn go_test_and_vet_under_gohook_exit_and_print_as_plain_go() {
    let world = World::new();
    let sample = fresh_sample();
    let dir = sample.path();
    let greet = dir.join("internal/greet");
    let commands: [&[&str]; 2] = [&["go", "test", "-count=1", "./..."], &["go", "vet", "./..."]];
    let compare = |what: &str, expected_code: i32| {
        for command in commands {
            let plain = world.command(command[0]).current_dir(dir).args(&command[1..]).output().unwrap();
            let mut args = vec!["exec", "--"];
            args.extend_from_slice(command);
            let hooked = world.run_gohook(dir, &args);
            let code = plain.status.code();
            assert_eq!(hooked.status.code(), code, "{what}: {command:?}: {}", text(&hooked.stderr));
            assert_eq!(
                without_timings(&text(&hooked.stdout)),
                without_timings(&text(&plain.stdout)),
                "{what}: {command:?}"
            );
            assert_eq!(
                without_timings(&text(&hooked.stderr)),
                without_timings(&text(&plain.stderr)),
                "{what}: {command:?}"
            );
            if command[1] == "test" {
                assert_eq!(code, Some(expected_code), "{what}: {}", text(&plain.stdout));
            }
        }
    };
    compare("passing", 0);
    std::fs::write(
        greet.join("fail_test.go"),
        "package greet\n\nimport \"testing\"\n\nfunc TestFails(t *testing.T) { t.Fatal(\"boom\") }\n",
    )
    .unwrap();
    compare("a failing test", 1);
    std::fs::remove_file(greet.join("fail_test.go")).unwrap();
    std::fs::write(
        greet.join("vet.go"),
        "package greet\n\nimport \"fmt\"\n\nfunc Wrong() { fmt.Printf(\"%d\\n\", \"x\") }\n",
    )
    .unwrap();
    compare("a vet finding", 1);
    std::fs::write(greet.join("vet.go"), "package greet\n\nfunc Broken() { return 1 }\n").unwrap();
    compare("a compile error", 1);
}

/// A module whose test builds its command with `go build`, as tests of CLIs do.
fn module_whose_test_runs_go_build(dir: &Path) {
    std::fs::create_dir_all(dir.join("cmd/hello")).unwrap();
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(dir.join("go.mod"), "module example.com/nt\n\ngo 1.22\n").unwrap();
    std::fs::write(
        dir.join("cmd/hello/main.go"),
        "package main\n\nimport \"example.com/nt/lib\"\n\nfunc main() { println(lib.Greeting()) }\n",
    )
    .unwrap();
    std::fs::write(dir.join("lib/lib.go"), "package lib\n\nfunc Greeting() string { return \"hello\" }\n").unwrap();
    std::fs::write(
        dir.join("lib/lib_test.go"),
        r#"package lib

import (
	"os/exec"
	"path/filepath"
	"testing"
)

func TestBuildsTheCommand(t *testing.T) {
	out, err := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "hello"), "../cmd/hello").CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("go build: %v: %q", err, out)
	}
}
"#,
    )
    .unwrap();
}

#[test]
fn a_tests_go_build_is_a_build_of_its_own_and_why_explains_test_builds() {
    let world = World::new();
    let module = tempfile::tempdir().unwrap();
    module_whose_test_runs_go_build(module.path());
    let run = || {
        let out = world.run_gohook(module.path(), &["exec", "--", "go", "test", "-count=1", "./..."]);
        assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    };
    run();
    let builds = world.builds();
    assert_eq!(builds.len(), 2, "{builds:?}");
    let (tests, nested): (Vec<&String>, Vec<&String>) = builds.iter().partition(|id| !id.starts_with("go-"));
    let (tests, nested) = (tests[0], nested[0]);
    let parent = world.summary(tests);
    assert_eq!(parent["nested"][0][0], nested.as_str(), "{parent}");
    assert!(parent["nested"][0][1].as_str().unwrap().starts_with("go build -o "), "{parent}");
    let child = world.summary(nested);
    assert_eq!(child["nested_in"], tests.as_str());
    // The test build's own link is the test binary's; the command's link is the nested build's alone.
    let links = |summary: &serde_json::Value| -> Vec<String> {
        let records = world.records(summary["build_id"].as_str().unwrap());
        records.packages(gohook_records::Stage::Link)
    };
    assert_eq!(links(&parent), ["example.com/nt/lib.test"]);
    assert_eq!(links(&child), ["example.com/nt/cmd/hello"]);
    // A test build has go's plan and package graph, as `gohook build` records them.
    assert!(parent["packages_in_build"].as_u64().unwrap() > 50, "{}", parent["packages_in_build"]);
    assert!(parent["go_cache"].is_object() && parent["critical_path"].is_object(), "{parent}");

    // An edit: `why` names the file, for the test build.
    std::fs::write(
        module.path().join("lib/lib.go"),
        "package lib\n\nfunc Greeting() string { return \"hel\" + \"lo\" }\n",
    )
    .unwrap();
    run();
    let why = world.run_gohook(module.path(), &["why"]);
    let why = text(&why.stdout);
    assert!(why.contains(&format!("  example.com/nt/lib: source: lib.go changed (vs {tests})\n")), "{why}");
}

#[test]
fn go_tools_a_test_runs_without_gohook_are_named_with_what_they_cost() {
    let world = World::new();
    let module = tempfile::tempdir().unwrap();
    module_whose_test_runs_go_build(module.path());
    // A test that runs go without gohook's GOFLAGS (as `go tool nm` builds its tool without -toolexec), in a build
    // cache of its own so that it compiles what it needs whatever the machine's cache holds.
    std::fs::write(
        module.path().join("lib/plain_test.go"),
        r#"package lib

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestPlainGo(t *testing.T) {
	cmd := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "hello"), "../cmd/hello")
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOCACHE="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
}
"#,
    )
    .unwrap();
    let out =
        world.run_gohook(module.path(), &["exec", "--", "go", "test", "-count=1", "-run", "TestPlainGo", "./lib"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("gohook: outside gohook: at least "))
        .unwrap_or_else(|| panic!("{stderr}"));
    let command = "go build -o ";
    assert!(line.contains(&format!("under go commands without -toolexec=gohook ({command}")), "{line}");
    // Only the test build: the plain go command is not one of gohook's.
    let builds = world.builds();
    assert_eq!(builds.len(), 1, "{builds:?}");
    let unrecorded = &world.summary(&builds[0])["unrecorded"];
    let tools: std::collections::BTreeMap<String, u64> = unrecorded["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t[0].as_str().unwrap().to_owned(), t[1].as_u64().unwrap()))
        .collect();
    // The runtime and its ~20 dependencies compile, one link; sampling every 100 ms sees the longer runs.
    assert!(tools.get("compile").is_some_and(|&n| n >= 3), "{unrecorded}");
    assert!(unrecorded["go_commands"][0].as_str().unwrap().starts_with(command), "{unrecorded}");
    // Nothing of the kind in a build whose go commands all went through gohook.
    let out = world
        .run_gohook(module.path(), &["exec", "--", "go", "test", "-count=1", "-run", "TestBuildsTheCommand", "./lib"]);
    assert!(!text(&out.stderr).contains("outside gohook"), "{}", text(&out.stderr));
}
