//! `gohook check` on real binaries that Go builds in the test run, for every format gohook reads.

use std::path::{Path, PathBuf};
use std::process::Command;

use gohook_tests::*;
use serde_json::Value;

/// Builds the sample for a target with extra go build flags (CGO_ENABLED=0).
fn go_build(out_dir: &Path, goos: &str, goarch: &str, name: &str, flags: &[&str]) -> PathBuf {
    sample_binary(out_dir, &format!("{goos}-{goarch}-{name}"), &[("GOOS", goos), ("GOARCH", goarch)], flags)
}

fn check_json(world: &World, args: &[&str], files: &[PathBuf]) -> (Option<i32>, Value) {
    let out = world.gohook().arg("check").args(args).args(["--format", "json"]).args(files).output().unwrap();
    (out.status.code(), serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr))))
}

/// `gohook check --format json` in `dir` under a `gohook.toml` written there with `policy`.
fn check_under_policy(dir: &Path, policy: &str, rules: &str, files: &[PathBuf]) -> (Option<i32>, Value) {
    std::fs::write(dir.join("gohook.toml"), policy).unwrap();
    let out = World::new()
        .gohook()
        .current_dir(dir)
        .args(["check", "--rules", rules, "--format", "json"])
        .args(files)
        .output()
        .unwrap();
    (out.status.code(), serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr))))
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

    // --exit-zero, for the CI step that uploads the SARIF: findings exit 0, errors still exit 2.
    let exit_zero = |files: &[&PathBuf]| {
        let out = world
            .gohook()
            .args(["check", "--rules", "strip,dwarf", "--format", "sarif", "--exit-zero"])
            .args(files)
            .output()
            .unwrap();
        let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), sarif["runs"][0]["results"].as_array().unwrap().len())
    };
    assert_eq!(exit_zero(&[&failing, &passing]), (Some(0), 2), "findings reported, exit 0");
    assert_eq!(exit_zero(&[&failing, &garbage]), (Some(2), 2), "an unreadable file still exits 2");
}

#[test]
fn universal_macho_is_checked_slice_by_slice() {
    let dir = tempfile::tempdir().unwrap();
    let amd64 = go_build(dir.path(), "darwin", "amd64", "sw", &["-ldflags=-s -w"]);
    let arm64 = go_build(dir.path(), "darwin", "arm64", "sw", &["-ldflags=-s -w"]);
    let fat = dir.path().join("universal");
    universal_macho(&[&amd64, &arm64], &fat);
    assert_eq!(std::fs::read(&fat).unwrap()[..4], [0xca, 0xfe, 0xba, 0xbe]);

    let policy = "[plugins.arch]\nsettings = { allow = [\"arm64\"] }\n";
    let (code, report) = check_under_policy(dir.path(), policy, "arch,strip,dwarf,pie", &[fat]);
    assert_eq!(code, Some(1));
    let findings = report["files"][0]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "only the amd64 slice breaks the policy: {findings:?}");
    assert_eq!(findings[0]["rule"], "arch/not-allowed");
    let message = findings[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the slice at offset ")
            && message.ends_with(" is amd64, which is not allowed (allowed: arm64)"),
        "{message}"
    );
    // A thin binary is one image: named as the binary, not by an offset.
    let (_, report) = check_under_policy(dir.path(), policy, "arch", &[amd64]);
    let findings = report["files"][0]["findings"].as_array().unwrap();
    assert_eq!(findings[0]["message"], "the binary is amd64, which is not allowed (allowed: arm64)");
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

/// The binaries the agreement tests compare verdicts on: amd64 and arm64 × default, PIE, stripped, and all of it
/// with no build id.
fn agreement_matrix(dir: &Path, systems: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for goos in systems {
        for goarch in ["amd64", "arm64"] {
            for (name, flags) in [
                ("default", &[][..]),
                ("pie", &["-buildmode=pie"][..]),
                ("sw", &["-ldflags=-s -w"][..]),
                ("all", &["-buildmode=pie", "-ldflags=-s -w -buildid="][..]),
            ] {
                files.push(go_build(dir, goos, goarch, name, flags));
            }
        }
    }
    files
}

/// readelf's view of an ELF file, to cross-check gohook's verdicts with an independent tool.
fn readelf(path: &Path, flags: &[&str]) -> String {
    let out = Command::new("readelf").args(flags).arg(path).output().expect("readelf (binutils) is installed");
    text(&out.stdout)
}

