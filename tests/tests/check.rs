//! `gohook check` on real binaries that Go builds in the test run, for every format gohook reads.

use std::path::{Path, PathBuf};
use std::process::Command;

use gohook_tests::*;
use serde_json::Value;

/// Builds the sample for a target with extra go build flags (CGO_ENABLED=0).
fn go_build(out_dir: &Path, goos: &str, goarch: &str, name: &str, flags: &[&str]) -> PathBuf {
    let out = out_dir.join(format!("{goos}-{goarch}-{name}"));
    let status = Command::new("go")
        .current_dir(repo_root().join("examples/sample"))
        .env("GOFLAGS", "")
        .env("CGO_ENABLED", "0")
        .env("GOOS", goos)
        .env("GOARCH", goarch)
        .arg("build")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "go build {goos}/{goarch} {flags:?}");
    out
}

fn check_json(world: &World, args: &[&str], files: &[PathBuf]) -> (Option<i32>, Value) {
    let out = world.gohook().arg("check").args(args).args(["--format", "json"]).args(files).output().unwrap();
    (out.status.code(), serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr))))
}

/// The rule ids a file failed, sorted.
fn failed_rules(file: &Value) -> Vec<String> {
    let mut rules: Vec<String> = file["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    rules.sort();
    rules
}

#[test]
fn strip_and_dwarf_verdicts_across_formats_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    // Expected values from the rules (reference/checks.md), not from running gohook: default links keep the symbol
    // table and DWARF; -w drops DWARF only; -s implies -w since Go 1.22; -s -w drops both.
    let variants: [(&str, &[&str], &[&str]); 4] = [
        ("default", &[], &["dwarf/present", "strip/symbols"]),
        ("w", &["-ldflags=-w"], &["strip/symbols"]),
        ("s", &["-ldflags=-s"], &[]),
        ("sw", &["-ldflags=-s -w"], &[]),
    ];
    let mut files = Vec::new();
    let mut expected = Vec::new();
    for goos in ["linux", "darwin", "windows"] {
        for goarch in ["amd64", "arm64"] {
            for (name, flags, failures) in variants {
                files.push(go_build(dir.path(), goos, goarch, name, flags));
                expected.push(failures.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            }
        }
    }
    let world = World::new();
    let (code, report) = check_json(&world, &["--rules", "strip,dwarf"], &files);
    assert_eq!(code, Some(1), "some binaries fail the policy");
    let reports = report["files"].as_array().unwrap();
    assert_eq!(reports.len(), files.len());
    for ((file, report), failures) in files.iter().zip(reports).zip(&expected) {
        assert_eq!(&failed_rules(report), failures, "{}: {report}", file.display());
        let status = if failures.is_empty() { "pass" } else { "fail" };
        assert_eq!(report["status"], status, "{}", file.display());
    }

    let stripped: Vec<PathBuf> = files.iter().filter(|f| f.to_str().unwrap().ends_with("-sw")).cloned().collect();
    let (code, _) = check_json(&world, &["--rules", "strip,dwarf"], &stripped);
    assert_eq!(code, Some(0), "all stripped binaries pass");
}

#[test]
fn bad_files_get_clear_errors_and_the_rest_is_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let binary = go_build(dir.path(), "linux", "amd64", "sw", &["-ldflags=-s -w"]);
    let bytes = std::fs::read(&binary).unwrap();
    let text_file = dir.path().join("notes.txt");
    std::fs::write(&text_file, "not a binary\n").unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, b"\x7fELF\x02\x01\x01garbage garbage garbage garbage").unwrap();
    let missing = dir.path().join("missing");

    let world = World::new();
    let files = vec![text_file, empty, garbage, missing, binary.clone()];
    let (code, report) = check_json(&world, &["--rules", "strip,dwarf"], &files);
    assert_eq!(code, Some(2), "I/O and format errors exit 2");
    let errors: Vec<&str> =
        report["files"].as_array().unwrap().iter().map(|f| f["error"].as_str().unwrap_or("")).collect();
    assert_eq!(errors[0], "not an executable (ELF, Mach-O or PE expected)");
    assert_eq!(errors[1], "empty file");
    assert!(errors[2].starts_with("cannot be read as a binary: "), "{}", errors[2]);
    assert!(errors[3].contains("No such file or directory"), "{}", errors[3]);
    assert_eq!(report["files"][4]["status"], "pass", "the good file is still checked");

    // Every 1 KiB prefix of a real binary: a clear verdict or error for each, never a crash.
    let prefixes = dir.path().join("prefixes");
    std::fs::create_dir(&prefixes).unwrap();
    let mut cut = Vec::new();
    for len in (1024..bytes.len()).step_by(1024) {
        let path = prefixes.join(format!("{len:08}"));
        std::fs::write(&path, &bytes[..len]).unwrap();
        cut.push(path);
    }
    let (code, report) = check_json(&world, &["--rules", "strip,dwarf"], &cut);
    assert_eq!(code, Some(2));
    let reports = report["files"].as_array().unwrap();
    assert_eq!(reports.len(), cut.len());
    // Go writes ELF section headers at the end of the file: every proper prefix lacks them.
    for report in reports {
        assert_eq!(report["status"], "error", "{report}");
        assert!(report["error"].as_str().unwrap().starts_with("cannot be read as a binary: "), "{report}");
    }
}

