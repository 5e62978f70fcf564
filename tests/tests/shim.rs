//! The shim on its own: what go sees when it runs `gohook <tool> args…`.

use std::process::{Command, Stdio};
use std::time::Duration;

use gohook_tests::*;
use serde_json::json;

fn go_tool_dir() -> String {
    let out = Command::new("go").args(["env", "GOTOOLDIR"]).output().unwrap();
    text(&out.stdout).trim().to_owned()
}

fn shim(world: &World) -> Command {
    let mut command = world.gohook();
    command.env("GOHOOK_BUILD_ID", "shim-test").env("GOHOOK_BUILD_START_NS", "1");
    command
}

#[test]
fn output_and_exit_code_pass_through_unchanged() {
    let world = World::new();
    let out = shim(&world).args(["/bin/sh", "-c", "printf 'out\\n'; printf 'err\\n' >&2; exit 7"]).output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(text(&out.stdout), "out\n");
    assert_eq!(text(&out.stderr), "err\n");
    let records = world.records("shim-test");
    assert_eq!(records.runs.len(), 1);
    assert_eq!(records.runs[0].exit, Exit::Code(7));
    assert_eq!(records.runs[0].tool, "sh");
    assert_eq!(records.runs[0].stage, Stage::Other);
    // The same record as `gohook report --format records` prints it, one JSON object per line.
    let out = world.gohook().args(["report", "shim-test", "--format", "records"]).output().unwrap();
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["tool"]["exit"], json!({"code": 7}));
    assert_eq!(lines[0]["tool"]["stage"], "other");
}

#[test]
fn a_tool_killed_by_a_signal_exits_like_a_shell_reports_it() {
    let world = World::new();
    let out = shim(&world).args(["/bin/sh", "-c", "kill -9 $$"]).output().unwrap();
    assert_eq!(out.status.code(), Some(128 + 9));
    assert_eq!(text(&out.stderr), "gohook: sh was killed by signal 9 (SIGKILL)\n");
    assert_eq!(world.records("shim-test").runs[0].exit, Exit::Signal(9));
}

#[test]
fn sigterm_to_gohook_reaches_the_tool() {
    let world = World::new();
    let child = shim(&world).args(["/bin/sleep", "30"]).stderr(Stdio::piped()).spawn().unwrap();
    // Give gohook time to start the tool; a signal that arrives earlier is delivered right after spawning anyway.
    std::thread::sleep(Duration::from_millis(300));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    // gohook survived the signal, saw the tool die of it, and exited as a shell would (128 + 15).
    assert_eq!(out.status.code(), Some(143));
    assert_eq!(text(&out.stderr), "gohook: sleep was killed by signal 15 (SIGTERM)\n");
    assert_eq!(world.records("shim-test").runs[0].exit, Exit::Signal(15));
}

#[test]
fn version_probe_answers_with_the_tools_line_plus_gohook() {
    let world = World::new();
    let compile = format!("{}/compile", go_tool_dir());
    let direct = Command::new(&compile).arg("-V=full").output().unwrap();
    let out = shim(&world).args([&compile, "-V=full"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "");
    let line = text(&out.stdout);
    let tool_line = text(&direct.stdout).trim_end().to_owned();
    assert!(line.starts_with(&format!("{tool_line} +gohook@0.1.0 buildID=_/_/_/")), "{line}");
    assert!(line.ends_with('\n') && line.lines().count() == 1);
    // go's parse (cmd/go/internal/work/buildid.go): fields 0 and 1 are the tool name and "version".
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&fields[..2], ["compile", "version"]);
    let records = world.records("shim-test");
    assert_eq!(records.runs[0].stage, Stage::Probe);
    assert_eq!(records.runs[0].package, "");
}

#[test]
fn response_files_are_read_for_the_package_and_passed_on_untouched() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("args"), "-o\nx.a\n-p\nexample.com/from\\\\file\n").unwrap();
    let out = shim(&world).current_dir(dir.path()).args(["/bin/echo", "@args"]).output().unwrap();
    assert_eq!(text(&out.stdout), "@args\n");
    assert_eq!(world.records("shim-test").runs[0].package, "example.com/from\\file");
}

#[test]
fn a_missing_tool_is_a_clear_error() {
    let world = World::new();
    let out = shim(&world).args(["/nonexistent/compile", "-o", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("gohook: cannot run /nonexistent/compile: No such file or directory"), "{stderr}");
    assert_eq!(world.records("shim-test").runs[0].exit, Exit::NotStarted);
}

#[test]
fn unwritable_record_dir_keeps_the_build_going_and_silent() {
    let world = World::new();
    let blocked = world.root.path().join("blocked");
    // A file where the record directory should be: no user, root included, can create records under it.
    std::fs::write(&blocked, "not a directory").unwrap();
    let log = world.root.path().join("gohook.log");
    let out = shim(&world)
        .env("GOHOOK_DIR", &blocked)
        .env("GOHOOK_LOG_FILE", &log)
        .args(["/bin/sh", "-c", "exit 0"])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!((text(&out.stdout), text(&out.stderr)), (String::new(), String::new()));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged.lines().count(), 1, "{logged}");
    assert!(logged.contains("WARN") && logged.contains("cannot write the timing record"), "{logged}");
}

#[test]
fn broken_policy_fails_the_probe_with_file_line_and_key() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gohook.toml"), "[records]\nkeep_builds = 3\nkeep_everything = true\n").unwrap();
    let compile = format!("{}/compile", go_tool_dir());
    let out = shim(&world).current_dir(dir.path()).args([&compile, "-V=full"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{}: TOML parse error at line 3", dir.path().join("gohook.toml").display())),
        "{stderr}"
    );
    assert!(stderr.contains("keep_everything"), "{stderr}");
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn records_are_pruned_to_the_configured_number_of_builds() {
    let world = World::new();
    for i in 0..4 {
        let out = world
            .gohook()
            .env("GOHOOK_BUILD_ID", format!("b{i}"))
            .env("GOHOOK_BUILD_START_NS", "1")
            .env("GOHOOK_CONFIG", "")
            .args(["/bin/true"])
            .output()
            .unwrap();
        assert!(out.status.success());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(world.builds(), ["b0", "b1", "b2", "b3"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gohook.toml"), "[records]\nkeep_builds = 2\n").unwrap();
    let out = world
        .gohook()
        .current_dir(dir.path())
        .env("GOHOOK_BUILD_ID", "b4")
        .env("GOHOOK_BUILD_START_NS", "1")
        .args(["/bin/true"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(world.builds(), ["b3", "b4"]);
}