#[test]
fn elf_verdicts_agree_with_readelf() {
    let dir = tempfile::tempdir().unwrap();
    let files = agreement_matrix(dir.path(), &["linux"]);
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

/// Builds a small cgo program for linux/amd64 with the external linker (gcc).
fn cgo_build(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let src = dir.join("cgo-src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("go.mod"), "module cgosample\n\ngo 1.22\n").unwrap();
    std::fs::write(
        src.join("main.go"),
        "package main\n\n// int add(int a, int b) { return a + b; }\nimport \"C\"\nimport \"fmt\"\n\n\
         func main() { fmt.Println(C.add(1, 2)) }\n",
    )
    .unwrap();
    let out = dir.join(format!("cgo-{name}"));
    let result = Command::new("go")
        .current_dir(&src)
        .env("GOFLAGS", "")
        .env("CGO_ENABLED", "1")
        .env("GOOS", "linux")
        .env("GOARCH", "amd64")
        .arg("build")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(".")
        .output()
        .unwrap();
    assert!(result.status.success(), "cgo build {flags:?}: {}", text(&result.stderr));
    let run = Command::new(&out).output().unwrap();
    assert_eq!(text(&run.stdout), "3\n", "{} runs", out.display());
    out
}

#[test]
fn external_linked_cgo_and_static_pie_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    // From the rules: Go asks gcc for a non-PIE executable unless -buildmode=pie; -s/-w reach the external linker as
    // -Wl,-s / -Wl,-S; static-pie is ET_DYN with DF_1_PIE and no PT_INTERP, and still PIE.
    let static_pie = "-linkmode=external -extldflags=-static-pie";
    let cases: [(&str, Vec<String>, &[&str]); 5] = [
        (
            "ext",
            vec!["-ldflags=-linkmode=external".into()],
            &["buildid/present", "dwarf/present", "pie/not-pie", "strip/symbols"],
        ),
        ("ext-sw", vec!["-ldflags=-linkmode=external -s -w".into()], &["buildid/present", "pie/not-pie"]),
        ("ext-pie-all", vec!["-buildmode=pie".into(), "-ldflags=-linkmode=external -s -w -buildid=".into()], &[]),
        (
            "static-pie",
            vec!["-buildmode=pie".into(), format!("-ldflags={static_pie}")],
            &["buildid/present", "dwarf/present", "strip/symbols"],
        ),
        ("static-pie-all", vec!["-buildmode=pie".into(), format!("-ldflags={static_pie} -s -w -buildid=")], &[]),
    ];
    let mut files = Vec::new();
    for (name, flags, _) in &cases {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        files.push(cgo_build(dir.path(), name, &flags));
    }
    let static_header = readelf(&files[3], &["-l", "-d"]);
    assert!(!static_header.contains("INTERP") && static_header.contains("PIE"), "a real static-pie: {static_header}");

    let world = World::new();
    let (code, report) = check_json(&world, &["--rules", "strip,dwarf,pie,buildid,arch"], &files);
    assert_eq!(code, Some(1));
    for ((name, _, failures), report) in cases.iter().zip(report["files"].as_array().unwrap()) {
        assert_eq!(failed_rules(report), *failures, "{name}: {report}");
    }
}

#[test]
fn buildid_pattern_matches_the_whole_id() {
    let dir = tempfile::tempdir().unwrap();
    let release = go_build(dir.path(), "linux", "amd64", "release", &["-ldflags=-buildid=rel-1.4.2"]);
    let prefixed = go_build(dir.path(), "linux", "amd64", "prefixed", &["-ldflags=-buildid=xrel-1.4.2"]);
    let hashed = go_build(dir.path(), "darwin", "arm64", "hashed", &[]);
    let absent = go_build(dir.path(), "windows", "amd64", "absent", &["-ldflags=-buildid="]);
    let policy = "[plugins.buildid]\nsettings = { pattern = 'rel-[0-9.]+' }\n";
    let (code, report) =
        check_under_policy(dir.path(), policy, "buildid", &[release.clone(), prefixed, hashed, absent]);
    assert_eq!(code, Some(1));
    let files = report["files"].as_array().unwrap();
    let rules: Vec<Vec<String>> = files.iter().map(failed_rules).collect();
    assert_eq!(
        rules,
        [
            vec![],
            vec!["buildid/mismatch".to_owned()],
            vec!["buildid/mismatch".to_owned()],
            vec!["buildid/absent".to_owned()]
        ]
    );
    assert_eq!(files[1]["findings"][0]["message"], "Go build ID \"xrel-1.4.2\" does not match \"rel-[0-9.]+\"");

    // A pattern that cannot hold together with `require = "absent"` is a settings error, not a silent pass.
    let policy = "[plugins.buildid]\nsettings = { require = 'absent', pattern = 'rel-.*' }\n";
    let (_, report) = check_under_policy(dir.path(), policy, "buildid", &[release]);
    assert_eq!(failed_rules(&report["files"][0]), ["buildid/settings"]);
}

/// What LLVM's readers say about a Mach-O or PE file, to cross-check gohook with tools that resolve Mach-O load
/// commands and COFF long section names on their own.
struct LlvmView {
    has_symbols: bool,
    has_dwarf: bool,
    pie: bool,
    arm64: bool,
    uuid: bool,
    signature: bool,
}

fn llvm_view(path: &Path) -> LlvmView {
    let readobj = |flags: &[&str]| {
        let out = Command::new(llvm_tool("llvm-readobj")).args(flags).arg(path).output().expect("llvm-readobj runs");
        assert!(out.status.success(), "llvm-readobj {flags:?} {}", path.display());
        text(&out.stdout)
    };
    let field = |text: &str, key: &str| -> Option<String> {
        text.lines().find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_owned()))
    };
    let headers = readobj(&["--file-headers"]);
    let section_names: Vec<String> = readobj(&["--sections"])
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Name: ").map(|n| n.split(" (").next().unwrap().to_owned()))
        .collect();
    let has_dwarf = section_names
        .iter()
        .any(|n| ["__debug_", "__zdebug_", ".debug_", ".zdebug_"].iter().any(|prefix| n.starts_with(prefix)));
    if headers.contains("Format: Mach-O") {
        let dysymtab = readobj(&["--macho-dysymtab"]);
        let load_commands = text(&Command::new(llvm_tool("llvm-otool")).arg("-l").arg(path).output().unwrap().stdout);
        LlvmView {
            has_symbols: field(&dysymtab, "nlocalsym:").unwrap() != "0",
            has_dwarf,
            pie: headers.contains("FileType: Executable") && headers.contains("MH_PIE"),
            arm64: headers.contains("CpuType: Arm64"),
            uuid: load_commands.lines().any(|l| l.trim() == "cmd LC_UUID"),
            signature: load_commands.lines().any(|l| l.trim() == "cmd LC_CODE_SIGNATURE"),
        }
    } else {
        assert!(headers.contains("Format: COFF"), "{headers}");
        let pe32_plus = field(&headers, "Magic:").unwrap() == "0x20B";
        let relocs = field(&headers, "BaseRelocationTableSize:").unwrap() != "0x0";
        LlvmView {
            has_symbols: field(&headers, "SymbolCount:").unwrap() != "0",
            has_dwarf,
            pie: headers.contains("IMAGE_DLL_CHARACTERISTICS_DYNAMIC_BASE")
                && !headers.contains("IMAGE_FILE_RELOCS_STRIPPED")
                && relocs
                && (!pe32_plus || headers.contains("IMAGE_DLL_CHARACTERISTICS_HIGH_ENTROPY_VA")),
            arm64: headers.contains("IMAGE_FILE_MACHINE_ARM64"),
            uuid: false,
            signature: false,
        }
    }
}