/// Rewrites the `LC_CODE_SIGNATURE` load command of a thin 64-bit little-endian Mach-O into an unknown command, as if
/// an external tool had dropped the signature.
fn drop_code_signature(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!(u32_at(&bytes, 0), 0xfeedfacf, "64-bit little-endian Mach-O");
    let (ncmds, mut at) = (u32_at(&bytes, 16), 32);
    let mut found = false;
    for _ in 0..ncmds {
        if u32_at(&bytes, at) == 0x1d {
            bytes[at..at + 4].copy_from_slice(&0x1000u32.to_le_bytes());
            found = true;
        }
        at += u32_at(&bytes, at + 4) as usize;
    }
    assert!(found, "the binary had a code signature");
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn pie_buildid_and_macho_verdicts_across_formats_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    // Expected values from the rules (reference/checks.md): Go's internal linker makes ELF ET_EXEC unless
    // -buildmode=pie; darwin and windows executables are PIE by default; -buildid= removes the build ID note or
    // marker, and on darwin also LC_UUID unless -B gives one; Go signs darwin/arm64 executables ad hoc.
    let variants: [(&str, &[&str]); 4] = [
        ("default", &[]),
        ("pie", &["-buildmode=pie"]),
        ("nobid", &["-ldflags=-buildid="]),
        ("all", &["-buildmode=pie", "-ldflags=-s -w -buildid="]),
    ];
    let expected = |goos: &str, variant: &str| -> Vec<&'static str> {
        let mut rules = Vec::new();
        if matches!(variant, "default" | "pie") {
            rules.push("buildid/present");
        }
        if goos == "darwin" && matches!(variant, "nobid" | "all") {
            rules.push("macho/uuid");
        }
        if goos == "linux" && matches!(variant, "default" | "nobid") {
            rules.push("pie/not-pie");
        }
        rules
    };
    let (mut files, mut wanted) = (Vec::new(), Vec::new());
    for goos in ["linux", "darwin", "windows"] {
        for goarch in ["amd64", "arm64"] {
            for (name, flags) in variants {
                files.push(go_build(dir.path(), goos, goarch, name, flags));
                wanted.push(expected(goos, name));
            }
        }
    }
    // darwin/arm64 with -buildid= but an explicit -B 0x… keeps LC_UUID.
    files.push(go_build(
        dir.path(),
        "darwin",
        "arm64",
        "nobid-B",
        &["-ldflags=-buildid= -B 0x0123456789abcdef0123456789abcdef"],
    ));
    wanted.push(vec![]);
    // A signature dropped after the build.
    let unsigned = go_build(dir.path(), "darwin", "arm64", "unsigned", &[]);
    drop_code_signature(&unsigned);
    files.push(unsigned);
    wanted.push(vec!["buildid/present", "macho/signature"]);

    let world = World::new();
    let (code, report) = check_json(&world, &["--rules", "pie,buildid,macho"], &files);
    assert_eq!(code, Some(1));
    for ((file, report), rules) in files.iter().zip(report["files"].as_array().unwrap()).zip(&wanted) {
        assert_eq!(failed_rules(report), *rules, "{}: {report}", file.display());
    }
}

