//! Plugins nobody here wrote: ones that block inside host calls, write text meant to rewrite the terminal, speak for
//! another plugin, or flood the log. gohook must end every call at its limit, show their text escaped and bounded,
//! and refuse findings outside a plugin's namespace.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use gohook_tests::*;
use serde_json::Value;

fn hostile_policy(modes: &[&str], timeout_ms: u64) -> String {
    let hostile = test_plugin("hostile").display().to_string();
    modes
        .iter()
        .map(|mode| {
            format!(
                "[plugins.{mode}]\npath = {hostile:?}\nsettings = {{ mode = {mode:?} }}\ntimeout_ms = {timeout_ms}\n\n"
            )
        })
        .collect()
}

/// Runs `command` to its end, but kills it after `limit`: a hang fails the test instead of stalling the suite.
fn run_bounded(mut command: Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(limit);
        // SAFETY: kill(2) on a pid we started; if it already exited the call fails harmlessly (or hits nothing we own).
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    });
    let output = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed < limit, "still running after {limit:?}: killed");
    drop(watchdog);
    (output, elapsed)
}

#[test]
fn plugins_blocked_in_host_calls_end_at_their_time_limit() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let binary = sample_binary(dir.path(), "app", &[], &[]);
    let modes = ["sleep", "stdin", "poll"];
    std::fs::write(dir.path().join("gohook.toml"), hostile_policy(&modes, 2000)).unwrap();

    // `gohook check`: three plugins, each stopped at 2 s; an hour-long sleep would hold it an hour.
    let mut check = world.gohook();
    check.current_dir(dir.path()).args(["check", "--format", "json"]).arg(&binary);
    let (out, elapsed) = run_bounded(check, Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["files"][0]["findings"].as_array().unwrap();
    for mode in modes {
        let failure = findings.iter().find(|f| f["plugin"] == mode).unwrap_or_else(|| panic!("{mode}: {findings:?}"));
        assert_eq!(failure["rule"], "gohook/plugin-failed");
        assert_eq!(
            failure["message"],
            format!("plugin {mode} did not finish within its time limit of 2000 ms (timeout_ms in gohook.toml)")
        );
    }
    println!("gohook check with three blocking plugins of 2 s each: {elapsed:?}");

    // The link of a real `gohook build`: it fails, naming each plugin, instead of waiting.
    let sample = fresh_sample();
    std::fs::write(sample.path().join("gohook.toml"), hostile_policy(&modes, 2000)).unwrap();
    let mut build = world.gohook();
    build.current_dir(sample.path()).args(["build", "-o", "bin", "."]);
    let (out, _) = run_bounded(build, Duration::from_secs(300));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    for mode in modes {
        let line = format!("plugin {mode} did not finish within its time limit of 2000 ms");
        assert!(stderr.contains(&line), "missing {line:?} in:\n{stderr}");
    }
    assert!(!sample.path().join("bin").exists(), "the failed link leaves no binary");
}

/// Bytes a terminal would act on: C0 controls but the newline, DEL, and C1 controls.
fn control_bytes(text: &str) -> Vec<char> {
    text.chars().filter(|&c| (c.is_control() && c != '\n') || ('\u{2028}'..='\u{202e}').contains(&c)).collect()
}

/// Every string inside a JSON value.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k.clone());
            strings(v, out)
        }),
        _ => {}
    }
}