/// `go tool buildid` reads the Go build ID marker at the start of text on Mach-O and PE (its GNU fallback is ELF
/// only).
fn go_tool_buildid(path: &Path) -> Option<String> {
    let out = Command::new("go").args(["tool", "buildid"]).arg(path).output().unwrap();
    let id = text(&out.stdout).trim().to_owned();
    (out.status.success() && !id.is_empty()).then_some(id)
}

#[test]
fn macho_and_pe_verdicts_agree_with_llvm_readobj() {
    let dir = tempfile::tempdir().unwrap();
    let files = agreement_matrix(dir.path(), &["darwin", "windows"]);
    let policy = "[plugins.arch]\nsettings = { allow = [\"arm64\"] }\n";
    let (_, report) = check_under_policy(dir.path(), policy, "strip,dwarf,pie,buildid,arch,macho", &files);
    for (file, report) in files.iter().zip(report["files"].as_array().unwrap()) {
        let failed = failed_rules(report);
        let fails = |rule: &str| failed.iter().any(|r| r == rule);
        let llvm = llvm_view(file);
        let name = file.display();
        assert_eq!(fails("strip/symbols"), llvm.has_symbols, "{name}: strip vs llvm-readobj: {failed:?}");
        assert_eq!(fails("dwarf/present"), llvm.has_dwarf, "{name}: dwarf vs llvm-readobj --sections");
        assert_eq!(!fails("pie/not-pie"), llvm.pie, "{name}: pie vs llvm-readobj --file-headers");
        assert_eq!(!fails("arch/not-allowed"), llvm.arm64, "{name}: arch vs llvm-readobj --file-headers");
        assert_eq!(fails("buildid/present"), go_tool_buildid(file).is_some(), "{name}: buildid vs go tool buildid");
        if name.to_string().contains("darwin-arm64") {
            assert_eq!(!fails("macho/signature"), llvm.signature, "{name}: signature vs llvm-otool -l");
        }
        if name.to_string().contains("darwin") {
            assert_eq!(!fails("macho/uuid"), llvm.uuid, "{name}: LC_UUID vs llvm-otool -l");
        }
    }
}