#[test]
fn sarif_output_validates_against_the_2_1_0_schema() {
    let dir = tempfile::tempdir().unwrap();
    let failing = go_build(dir.path(), "linux", "amd64", "default", &[]);
    let passing = go_build(dir.path(), "linux", "amd64", "sw", &["-ldflags=-s -w"]);
    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, "#!/bin/sh\n").unwrap();
    let world = World::new();
    let out = world
        .gohook()
        .args(["check", "--rules", "strip,dwarf", "--format", "sarif"])
        .args([&failing, &passing, &garbage])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();

    // The OASIS schema, as published (copied from the serde-sarif crate into tests/fixtures).
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/fixtures/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&sarif).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "gohook");
    let rule_ids: Vec<&str> =
        run["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(rule_ids.contains(&"strip/symbols") && rule_ids.contains(&"dwarf/present"), "{rule_ids:?}");
    let strip_rule =
        run["tool"]["driver"]["rules"].as_array().unwrap().iter().find(|r| r["id"] == "strip/symbols").unwrap();
    assert_eq!(strip_rule["help"]["text"], "link with -ldflags=\"-s -w\"");
    let results = run["results"].as_array().unwrap();
    let mut found: Vec<(&str, &str)> =
        results.iter().map(|r| (r["ruleId"].as_str().unwrap(), r["level"].as_str().unwrap())).collect();
    found.sort();
    assert_eq!(found, [("dwarf/present", "error"), ("strip/symbols", "error")]);
    for result in results {
        assert_eq!(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            failing.display().to_string()
        );
    }
    let notifications = run["invocations"][0]["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 1);
    assert!(
        notifications[0]["message"]["text"]
            .as_str()
            .unwrap()
            .ends_with("not an executable (ELF, Mach-O or PE expected)")
    );
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
}

/// An LLVM tool from Debian's llvm package (versioned directory, or on PATH).
fn llvm_tool(name: &str) -> PathBuf {
    let versioned = std::fs::read_dir("/usr/lib")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin").join(name))
        .find(|p| p.is_file());
    versioned.unwrap_or_else(|| PathBuf::from(name))
}

#[test]
fn universal_macho_is_checked_slice_by_slice() {
    let dir = tempfile::tempdir().unwrap();
    let amd64 = go_build(dir.path(), "darwin", "amd64", "sw", &["-ldflags=-s -w"]);
    let arm64 = go_build(dir.path(), "darwin", "arm64", "sw", &["-ldflags=-s -w"]);
    let fat = dir.path().join("universal");
    let status = Command::new(llvm_tool("llvm-lipo"))
        .arg("-create")
        .args([&amd64, &arm64])
        .arg("-output")
        .arg(&fat)
        .status()
        .expect("llvm-lipo runs (Debian package llvm)");
    assert!(status.success());
    assert_eq!(std::fs::read(&fat).unwrap()[..4], [0xca, 0xfe, 0xba, 0xbe]);

    let policy = dir.path().join("gohook.toml");
    std::fs::write(&policy, "[plugins.arch]\nsettings = { allow = [\"arm64\"] }\n").unwrap();
    let world = World::new();
    let out = world
        .gohook()
        .current_dir(dir.path())
        .args(["check", "--rules", "arch,strip,dwarf,pie", "--format", "json"])
        .arg(&fat)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["files"][0]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "only the amd64 slice breaks the policy: {findings:?}");
    assert_eq!(findings[0]["rule"], "arch/not-allowed");
    let message = findings[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("image at offset ") && message.contains(" is amd64, which is not allowed (allowed: arm64)"),
        "{message}"
    );
}