#[test]
fn plugin_text_is_escaped_bounded_and_kept_in_its_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let binary = sample_binary(dir.path(), "app", &[], &[]);
    std::fs::write(dir.path().join("gohook.toml"), hostile_policy(&["text", "foreign"], 5000)).unwrap();
    let world = World::new();
    let check = |format: &str| {
        let out = world
            .gohook()
            .current_dir(dir.path())
            .env("GOHOOK_LOG", "info")
            .args(["check", "--format", format])
            .arg(&binary)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        (text(&out.stdout), text(&out.stderr))
    };

    let (human, log) = check("human");
    for (what, output) in [("stdout", &human), ("stderr", &log)] {
        assert_eq!(control_bytes(output), Vec::<char>::new(), "{what}:\n{output}");
    }
    // Escaped, not dropped: the reader sees what the plugin tried.
    assert!(
        human.contains("message \\e[2J\\e[H\\e[32mok\\e[0m\\r\\nerror[strip/symbols] fake line\\u{202e}"),
        "{human}"
    );
    assert!(human.contains("help \\e[2J"), "{human}");
    // The log line and what the plugin printed, escaped too.
    assert!(log.contains("[text] log \\e[2J"), "{log}");
    assert!(log.contains("[text] stdout: stdout \\e[2J"), "{log}");
    // No line of output that the plugin made up: in the report the fake finding stays inside the escaped message;
    // in the log, what the plugin printed is split at its own line breaks, each line prefixed with its name.
    for line in human.lines().filter(|l| l.contains("fake line")) {
        assert!(line.contains("\\r\\nerror[strip/symbols] fake line"), "{line}");
        assert!(!line.trim_start().starts_with("error[strip/symbols]"), "{line}");
    }
    for line in log.lines().filter(|l| l.contains("fake line")) {
        assert!(line.contains("[text] "), "{line}");
    }
    // 100,000 bytes of message are cut, with a marker.
    assert!(human.contains(&format!("{}…[95904 more bytes]", "x".repeat(4096))), "{human}");

    for format in ["json", "sarif"] {
        let (out, log) = check(format);
        assert_eq!(control_bytes(&log), Vec::<char>::new(), "{format} stderr");
        let value: Value = serde_json::from_str(&out).unwrap();
        let mut texts = Vec::new();
        strings(&value, &mut texts);
        for text in &texts {
            assert_eq!(control_bytes(text), Vec::<char>::new(), "{format}: {text:?}");
        }
        assert!(texts.iter().any(|t| t.contains("message \\e[2J")), "{format}: {out}");
    }

    // The findings, as JSON: the malformed and the foreign rule ids became gohook's own errors.
    let (json, _) = check("json");
    let report: Value = serde_json::from_str(&json).unwrap();
    let findings = report["files"][0]["findings"].as_array().unwrap();
    let rules: Vec<(&str, &str)> =
        findings.iter().map(|f| (f["plugin"].as_str().unwrap(), f["rule"].as_str().unwrap())).collect();
    assert_eq!(
        rules,
        [
            ("foreign", "gohook/invalid-finding"),
            ("text", "hostile/text"),
            ("text", "gohook/invalid-finding"),
            ("text", "hostile/long"),
        ]
    );
    assert_eq!(
        findings[0]["message"],
        "plugin foreign reported a finding gohook refuses: its rule id `strip/symbols` is outside its namespace \
         `hostile/`; it said: the binary is not stripped (says hostile)"
    );
    assert_eq!(findings[0]["severity"], "error");
    let malformed = findings[2]["message"].as_str().unwrap();
    assert!(
        malformed.starts_with("plugin text reported a finding gohook refuses: its rule id `hostile/rule\\e[2J\\e[H"),
        "{malformed}"
    );
    assert_eq!(findings[1]["help"], "help \\e[2J\\e[H\\e[32mok\\e[0m\\r\\nerror[strip/symbols] fake line\\u{202e}");
}

#[test]
fn a_plugin_flooding_its_log_is_cut_with_one_line_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let binary = sample_binary(dir.path(), "app", &[], &[]);
    std::fs::write(dir.path().join("gohook.toml"), hostile_policy(&["log-flood"], 2000)).unwrap();
    let out = World::new().gohook().current_dir(dir.path()).arg("check").arg(&binary).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "the flood runs into its time limit");
    let stderr = text(&out.stderr);
    // 16 KiB of log per call: sixteen lines, each cut at 1 KiB, then one line for the rest.
    let relayed: Vec<&str> = stderr.lines().filter(|l| l.contains("[log-flood] log flood")).collect();
    assert_eq!(relayed.len(), 16, "{stderr}");
    assert!(relayed.iter().all(|l| l.ends_with("…[58976 more bytes]")), "{}", relayed[0]);
    let dropped: Vec<&str> = stderr.lines().filter(|l| l.contains("more log lines")).collect();
    assert_eq!(dropped.len(), 1, "{stderr}");
    assert!(dropped[0].contains("bytes) dropped: a plugin may log 100 lines or 16 KiB per call"), "{}", dropped[0]);
    assert!(stderr.len() < 32 << 10, "{} bytes on stderr", stderr.len());
}