#[test]
fn without_a_policy_the_report_says_how_many_checks_failed_and_how_to_choose_and_explain_adds_what_passed() {
    let dir = tempfile::tempdir().unwrap();
    let plain = go_build(dir.path(), "linux", "amd64", "plain", &[]);
    let world = World::new();
    let run = |args: &[&str]| {
        let out = world.gohook().current_dir(dir.path()).arg("check").args(args).arg(&plain).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let report = run(&[]);
    let path = plain.display();
    // A plain `go build` keeps its symbols, DWARF and build id and is not PIE: four of the seven built-in checks (the
    // build info explains, and runs with --explain) fail it.
    assert!(report.contains(&format!("{path}: FAIL (4 of 7 checks failed: buildid, dwarf, pie, strip)\n")), "{report}");
    assert!(
        report.contains(
            "no gohook.toml, so every built-in check ran with its defaults; not every one fits every binary: keep the \
             checks you want in gohook.toml ([plugins.buildid] [plugins.dwarf] [plugins.pie] [plugins.strip] …) or \
             name them with --rules buildid,dwarf,pie,strip\n"
        ),
        "{report}"
    );
    assert!(!report.contains("note[buildinfo/summary]") && !report.contains("passed:"), "{report}");
    let explained = run(&["--explain"]);
    assert_ne!(explained, report, "--explain adds to the report");
    assert!(explained.contains("  note[buildinfo/summary] go1."), "{explained}");
    assert!(explained.contains("  passed: arch, hardening, macho\n"), "{explained}");
    assert!(explained.contains(": FAIL (4 of 7 checks failed: buildid, dwarf, pie, strip)\n"), "{explained}");
}

/// A program that writes out and runs a helper it embeds (`go:embed`), built for linux/arm64 through gohook with the
/// `arch` plugin: an x86-64 helper fails the link and `gohook check` names it at its exact offset; an arm64 helper
/// passes both.
#[test]
fn an_embedded_executable_for_another_architecture_fails_the_link_and_the_check() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let policy = "[plugins.arch]\n";
    for (helper_arch, foreign) in [("amd64", true), ("arm64", false)] {
        let helper = go_build(dir.path(), "linux", helper_arch, "helper", &["-ldflags=-s -w"]);
        let module = dir.path().join(format!("carries-{helper_arch}"));
        std::fs::create_dir_all(&module).unwrap();
        std::fs::copy(&helper, module.join("helper.bin")).unwrap();
        std::fs::write(module.join("go.mod"), "module example.com/carrier\n\ngo 1.22\n").unwrap();
        std::fs::write(
            module.join("main.go"),
            "package main\n\nimport _ \"embed\"\n\n//go:embed helper.bin\nvar helper []byte\n\nfunc main() { println(len(helper)) }\n",
        )
        .unwrap();
        std::fs::write(module.join("gohook.toml"), policy).unwrap();
        let target = [("GOOS", "linux"), ("GOARCH", "arm64"), ("CGO_ENABLED", "0"), ("GOFLAGS", "")];

        let linked = world
            .gohook()
            .current_dir(&module)
            .envs(target)
            .args(["build", "-o", "through-gohook", "."])
            .output()
            .unwrap();
        let stderr = text(&linked.stderr);
        if foreign {
            assert_eq!(linked.status.code(), Some(1), "{stderr}");
            assert!(stderr.contains("error[arch/embedded-foreign] the ELF embedded at offset "), "{stderr}");
            assert!(stderr.contains(" is amd64, but the image it is in is arm64"), "{stderr}");
        } else {
            assert!(linked.status.success(), "an arm64 helper in an arm64 binary: {stderr}");
        }

        let plain = module.join("plain");
        let built =
            Command::new("go").current_dir(&module).envs(target).args(["build", "-o"]).arg(&plain).arg(".").status();
        assert!(built.unwrap().success());
        let (code, report) = check_under_policy(&module, policy, "arch", std::slice::from_ref(&plain));
        let findings = report["files"][0]["findings"].as_array().unwrap().clone();
        if foreign {
            let binary = std::fs::read(&plain).unwrap();
            let head = &std::fs::read(&helper).unwrap()[..256];
            let offset = binary.windows(head.len()).position(|w| w == head).expect("the helper's bytes are in it");
            assert_eq!(code, Some(1));
            assert_eq!(findings.len(), 1, "{findings:?}");
            assert_eq!(findings[0]["rule"], "arch/embedded-foreign");
            assert_eq!(
                findings[0]["message"],
                format!("the ELF embedded at offset {offset} is amd64, but the image it is in is arm64")
            );
        } else {
            assert_eq!((code, findings.len()), (Some(0), 0), "{findings:?}");
        }
    }
}

