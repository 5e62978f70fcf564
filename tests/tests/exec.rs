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
    assert_eq!(world.builds().len(), 1);
}
