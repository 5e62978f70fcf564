//! Plugins in real builds: the documented example, a probe-moment allow-list, hostile plugins, the compile cache,
//! contract versions, and a `cargo install`ed gohook with its built-in plugins.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gohook_tests::*;

fn example_plugin() -> String {
    test_plugin("gohook_plugin_example").display().to_string()
}

fn build(world: &World, dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    world.run_gohook(dir, &all)
}

fn latest_records(world: &World) -> BuildRecords {
    world.records(&world.builds().pop().expect("a recorded build"))
}

fn link_record(records: &BuildRecords) -> ToolRun {
    let links = records.stage(Stage::Link);
    assert_eq!(links.len(), 1, "one link: {:?}", records.runs);
    links[0].clone()
}

#[test]
fn example_plugin_fails_the_link_and_warns_when_told_to() {
    let world = World::new();
    let sample = fresh_sample();
    let policy = sample.path().join("gohook.toml");
    std::fs::write(&policy, format!("[plugins.no-debug]\npath = {:?}\n", example_plugin())).unwrap();

    let out = build(&world, sample.path(), &["-o", "bin", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("link of example.com/sample"), "{stderr}");
    assert!(stderr.contains("error[no-debug/dwarf] DWARF sections present: .debug_"), "{stderr}");
    assert!(stderr.contains("fix: link with -ldflags=\"-w\" (or -s -w) to leave DWARF out"), "{stderr}");
    assert!(!sample.path().join("bin").exists(), "the rejected binary never lands at -o");
    let link = link_record(&latest_records(&world));
    assert_eq!(link.exit, Exit::Code(1));
    assert_eq!(link.findings[0].rule, "no-debug/dwarf");
    assert_eq!(link.findings[0].severity, FindingLevel::Error);
    assert_eq!(link.plugins[0].plugin, "no-debug");
    assert!(link.plugin_ns > 0);

    std::fs::write(
        &policy,
        format!("[plugins.no-debug]\npath = {:?}\nrules = {{ \"no-debug/dwarf\" = \"warn\" }}\n", example_plugin()),
    )
    .unwrap();
    let out = build(&world, sample.path(), &["-o", "bin", "."]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("gohook: warning[no-debug/dwarf] DWARF sections present"),
        "{}",
        text(&out.stderr)
    );
    assert!(sample.path().join("bin").exists());
    let link = link_record(&latest_records(&world));
    assert_eq!(link.exit, Exit::Code(0));
    assert_eq!(link.findings[0].severity, FindingLevel::Warning);

    let out = build(&world, sample.path(), &["-ldflags=-w", "-o", "bin", "."]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(link_record(&latest_records(&world)).findings, []);

    // A setting the plugin does not declare is a mistake in the policy, not something to ignore.
    std::fs::write(
        &policy,
        format!("[plugins.no-debug]\npath = {:?}\nsettings = {{ strict = true }}\n", example_plugin()),
    )
    .unwrap();
    let out = build(&world, sample.path(), &["-ldflags=-w", "-o", "bin", "."]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "error[gohook/unknown-setting] [plugins.no-debug] settings has strict that plugin no-debug 0.1.0 does not know\n      fix: this plugin takes no settings: remove them"
        ),
        "{stderr}"
    );
}

#[test]
fn probe_plugin_denies_goarch_before_anything_compiles_even_when_cached() {
    let world = World::new();
    let sample = fresh_sample();
    std::fs::write(sample.path().join("gohook.toml"), "[plugins.arch]\nsettings = { allow = [\"arm64\"] }\n").unwrap();
    let build_for = |goarch: &str| {
        world
            .gohook()
            .current_dir(sample.path())
            .env("GOOS", "linux")
            .env("GOARCH", goarch)
            .args(["build", "-o", "bin", "."])
            .output()
            .unwrap()
    };
    assert!(build_for("arm64").status.success());
    let cached = build_for("arm64");
    assert!(cached.status.success());
    assert!(latest_records(&world).stage(Stage::Compile).is_empty(), "second arm64 build is fully cached");

    for attempt in 0..2 {
        let out = build_for("amd64");
        assert_eq!(out.status.code(), Some(1), "attempt {attempt}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("error[arch/not-allowed] GOARCH=amd64 is not allowed (allowed: arm64)"), "{stderr}");
        let records = latest_records(&world);
        assert_eq!(records.work().count(), 0, "nothing ran but the probe: {:?}", records.runs);
        assert_eq!(records.stage(Stage::Probe)[0].findings[0].rule, "arch/not-allowed");
    }
}

#[test]
fn hostile_plugins_are_contained_and_named() {
    let world = World::new();
    let sample = fresh_sample();
    let hostile = test_plugin("hostile").display().to_string();
    let mut policy = String::new();
    for mode in ["loop", "memory", "panic", "recursion", "flood", "escape", "huge"] {
        policy +=
            &format!("[plugins.{mode}]\npath = {hostile:?}\nsettings = {{ mode = {mode:?} }}\ntimeout_ms = 1000\n\n");
    }
    std::fs::write(sample.path().join("gohook.toml"), policy).unwrap();
    let out = build(&world, sample.path(), &["-o", "bin", "."]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    for expected in [
        "plugin loop did not finish within its time limit of 1000 ms",
        "plugin memory exceeded its memory limit of 64 MiB",
        "plugin panic panicked at hostile/src/lib.rs:",
        ": hostile plugin gave up on purpose\n",
        "plugin recursion overflowed its stack",
        "plugin flood flooded its output (more than 256 KiB printed)",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    let link = link_record(&latest_records(&world));
    let findings = &link.findings;
    let escape: Vec<_> = findings.iter().filter(|f| f.rule == "hostile/escape").collect();
    assert_eq!(escape.len(), 1);
    let message = escape[0].message.as_str();
    assert!(message.starts_with("file: "), "{message}");
    assert!(!message.contains("file: 1") && !message.contains("connected"), "sandbox held: {message}");
    assert!(message.ends_with("env vars: 0; wall clock: 0"), "{message}");
    let huge = findings.iter().filter(|f| f.rule == "hostile/huge").count();
    assert_eq!(huge, 1000, "a flood of findings is cut");
    assert!(findings.iter().any(|f| f.rule == "gohook/too-many-findings"));
    let failed: Vec<&str> =
        findings.iter().filter(|f| f.rule == "gohook/plugin-failed").map(|f| f.plugin.as_str()).collect();
    assert_eq!(failed, ["flood", "loop", "memory", "panic", "recursion"]);
}

#[test]
fn contract_from_the_future_is_refused_with_which_side_to_upgrade() {
    let world = World::new();
    let sample = fresh_sample();
    std::fs::write(
        sample.path().join("gohook.toml"),
        format!("[plugins.future]\npath = {:?}\n", test_plugin("future").display().to_string()),
    )
    .unwrap();
    let out = build(&world, sample.path(), &["-o", "bin", "."]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("plugin future was built for plugin contract 0.2.0, and this gohook speaks 0.1.0: upgrade gohook to one that supports contract 0.2.0"),
        "{stderr}"
    );
}

/// A stand-in `link` tool for driving the shim directly: copies a real Go binary to its `-o`.
fn fake_link(dir: &Path, binary: &Path) -> PathBuf {
    let link = dir.join("link");
    std::fs::write(&link, format!("#!/bin/sh\ncp {:?} \"$2\"\n", binary.display().to_string())).unwrap();
    Command::new("chmod").arg("+x").arg(&link).status().unwrap();
    link
}

#[test]
fn native_code_is_cached_rebuilt_when_damaged_and_shared_by_parallel_first_uses() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let link = fake_link(dir.path(), &sample_binary(dir.path(), "real-binary", &[], &["-ldflags=-w"]));
    std::fs::write(dir.path().join("gohook.toml"), format!("[plugins.no-debug]\npath = {:?}\n", example_plugin()))
        .unwrap();
    let shim = |id: &str| {
        world
            .gohook()
            .current_dir(dir.path())
            .env("GOHOOK_BUILD_ID", id)
            .env("GOHOOK_BUILD_START_NS", "1")
            .arg(&link)
            .args(["-o", &format!("out-{id}")])
            .output()
            .unwrap()
    };
    let cache_of = |id: &str| -> Vec<String> {
        world.records(id).runs.iter().map(|r| r.plugins[0].cache.name().to_owned()).collect()
    };

    // 16 first uses at once: all succeed, and the flock lets only one of them compile.
    let children: Vec<_> = (0..16)
        .map(|i| {
            world
                .gohook()
                .current_dir(dir.path())
                .env("GOHOOK_BUILD_ID", "parallel")
                .env("GOHOOK_BUILD_START_NS", "1")
                .arg(&link)
                .args(["-o", &format!("par-{i}")])
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        assert!(child.wait_with_output().unwrap().status.success());
    }
    let mut states = cache_of("parallel");
    states.sort();
    assert_eq!(states.len(), 16);
    assert_eq!(states.iter().filter(|s| *s == "compiled").count(), 1, "{states:?}");
    assert_eq!(states.iter().filter(|s| *s == "hit").count(), 15, "{states:?}");

    assert!(shim("warm").status.success());
    assert_eq!(cache_of("warm"), ["hit"]);

    let native_dir = world.root.path().join("plugins/native");
    let entry = std::fs::read_dir(&native_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("a compiled plugin in the cache");
    let full = std::fs::read(&entry).unwrap();
    for (damage, bytes) in [("truncated", full[..full.len() / 3].to_vec()), ("garbage", vec![0x5a; full.len()])] {
        std::fs::write(&entry, bytes).unwrap();
        let out = shim(damage);
        assert!(out.status.success(), "{damage}: {}", text(&out.stderr));
        assert_eq!(cache_of(damage), ["compiled"], "{damage} entry is rebuilt");
        assert_eq!(std::fs::read(&entry).unwrap().len(), full.len(), "{damage} entry replaced");
    }
}

#[test]
fn runtime_starts_only_for_subscribed_invocations() {
    let world = World::new();
    let sample = fresh_sample();
    std::fs::write(sample.path().join("gohook.toml"), format!("[plugins.no-debug]\npath = {:?}\n", example_plugin()))
        .unwrap();
    assert!(build(&world, sample.path(), &["-ldflags=-w", "-o", "bin", "."]).status.success());
    let log = world.root.path().join("debug.log");
    let toolexec = format!("-toolexec={}", gohook_bin().display());
    let out = world
        .command("go")
        .current_dir(sample.path())
        .env("GOHOOK_LOG", "debug")
        .env("GOHOOK_LOG_FILE", &log)
        // A new -o: go would skip the link of an up-to-date binary.
        .args(["build", &toolexec, "-ldflags=-w", "-o", "bin2", "."])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let records = latest_records(&world);
    assert!(records.stage(Stage::Compile).is_empty(), "cached build");
    let logged = std::fs::read_to_string(&log).unwrap();
    // Probes (compile, link) and the link run the shim; only the link has a subscribed plugin.
    assert_eq!(logged.matches("wasm runtime started").count(), 1, "{logged}");
    assert_eq!(records.stage(Stage::Link).len(), 1);
    for run in &records.runs {
        let expected = if run.stage == Stage::Link { 1 } else { 0 };
        assert_eq!(run.plugins.len(), expected, "{run:?}");
    }
}

#[test]
fn installed_gohook_carries_its_built_in_plugins() {
    let root = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO"))
        .args(["install", "--locked", "--offline", "--path"])
        .arg(repo_root().join("host/gohook"))
        .arg("--root")
        .arg(root.path())
        .arg("--target-dir")
        .arg(repo_root().join("target"))
        .status()
        .unwrap();
    assert!(status.success());
    let installed = root.path().join("bin/gohook");
    // What lands on a user's disk: a small shim, and the commands with the wasm runtime beside it. Each built-in check
    // adds its wasm (`hardening`, the ninth, 237 KB: it reads all three formats' protections); the attestations' P-256
    // signing and cosign-key decryption (`gohook attest`) ~1 MB.
    let size = |name: &str| std::fs::metadata(root.path().join("bin").join(name)).unwrap().len();
    assert!(size("gohook") <= 10_000_000, "gohook installs at {} bytes", size("gohook"));
    assert!(size("gohook-commands") <= 42_000_000, "`gohook-commands` installs at {} bytes", size("gohook-commands"));

    let world = World::new();
    let sample = fresh_sample();
    // The installed pair builds the sample, and the binary runs.
    let out = world.command(&installed).current_dir(sample.path()).args(["build", "-o", "app", "."]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ran = Command::new(sample.path().join("app")).arg("installed").output().unwrap();
    assert_eq!(text(&ran.stdout), "hello, installed\n2 + 40 = 42\n");
    let records = world.records(&world.only_build());
    assert_eq!(records.packages(Stage::Link), ["example.com/sample"]);
    // Its doctor names the installed gohook for -toolexec, and a go build with that line works.
    let doctor =
        world.command(&installed).current_dir(sample.path()).args(["doctor", "--format", "json"]).output().unwrap();
    let findings: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let toolexec = findings.as_array().unwrap().iter().find(|f| f["check"] == "toolexec").unwrap();
    assert_eq!(toolexec["message"], format!("gohook build/exec pass -toolexec={}", installed.display()));
    let bare = world
        .command("go")
        .current_dir(sample.path())
        .arg("build")
        .arg(format!("-toolexec={}", installed.display()))
        .args(["-o", "bare", "."])
        .output()
        .unwrap();
    assert!(bare.status.success(), "{}", text(&bare.stderr));

    std::fs::write(sample.path().join("gohook.toml"), "[plugins.arch]\nsettings = { allow = [\"arm64\"] }\n").unwrap();
    let out = world.command(&installed).current_dir(sample.path()).args(["plugins"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(
        listing.contains("arch") && listing.contains("probe,after-tool,check") && listing.contains("built-in"),
        "{listing}"
    );

    let out = world
        .command(&installed)
        .current_dir(sample.path())
        .env("GOARCH", "amd64")
        .args(["build", "-o", "bin", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("GOARCH=amd64 is not allowed (allowed: arm64)"));
}

#[test]
fn without_its_plugin_host_gohook_fails_closed_and_says_how_to_fix_it() {
    // gohook copied somewhere on its own: no gohook-commands next to it.
    let alone = tempfile::tempdir().unwrap();
    let gohook = alone.path().join("gohook");
    std::fs::copy(gohook_bin(), &gohook).unwrap();
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gohook.toml"), format!("[plugins.no-debug]\npath = {:?}\n", example_plugin()))
        .unwrap();
    let link = fake_link(dir.path(), &sample_binary(dir.path(), "real-binary", &[], &["-ldflags=-w"]));
    let out = world
        .command(&gohook)
        .current_dir(dir.path())
        .env("GOHOOK_BUILD_ID", "alone")
        .env("GOHOOK_BUILD_START_NS", "1")
        .arg(&link)
        .args(["-o", "out"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the link fails closed");
    let stderr = text(&out.stderr);
    let host = alone.path().join("gohook-commands");
    assert!(
        stderr.contains(&format!(
            "error[gohook/plugin-host-failed] the policy's plugins could not run: cannot start {}: No such file",
            host.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("reinstall both with `cargo install --path host/gohook`"), "{stderr}");
    assert!(!dir.path().join("out").exists(), "the rejected output is removed");

    // The commands that run plugins say the same and exit 2.
    let out = world.command(&gohook).current_dir(dir.path()).args(["check", "out"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with(&format!("gohook: cannot start {}: No such file", host.display())));
}

#[test]
fn a_plugin_built_against_the_frozen_contract_keeps_running() {
    // `pinned` is built from wit/since_v0.1.0 itself, not through the SDK: when a newer contract ships and the SDK
    // moves to it, this plugin stays a 0.1.0 plugin, and gohook must still serve it.
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let binary = sample_binary(dir.path(), "app", &[], &[]);
    let size = std::fs::metadata(&binary).unwrap().len();
    std::fs::write(
        dir.path().join("gohook.toml"),
        format!("[plugins.pinned]\npath = {:?}\n", test_plugin("pinned").display().to_string()),
    )
    .unwrap();
    let out = world
        .gohook()
        .current_dir(dir.path())
        .env("GOHOOK_LOG", "info")
        .args(["check", "--format", "json", "app"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = &report["files"][0]["findings"];
    assert_eq!(findings[0]["rule"], "pinned/seen", "{report}");
    assert_eq!(findings[0]["message"], format!("size {size} magic [7f, 45, 4c, 46] settings {{}}"));
    assert!(text(&out.stderr).contains("[pinned] contract 0.1.0 plugin checking"), "{}", text(&out.stderr));
}