#[test]
fn a_target_the_binary_was_not_built_for_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::new();
    let mac = go_build(dir.path(), "darwin", "arm64", "sw", &["-ldflags=-s -w"]);
    let linux = go_build(dir.path(), "linux", "amd64", "sw", &["-ldflags=-s -w"]);
    let amd64 = go_build(dir.path(), "darwin", "amd64", "sw", &["-ldflags=-s -w"]);
    let fat = dir.path().join("universal");
    universal_macho(&[&amd64, &mac], &fat);
    let check = |target: &str, file: &Path| {
        let out = world.gohook().args(["check", "--rules", "strip", "--target", target]).arg(file).output().unwrap();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    // Right: the platform from the build info, the variant too where go records it (GOAMD64), a universal binary
    // as goreleaser's darwin_all.
    for (target, file) in
        [("darwin_arm64", &mac), ("darwin_arm64_v8.0", &mac), ("linux_amd64_v1", &linux), ("darwin_all", &fat)]
    {
        let (code, stdout, _) = check(target, file);
        assert_eq!(
            (code, stdout),
            (Some(0), format!("{}: ok (strip)\n1 file: 1 passed, 0 failed, 0 could not be checked\n", file.display())),
            "{target}"
        );
    }
    // Wrong: each names what the binary is and what --target said.
    let wrong = [
        ("linux_386_sse2", &mac, "built for darwin/arm64, not linux/386 (--target linux_386_sse2)"),
        ("linux_amd64_v3", &linux, "built for linux/amd64 with GOAMD64=v1, not v3 (--target linux_amd64_v3)"),
        ("darwin_all", &mac, "built for darwin/arm64, not darwin/arm64+amd64 (universal) (--target darwin_all)"),
        ("windows_arm64", &fat, "built for darwin/amd64 + darwin/arm64, not windows/arm64 (--target windows_arm64)"),
    ];
    for (target, file, why) in wrong {
        let (code, stdout, _) = check(target, file);
        assert_eq!(code, Some(2), "{target}: {stdout}");
        assert!(stdout.starts_with(&format!("{}: error: {why}\n", file.display())), "{target}: {stdout}");
    }
    // Unknown: refused before anything is checked.
    let (code, stdout, stderr) = check("bogus", &mac);
    assert_eq!((code, stdout.as_str()), (Some(2), ""));
    assert_eq!(
        stderr,
        "gohook: --target bogus: not a target go builds (unknown goos \"bogus\"); goreleaser names targets \
         goos_goarch[_variant], e.g. linux_amd64_v1, darwin_arm64_v8.0, darwin_all\n"
    );
}