#[test]
fn explain_shows_the_go_build_info() {
    let dir = tempfile::tempdir().unwrap();
    let go_version = text(&Command::new("go").args(["env", "GOVERSION"]).output().unwrap().stdout).trim().to_owned();
    let trimmed = go_build(dir.path(), "linux", "amd64", "trimpath", &["-trimpath", "-ldflags=-s -w"]);
    let pie = go_build(dir.path(), "darwin", "arm64", "pie", &["-buildmode=pie", "-ldflags=-s -w"]);
    let plain = go_build(dir.path(), "windows", "amd64", "default", &[]);
    let world = World::new();
    let (code, report) = check_json(&world, &["--rules", "strip", "--explain"], &[trimmed, pie, plain]);
    assert_eq!(code, Some(1), "the unstripped windows binary fails strip");
    let notes: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let note = f["findings"].as_array().unwrap().iter().find(|x| x["rule"] == "buildinfo/summary").unwrap();
            assert_eq!(note["severity"], "note");
            note["message"].as_str().unwrap()
        })
        .collect();
    // -trimpath leaves -ldflags out of the build info (golang/go#52372): the info explains, it never decides.
    assert_eq!(notes[0], format!("{go_version} GOOS=linux GOARCH=amd64 -buildmode=exe -trimpath=true CGO_ENABLED=0"));
    assert_eq!(notes[1], format!("{go_version} GOOS=darwin GOARCH=arm64 -buildmode=pie -ldflags=-s -w CGO_ENABLED=0"));
    assert_eq!(notes[2], format!("{go_version} GOOS=windows GOARCH=amd64 -buildmode=exe CGO_ENABLED=0"));
}

/// readelf's view of an ELF file, to cross-check gohook's verdicts with an independent tool.
fn readelf(path: &Path, flags: &[&str]) -> String {
    let out = Command::new("readelf").args(flags).arg(path).output().expect("readelf (binutils) is installed");
    text(&out.stdout)
}

#[test]
fn elf_verdicts_agree_with_readelf() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for goarch in ["amd64", "arm64"] {
        for (name, flags) in [
            ("default", &[][..]),
            ("pie", &["-buildmode=pie"][..]),
            ("sw", &["-ldflags=-s -w"][..]),
            ("all", &["-buildmode=pie", "-ldflags=-s -w -buildid="][..]),
        ] {
            files.push(go_build(dir.path(), "linux", goarch, name, flags));
        }
    }
    let world = World::new();
    let (_, report) = check_json(&world, &["--rules", "strip,dwarf,pie,buildid"], &files);
    for (file, report) in files.iter().zip(report["files"].as_array().unwrap()) {
        let failed = failed_rules(report);
        let sections = readelf(file, &["-S", "-W"]);
        let has_symtab = sections.lines().any(|l| l.split_whitespace().nth(2) == Some("SYMTAB"));
        let has_debug = sections.contains(".debug_") || sections.contains(".zdebug_");
        let header = readelf(file, &["-h"]);
        let dynamic = readelf(file, &["-d"]);
        let is_pie = header.contains("DYN (") && dynamic.contains("PIE");
        let has_go_note = readelf(file, &["-n"]).lines().any(|l| l.trim_start().starts_with("Go "));
        let name = file.display();
        assert_eq!(failed.contains(&"strip/symbols".to_owned()), has_symtab, "{name}: strip vs readelf -S");
        assert_eq!(failed.contains(&"dwarf/present".to_owned()), has_debug, "{name}: dwarf vs readelf -S");
        assert_eq!(!failed.contains(&"pie/not-pie".to_owned()), is_pie, "{name}: pie vs readelf -h/-d");
        assert_eq!(failed.contains(&"buildid/present".to_owned()), has_go_note, "{name}: buildid vs readelf -n");
    }
}
