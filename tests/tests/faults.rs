//! Faults gohook must survive without hanging, crashing or losing what it recorded: a full disk, tools killed
//! mid-compile, Ctrl-C, a damaged plugin cache, broken policies, damaged records; and `gohook doctor`.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};

use gohook_tests::*;
use serde_json::Value;

/// Processes (other than this test) whose environment has `GOHOOK_DIR=<root>`: everything a world started.
fn processes_of(world: &World) -> Vec<(u32, String)> {
    let needle = format!("GOHOOK_DIR={}", world.root.path().display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
        if environ.split(|b| *b == 0).any(|var| var == needle.as_bytes()) {
            let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            found.push((pid, comm.trim().to_owned()));
        }
    }
    found
}

/// Waits until nothing the world started is left (zombies reaped by init count as gone).
fn assert_no_strays(world: &World) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = processes_of(world);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "stray processes: {left:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A running package compile whose parent is gohook, waited for up to `limit`: (compile pid, gohook pid).
fn running_compile(world: &World, limit: Duration) -> (u32, u32) {
    // The parent of a live process; none for one that already exited (a zombie ignores the kill, and its compile
    // succeeded).
    let parent_of = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
        let state = fields.next()?;
        if state == "Z" || state == "X" {
            return None;
        }
        fields.next()?.parse().ok()
    };
    let deadline = Instant::now() + limit;
    loop {
        let compile = processes_of(world).into_iter().find_map(|(pid, comm)| {
            // Not go's `-V=full` probe: a compile of a package.
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let probe = cmdline.split(|b| *b == 0).any(|arg| arg == b"-V=full");
            let parent = parent_of(pid)?;
            let parent_comm = std::fs::read_to_string(format!("/proc/{parent}/comm")).ok()?;
            (comm == "compile" && !probe && parent_comm.trim() == "gohook").then_some((pid, parent))
        });
        if let Some(found) = compile {
            return found;
        }
        assert!(Instant::now() < deadline, "no compile started under gohook");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn full_disk_keeps_the_build_going_and_silent() {
    let world = World::new();
    let records = world.root.path().join("builds");
    std::fs::create_dir_all(&records).unwrap();
    // The build's record file is already past the file size limit the shim runs under: its append hits EFBIG, as
    // on a full disk. The log file is empty, so the one warning still fits.
    std::fs::write(records.join("full.rec"), vec![0u8; 64 * 1024]).unwrap();
    let log = world.root.path().join("gohook.log");
    let out = unsafe {
        world
            .gohook()
            .env("GOHOOK_BUILD_ID", "full")
            .env("GOHOOK_BUILD_START_NS", "1")
            .env("GOHOOK_LOG_FILE", &log)
            .args(["/bin/sh", "-c", "exit 0"])
            .pre_exec(|| {
                let limit = libc::rlimit { rlim_cur: 16 * 1024, rlim_max: 16 * 1024 };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
            .output()
            .unwrap()
    };
    assert_eq!(out.status.code(), Some(0), "gohook survives SIGXFSZ/EFBIG");
    assert_eq!((text(&out.stdout), text(&out.stderr)), (String::new(), String::new()));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged.lines().count(), 1, "{logged}");
    assert!(logged.contains("WARN") && logged.contains("cannot write the timing record"), "{logged}");
    assert!(logged.contains("File too large"), "{logged}");
}

#[test]
fn a_compile_killed_mid_build_is_reported_and_recorded() {
    let world = World::new();
    let sample = fresh_sample();
    let child = world.spawn_gohook(sample.path(), &["build", "-a", "-p", "2", "-o", "bin", "."]);
    let (victim, shim) = running_compile(&world, Duration::from_secs(60));
    unsafe { libc::kill(victim as i32, libc::SIGKILL) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "go fails the build: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("gohook: compile was killed by signal 9 (SIGKILL)"), "{stderr}");
    assert_no_strays(&world);

    let build = world.only_build();
    let records = world.records(&build);
    let killed: Vec<&ToolRun> = records.runs.iter().filter(|r| r.exit == Exit::Signal(9)).collect();
    assert_eq!(killed.len(), 1, "exactly the killed compile records the signal");
    assert_eq!(killed[0].tool, "compile");
    assert_eq!(killed[0].pid, shim, "recorded by the shim that ran it");
    assert_eq!(world.summary(&build)["skipped_records"], serde_json::json!({"corrupt": 0, "unsupported_version": 0}));
}

#[test]
fn ctrl_c_to_gohook_build_stops_go_and_its_tools_and_exits_130() {
    let world = World::new();
    let sample = fresh_sample();
    let child = world.spawn_gohook(sample.path(), &["build", "-a", "-p", "2", "-o", "bin", "."]);
    running_compile(&world, Duration::from_secs(60));
    // Let a few compiles finish, so there are records to keep intact.
    std::thread::sleep(Duration::from_secs(2));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(30), "stopped promptly");
    assert_no_strays(&world);

    // What finished before the interrupt is recorded intact, and the end of the build too.
    let build = world.only_build();
    let records = world.records(&build);
    assert!(!records.runs.is_empty(), "{records:?}\n{}", text(&out.stderr));
    assert!(records.end.is_some());
    assert_eq!(world.summary(&build)["skipped_records"], serde_json::json!({"corrupt": 0, "unsupported_version": 0}));
}

fn example_plugin_policy(dir: &Path) {
    let policy = format!("[plugins.no-debug]\npath = {:?}\n", example_plugin().display().to_string());
    std::fs::write(dir.join("gohook.toml"), policy).unwrap();
}

/// One shim run of a fake link under the example plugin; how its native code was obtained.
fn plugin_run(world: &World, dir: &Path, id: &str) -> String {
    let out = world.spawn_fake_link(dir, id).wait_with_output().unwrap();
    let states = world.plugin_cache_states(id);
    assert_eq!(states.len(), 1, "{}", text(&out.stderr));
    states[0].clone()
}

#[test]
fn damaged_plugin_cache_is_rebuilt_or_refused_never_loaded_blindly() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    example_plugin_policy(dir.path());
    assert_eq!(plugin_run(&world, dir.path(), "first"), "compiled");
    assert_eq!(plugin_run(&world, dir.path(), "warm"), "hit");
    let native = world.root.path().join("plugins/native");
    let entry = std::fs::read_dir(&native)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .unwrap();
    let good = std::fs::read(&entry).unwrap();

    // Compiled by another wasmtime/gohook: the version inside the file differs, even with a matching checksum.
    let mut other = good.clone();
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let at = other.windows(triple.len()).position(|w| w == triple.as_bytes()).expect("engine info names its target");
    other[at + triple.len() - 1] = b'x';
    std::fs::write(&entry, &other).unwrap();
    std::fs::write(entry.with_extension("sum"), format!("{} {:08x}", other.len(), crc32fast::hash(&other))).unwrap();
    assert_eq!(plugin_run(&world, dir.path(), "other-version"), "compiled");
    assert_eq!(std::fs::read(&entry).unwrap(), good, "replaced by this gohook's own compilation");

    // Unreadable: a directory where the entry should be (modes do not stop root). Compiled in memory instead.
    std::fs::remove_file(&entry).unwrap();
    std::fs::create_dir(&entry).unwrap();
    assert_eq!(plugin_run(&world, dir.path(), "unreadable"), "uncached");
    std::fs::remove_dir(&entry).unwrap();

    // A cache directory others can write is never trusted: compiled in memory, with the reason logged.
    std::fs::set_permissions(&native, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    assert_eq!(plugin_run(&world, dir.path(), "shared-dir"), "uncached");
    let log = std::fs::read_to_string(world.root.path().join("gohook.log")).unwrap();
    assert!(log.contains("not used: writable by others (mode 777); run `chmod 700"), "{log}");
}

#[test]
fn broken_policies_fail_the_go_command_at_the_probe_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_component = dir.path().join("notes.wasm");
    std::fs::write(&not_a_component, "not wasm").unwrap();
    let cases: [(&str, String, &[&str]); 4] = [
        (
            "syntax",
            "[plugins.arch\nsettings = {}\n".into(),
            &["gohook.toml: TOML parse error at line 1", "[plugins.arch"],
        ),
        (
            "wrong type",
            "[records]\nkeep_builds = \"many\"\n".into(),
            &["gohook.toml: TOML parse error at line 2", "keep_builds", "invalid type: string \"many\""],
        ),
        (
            "missing path",
            "[plugins.mine]\npath = \"missing.wasm\"\n".into(),
            &["gohook.toml: line 2: plugins.mine.path: ", "missing.wasm does not exist"],
        ),
        (
            "not a component",
            format!("[plugins.mine]\npath = {:?}\n", not_a_component.display().to_string()),
            &[
                "gohook.toml: line 2: plugins.mine.path: ",
                "notes.wasm is not a WebAssembly component (no \\0asm header)",
            ],
        ),
    ];
    for (name, policy, expected) in cases {
        let world = World::new();
        let sample = fresh_sample();
        std::fs::write(sample.path().join("gohook.toml"), policy).unwrap();
        // Bare -toolexec: the policy reaches go only through gohook's answer to its probe.
        let toolexec = format!("-toolexec={}", gohook_bin().display());
        let out = world
            .command("go")
            .current_dir(sample.path())
            .args(["build", &toolexec, "-o", "bin", "."])
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        for part in expected {
            assert!(stderr.contains(part), "{name}: expected {part:?} in:\n{stderr}");
        }
        // Stopped at the probe: at most the probe itself is recorded, and nothing was built.
        for build in world.builds() {
            assert_eq!(world.records(&build).work().count(), 0, "{name}");
        }
        assert!(!sample.path().join("bin").exists(), "{name}");
    }
}

#[test]
fn old_and_damaged_records_are_skipped_with_a_count() {
    let world = World::new();
    let sample = fresh_sample();
    let out = world.run_gohook(sample.path(), &["build", "-o", "bin", "."]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let build = world.only_build();
    let good = world.records(&build).runs.len();
    let file = world.root.path().join("builds").join(format!("{build}.rec"));
    let mut bytes = std::fs::read(&file).unwrap();
    // Well-formed frames of an older and a newer record format, and a stretch of damage in the middle.
    let middle = bytes.len() / 2;
    bytes.splice(middle..middle, b"\x00garbage\xff".iter().copied());
    for version in [0u8, 9] {
        bytes.extend_from_slice(b"GHR");
        bytes.push(version);
        bytes.extend_from_slice(&4u32.to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(b"abcd").to_le_bytes());
        bytes.extend_from_slice(b"abcd");
    }
    std::fs::write(&file, bytes).unwrap();

    let out = world.gohook().args(["report", &build, "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["skipped_records"], serde_json::json!({"corrupt": 1, "unsupported_version": 2}));
    let kept = world.records(&build).runs.len();
    assert!(kept == good || kept == good - 1, "at most the damaged frame is lost: {kept} of {good}");
    let table = world.gohook().args(["report", &build]).output().unwrap();
    assert!(table.status.success());
}

#[test]
fn doctor_says_what_to_fix() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let out = world.run_gohook(dir.path(), &["doctor", "--format", "json"]);
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let checks: Vec<(&str, &str)> =
        findings.iter().map(|f| (f["check"].as_str().unwrap(), f["level"].as_str().unwrap())).collect();
    assert_eq!(&checks[..4], [("go", "ok"), ("toolexec", "ok"), ("records", "ok"), ("policy", "ok")]);
    assert_eq!(checks[4].0, "wasm-target");
    assert_eq!(out.status.code(), Some(0));

    // A shared record root, a relative -toolexec and a broken policy: each a failure with its fix.
    std::fs::set_permissions(world.root.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    std::fs::write(dir.path().join("gohook.toml"), "[plugins.arch]\nsettings = { allow = 3 }\nbogus = 1\n").unwrap();
    let out =
        world.gohook().current_dir(dir.path()).env("GOFLAGS", "-toolexec=bin/gohook").arg("doctor").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(report.contains("FAIL toolexec     GOFLAGS has -toolexec=bin/gohook, a relative path"), "{report}");
    assert!(report.contains("mode 777 lets others write"), "{report}");
    assert!(report.contains(&format!("fix: chmod 700 {}", world.root.path().display())), "{report}");
    assert!(report.contains("FAIL policy") && report.contains("line 3"), "{report}");
    assert!(report.ends_with("3 problem(s) to fix before building through gohook\n"), "{report}");
}
