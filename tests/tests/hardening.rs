//! The `hardening` check against the tools auditors run: Debian's checksec on ELF, checksec-py and llvm-readobj on
//! PE, llvm-otool on Mach-O — on real Go binaries built here — and, at link, against how the build really went.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use gohook_tests::*;
use object::{Object as _, ObjectSymbol as _};
use serde_json::Value;

/// A main package and a cgo package whose C has a stack buffer (so `-fstack-protector-strong` gives it a canary)
/// and calls `snprintf` (which `_FORTIFY_SOURCE=2` checks). `nonce` keeps go's cache from serving an earlier run.
fn cgo_module(dir: &Path, nonce: &str) {
    std::fs::create_dir_all(dir.join("greet")).unwrap();
    std::fs::write(dir.join("go.mod"), "module example.com/cgo\n\ngo 1.26\n").unwrap();
    std::fs::write(
        dir.join("greet/greet.go"),
        format!(
            "package greet\n\n/*\n#include <stdio.h>\n#include <string.h>\n// {nonce}\nstatic int greet(const char *name) {{\n\
             \tchar buf[64];\n\tsnprintf(buf, sizeof buf, \"hello %s\", name);\n\treturn (int)strlen(buf);\n}}\n*/\n\
             import \"C\"\n\nfunc Greet(name string) int {{ return int(C.greet(C.CString(name))) }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("main.go"),
        "package main\n\nimport \"example.com/cgo/greet\"\n\nfunc main() { println(greet.Greet(\"x\")) }\n",
    )
    .unwrap();
}

fn pure_module(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("go.mod"), "module example.com/pure\n\ngo 1.26\n").unwrap();
    std::fs::write(dir.join("main.go"), RUNTIME_ONLY_MAIN).unwrap();
}

/// `gohook check --rules hardening --format json` on `files`: per file, its findings.
fn hardening_json(dir: &Path, files: &[PathBuf]) -> (Option<i32>, Vec<Value>) {
    let out = World::new()
        .gohook()
        .current_dir(dir)
        .args(["check", "--rules", "hardening", "--format", "json"])
        .args(files)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr)));
    (out.status.code(), report["files"].as_array().unwrap().clone())
}

/// The columns of each `hardening/summary` note of a file (one per image), and the note's help (the n/a reasons).
fn summaries(file: &Value) -> Vec<(BTreeMap<String, String>, String)> {
    file["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "hardening/summary")
        .map(|f| {
            let message = f["message"].as_str().unwrap();
            let columns = message
                .split_whitespace()
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            (columns, f["help"].as_str().unwrap_or("").to_owned())
        })
        .collect()
}

fn checksec_elf(file: &Path) -> BTreeMap<String, String> {
    let out = Command::new("checksec").arg("--output=json").arg(format!("--file={}", file.display())).output();
    let out = out.expect("checksec runs (Debian's package checksec; .ci/run installs it)");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stdout)));
    let (_, fields) = json.as_object().unwrap().iter().next().unwrap();
    fields.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect()
}

/// gohook's column in checksec's spelling.
fn as_checksec(column: &str, value: &str) -> String {
    match (column, value) {
        ("RELRO", "none") => "no".to_owned(),
        ("RPATH" | "RUNPATH", value) if value != "no" => "yes".to_owned(),
        _ => value.to_owned(),
    }
}

/// One ELF build: name, module, CGO_ENABLED, CGO_CFLAGS, go build flags, and the columns the rules give it
/// (reference/checks.md, the table of checksec's answers on Go binaries).
type Variant<'a> = (&'a str, &'a Path, &'a str, &'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);

#[test]
fn elf_verdicts_equal_checksec_wherever_they_apply() {
    let dir = tempfile::tempdir().unwrap();
    let (pure, cgo) = (dir.path().join("pure"), dir.path().join("cgo"));
    pure_module(&pure);
    cgo_module(&cgo, &format!("{}", now_ns()));
    let hardened = "-O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2";
    let matrix: [Variant; 7] = [
        ("pure-static", &pure, "0", "", &[], &[("RELRO", "n/a"), ("CANARY", "n/a"), ("NX", "yes"), ("PIE", "no")]),
        ("pure-pie", &pure, "0", "", &["-buildmode=pie"], &[("RELRO", "partial"), ("CANARY", "n/a"), ("PIE", "yes")]),
        ("cgo-default", &cgo, "1", "", &[], &[("RELRO", "partial"), ("CANARY", "no"), ("FORTIFY", "no")]),
        ("cgo-external-bindnow", &cgo, "1", "", &["-ldflags=-linkmode=external -bindnow"], &[("RELRO", "full")]),
        (
            "cgo-pie-bindnow",
            &cgo,
            "1",
            "",
            &["-buildmode=pie", "-ldflags=-bindnow"],
            &[("RELRO", "full"), ("PIE", "yes")],
        ),
        (
            "cgo-hardened",
            &cgo,
            "1",
            hardened,
            &["-buildmode=pie", "-ldflags=-bindnow"],
            &[("RELRO", "full"), ("CANARY", "yes"), ("FORTIFY", "yes"), ("FORTIFIED", "3/3")],
        ),
        (
            "cgo-rpath",
            &cgo,
            "1",
            "",
            &["-ldflags=-extldflags=-Wl,-rpath,/opt/x"],
            &[("RUNPATH", "/opt/x"), ("RPATH", "no")],
        ),
    ];
    let mut files = Vec::new();
    let mut cgo_runs = Vec::new();
    for (name, module, cgo_enabled, cflags, flags, _) in &matrix {
        let world = World::new();
        let out = dir.path().join(name);
        let mut command = world.gohook();
        command.current_dir(module).env("CGO_ENABLED", cgo_enabled).arg("build").args(*flags).arg("-o").arg(&out);
        if !cflags.is_empty() {
            command.env("CGO_CFLAGS", cflags);
        }
        let built = command.arg(".").output().unwrap();
        assert!(built.status.success(), "{name}: {}", text(&built.stderr));
        cgo_runs.push(world.records(&world.only_build()).stage(Stage::Cgo).len());
        files.push(out);
    }
    let (_, report) = hardening_json(dir.path(), &files);

    for (((name, _, _, _, _, expected), file), (cgo_runs, report)) in
        matrix.iter().zip(&files).zip(cgo_runs.iter().zip(&report))
    {
        let [(columns, not_applicable)] = &summaries(report)[..] else { panic!("{name}: one summary: {report}") };
        for (column, value) in *expected {
            assert_eq!(columns[*column], *value, "{name}: {column} in {columns:?}");
        }
        let checksec = checksec_elf(file);
        let pairs = [
            ("RELRO", "relro"),
            ("CANARY", "canary"),
            ("NX", "nx"),
            ("PIE", "pie"),
            ("RPATH", "rpath"),
            ("RUNPATH", "runpath"),
            ("SYMBOLS", "symbols"),
            ("FORTIFY", "fortify_source"),
        ];
        for (ours, theirs) in pairs {
            if columns[ours] == "n/a" {
                continue;
            }
            assert_eq!(
                as_checksec(ours, &columns[ours]),
                checksec[theirs],
                "{name}: {ours} against checksec {checksec:?}"
            );
        }
        if columns["FORTIFIED"] != "n/a" {
            let (fortified, fortifiable) = columns["FORTIFIED"].split_once('/').unwrap();
            assert_eq!(
                (fortified, fortifiable),
                (checksec["fortified"].as_str(), checksec["fortify-able"].as_str()),
                "{name}"
            );
        }

        // Every n/a with its evidence: the build ran no cgo, and no C is in the file (no C library import, no C
        // compiler's .comment); RELRO n/a only without a dynamic section.
        let bytes = std::fs::read(file).unwrap();
        let binary = object::File::parse(&*bytes).unwrap();
        let imports = binary.dynamic_symbols().filter(|s| s.is_undefined()).count();
        let comment = binary.section_by_name(".comment").is_some();
        if columns["CANARY"] == "n/a" {
            assert_eq!((*cgo_runs, imports, comment), (0, 0, false), "{name}: canary n/a without evidence");
            assert!(not_applicable.contains("pure Go, internal link"), "{name}: {not_applicable}");
            assert_eq!(columns["FORTIFY"], "n/a", "{name}");
        } else {
            assert!(*cgo_runs > 0 || imports > 0, "{name}: C code claimed, no cgo run and no import");
        }
        if columns["RELRO"] == "n/a" {
            assert!(binary.section_by_name(".dynamic").is_none(), "{name}: RELRO n/a with a dynamic section");
            assert!(not_applicable.contains("no dynamic section"), "{name}: {not_applicable}");
        }
    }
    // Only the rpath build breaks the default policy: its RUNPATH leaves the binary's directory.
    let failing: Vec<(&str, Vec<String>)> = matrix
        .iter()
        .zip(&report)
        .map(|((name, ..), file)| (*name, failed_rules(file)))
        .filter(|(_, e)| !e.is_empty())
        .collect();
    assert_eq!(failing, [("cgo-rpath", vec!["hardening/rpath".to_owned()])]);

    // `relro = "full"` fails every dynamically linked file without BIND_NOW; the static one has nothing to protect.
    std::fs::write(dir.path().join("gohook.toml"), "[plugins.hardening.settings]\nrelro = \"full\"\n").unwrap();
    let (_, strict) = hardening_json(dir.path(), &files);
    let relro: Vec<&str> = matrix
        .iter()
        .zip(&strict)
        .filter(|(_, file)| failed_rules(file).iter().any(|rule| rule == "hardening/relro"))
        .map(|((name, ..), _)| *name)
        .collect();
    assert_eq!(relro, ["pure-pie", "cgo-default", "cgo-rpath"]);
}

fn checksec_py(file: &Path) -> BTreeMap<String, bool> {
    let program = repo_root().join("target/py-tools/bin/checksec");
    let out = Command::new(&program).arg("--json").arg(file).output();
    let out = out.unwrap_or_else(|e| panic!("{}: {e} (tools/test installs checksec-py there)", program.display()));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr)));
    let (_, fields) = json.as_object().unwrap().iter().next().unwrap();
    fields.as_object().unwrap().iter().filter_map(|(k, v)| v.as_bool().map(|b| (k.clone(), b))).collect()
}

/// The flag names of `llvm-readobj --file-headers` (Characteristics and DLLCharacteristics).
fn readobj_flags(file: &Path) -> Vec<String> {
    let out = Command::new(llvm_tool("llvm-readobj")).arg("--file-headers").arg(file).output().unwrap();
    let mut flags: Vec<String> = text(&out.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with("IMAGE_"))
        .map(|w| w.split('(').next().unwrap().to_owned())
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

#[test]
fn pe_verdicts_equal_checksec_py_and_llvm_readobj() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for goarch in ["amd64", "arm64"] {
        for mode in ["exe", "pie"] {
            let name = format!("windows-{goarch}-{mode}.exe");
            let flags = [format!("-buildmode={mode}")];
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            files.push(sample_binary(dir.path(), &name, &[("GOOS", "windows"), ("GOARCH", goarch)], &flags));
        }
    }
    let (code, report) = hardening_json(dir.path(), &files);
    assert_eq!(code, Some(0), "no default rule fails a Go PE: {report:?}");
    // The facts: -buildmode=exe drops DYNAMICBASE on amd64 only (arm64 is always PIE); none has CFG or a
    // signature.
    let dynamic_base: Vec<&str> =
        report.iter().map(|f| if summaries(f)[0].0["DYNAMICBASE"] == "yes" { "yes" } else { "no" }).collect();
    assert_eq!(dynamic_base, ["no", "yes", "yes", "yes"]);
    for (file, report) in files.iter().zip(&report) {
        let [(columns, info)] = &summaries(report)[..] else { panic!("{report}") };
        let py = checksec_py(file);
        let flags = readobj_flags(file);
        let has = |flag: &str| if flags.iter().any(|f| f == flag) { "yes" } else { "no" };
        let yes = |b: bool| if b { "yes" } else { "no" };
        for (ours, py_key, readobj) in [
            ("NX", "nx", Some("IMAGE_DLL_CHARACTERISTICS_NX_COMPAT")),
            ("DYNAMICBASE", "dynamic_base", Some("IMAGE_DLL_CHARACTERISTICS_DYNAMIC_BASE")),
            ("HIGH-ENTROPY-VA", "high_entropy_va", Some("IMAGE_DLL_CHARACTERISTICS_HIGH_ENTROPY_VA")),
            ("ASLR", "aslr", None),
            ("CFG", "guard_cf", Some("IMAGE_DLL_CHARACTERISTICS_GUARD_CF")),
            ("FORCE-INTEGRITY", "force_integrity", Some("IMAGE_DLL_CHARACTERISTICS_FORCE_INTEGRITY")),
            ("AUTHENTICODE", "authenticode", None),
        ] {
            assert_eq!(columns[ours], yes(py[py_key]), "{}: {ours} against checksec-py {py:?}", file.display());
            if let Some(flag) = readobj {
                assert_eq!(columns[ours], has(flag), "{}: {ours} against llvm-readobj {flags:?}", file.display());
            }
        }
        let aslr = has("IMAGE_DLL_CHARACTERISTICS_DYNAMIC_BASE") == "yes" && has("IMAGE_FILE_RELOCS_STRIPPED") == "no";
        assert_eq!(columns["ASLR"], yes(aslr), "{}", file.display());
        assert_eq!(columns["WX-SECTIONS"], "no");
        assert!(info.contains("Go's linker emits no Control Flow Guard"), "{info}");
    }
}

/// `llvm-otool -l`'s LC_CODE_SIGNATURE (dataoff), whether it shows a `__PAGEZERO` segment and LC_RPATH, and
/// `-hv`'s PIE flag.
struct OtoolView {
    signature_at: Option<u64>,
    pagezero: bool,
    rpath: bool,
    pie: bool,
}

fn otool(file: &Path) -> OtoolView {
    let load = text(&Command::new(llvm_tool("llvm-otool")).arg("-l").arg(file).output().unwrap().stdout);
    let header = text(&Command::new(llvm_tool("llvm-otool")).arg("-hv").arg(file).output().unwrap().stdout);
    let lines: Vec<&str> = load.lines().map(str::trim).collect();
    let signature_at = lines.iter().position(|l| *l == "cmd LC_CODE_SIGNATURE").map(|at| {
        let line = lines[at..].iter().find(|l| l.starts_with("dataoff ")).unwrap();
        line["dataoff ".len()..].parse().unwrap()
    });
    OtoolView {
        signature_at,
        pagezero: lines.contains(&"segname __PAGEZERO"),
        rpath: lines.contains(&"cmd LC_RPATH"),
        pie: header.lines().last().unwrap().split_whitespace().any(|w| w == "PIE"),
    }
}

/// The CodeDirectory flags at `at`, read here from the SuperBlob's index (big-endian), independently of gohook.
fn code_directory(bytes: &[u8], at: usize) -> (usize, u32) {
    let be = |offset: usize| u32::from_be_bytes(bytes[offset..offset + 4].try_into().unwrap());
    assert_eq!(be(at), 0xfade_0cc0, "embedded signature magic");
    let slots = be(at + 8) as usize;
    let directory = (0..slots).find(|i| be(at + 12 + 8 * i) == 0).expect("a CodeDirectory slot");
    let cd = at + be(at + 16 + 8 * directory) as usize;
    assert_eq!(be(cd), 0xfade_0c02, "CodeDirectory magic");
    (cd + 12, be(cd + 12))
}

#[test]
fn macho_verdicts_equal_llvm_otool_and_the_code_directory() {
    let dir = tempfile::tempdir().unwrap();
    let arm64 = sample_binary(dir.path(), "darwin-arm64", &[("GOOS", "darwin"), ("GOARCH", "arm64")], &[]);
    let amd64 = sample_binary(dir.path(), "darwin-amd64", &[("GOOS", "darwin"), ("GOARCH", "amd64")], &[]);
    let universal = dir.path().join("darwin-universal");
    universal_macho(&[&amd64, &arm64], &universal);
    // The hardened runtime, as `codesign -o runtime` sets it: the arm64 binary with CS_RUNTIME added to its flags.
    let runtime = dir.path().join("darwin-arm64-runtime");
    let mut bytes = std::fs::read(&arm64).unwrap();
    let (flags_at, flags) = code_directory(&bytes, otool(&arm64).signature_at.unwrap() as usize);
    bytes[flags_at..flags_at + 4].copy_from_slice(&(flags | 0x1_0000).to_be_bytes());
    std::fs::write(&runtime, bytes).unwrap();

    let files = [arm64.clone(), amd64.clone(), runtime.clone(), universal.clone()];
    let (code, report) = hardening_json(dir.path(), &files);
    assert_eq!(code, Some(0), "{report:?}");
    let rows: Vec<Vec<BTreeMap<String, String>>> =
        report.iter().map(|f| summaries(f).into_iter().map(|(c, _)| c).collect()).collect();
    for (file, rows) in files[..3].iter().zip(&rows) {
        let view = otool(file);
        let columns = &rows[0];
        let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
        assert_eq!(columns["PIE"], yes(view.pie), "{}", file.display());
        assert_eq!(columns["PAGEZERO"], yes(view.pagezero), "{}", file.display());
        assert!(!view.rpath, "{}: go links no LC_RPATH", file.display());
        assert_eq!(columns["RPATH"], "no", "{}", file.display());
        match view.signature_at {
            None => assert_eq!((columns["SIGNATURE"].as_str(), columns["CD-FLAGS"].as_str()), ("none", "0x0")),
            Some(at) => {
                let (_, flags) = code_directory(&std::fs::read(file).unwrap(), at as usize);
                assert_eq!(columns["CD-FLAGS"], format!("{flags:#x}"), "{}", file.display());
                assert_eq!(columns["SIGNATURE"], if flags & 2 != 0 { "ad-hoc" } else { "identity" });
                assert_eq!(columns["HARDENED-RUNTIME"], yes(flags & 0x1_0000 != 0));
            }
        }
    }
    // Go's linker signs darwin/arm64 ad-hoc (CS_ADHOC | CS_LINKER_SIGNED) and leaves darwin/amd64 unsigned.
    let signatures: Vec<(&str, &str)> =
        rows[..3].iter().map(|r| (r[0]["SIGNATURE"].as_str(), r[0]["CD-FLAGS"].as_str())).collect();
    assert_eq!(signatures, [("ad-hoc", "0x20002"), ("none", "0x0"), ("ad-hoc", "0x30002")]);
    // The universal binary: one row per slice, each the thin binary's.
    assert_eq!(rows[3], [rows[1][0].clone(), rows[0][0].clone()]);

    // What a policy asks: a real identity fails Go's ad-hoc signature and the unsigned amd64 slice; the hardened
    // runtime fails all but the re-signed file.
    let policies = [
        (
            "signature = \"identity\"",
            vec![
                vec!["hardening/signature"],
                vec!["hardening/signature"],
                vec!["hardening/signature"],
                vec!["hardening/signature"; 2],
            ],
        ),
        ("signature = \"ad-hoc\"", vec![vec![], vec!["hardening/signature"], vec![], vec!["hardening/signature"]]),
        (
            "hardened_runtime = true",
            vec![
                vec!["hardening/hardened-runtime"],
                vec!["hardening/hardened-runtime"],
                vec![],
                vec!["hardening/hardened-runtime"; 2],
            ],
        ),
    ];
    for (setting, expected) in policies {
        std::fs::write(dir.path().join("gohook.toml"), format!("[plugins.hardening.settings]\n{setting}\n")).unwrap();
        let (code, report) = hardening_json(dir.path(), &files);
        assert_eq!(code, Some(1), "{setting}");
        let got: Vec<Vec<String>> = report.iter().map(failed_rules).collect();
        assert_eq!(got, expected, "{setting}");
    }
}

#[test]
fn at_link_a_cgo_package_without_a_stack_protector_fails_the_build_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (pure, cgo) = (dir.path().join("pure"), dir.path().join("cgo"));
    pure_module(&pure);
    cgo_module(&cgo, &format!("{}", now_ns()));
    for module in [&pure, &cgo] {
        std::fs::write(module.join("gohook.toml"), "[plugins.hardening]\n").unwrap();
    }
    let build = |module: &Path, cflags: Option<&str>| {
        let world = World::new();
        let mut command = world.gohook();
        command.current_dir(module).env("CGO_ENABLED", "1").args(["build", "-o", "app", "."]);
        if let Some(cflags) = cflags {
            command.env("CGO_CFLAGS", cflags);
        }
        let out = command.output().unwrap();
        let records = world.records(&world.only_build());
        (out, records)
    };

    let (out, records) = build(&cgo, None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "error[hardening/c-stack-protector] example.com/cgo/greet: none of its C functions checks a stack canary"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("CGO_CFLAGS=\"-O2 -g -fstack-protector-strong\""), "{stderr}");
    assert!(records.stage(Stage::Link).is_empty(), "the build stopped before the link");
    let failed: Vec<&str> = records
        .runs
        .iter()
        .filter(|r| r.findings.iter().any(|f| f.severity == FindingLevel::Error))
        .map(|r| r.package.as_str())
        .collect();
    assert_eq!(failed, ["example.com/cgo/greet"]);

    let (out, records) = build(&cgo, Some("-O2 -g -fstack-protector-strong"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let link = records.stage(Stage::Link);
    let summary = link[0].findings.iter().find(|f| f.rule == "hardening/summary").expect("the link's summary");
    assert!(summary.message.contains("CANARY=yes"), "{}", summary.message);
    // runtime/cgo is Go's own, built with -fno-stack-protector on purpose: a note when its cgo step ran.
    for run in records.stage(Stage::Cgo) {
        let levels: Vec<FindingLevel> = run.findings.iter().map(|f| f.severity).collect();
        assert!(!levels.contains(&FindingLevel::Error), "{}: {:?}", run.package, run.findings);
    }

    let (out, records) = build(&pure, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let findings: Vec<(FindingLevel, &str)> =
        records.stage(Stage::Link)[0].findings.iter().map(|f| (f.severity, f.rule.as_str())).collect();
    assert_eq!(findings, [(FindingLevel::Note, "hardening/summary")]);
    let summary = &records.stage(Stage::Link)[0].findings[0].message;
    assert!(summary.contains("CANARY=n/a") && summary.contains("FORTIFY=n/a"), "{summary}");
}

#[test]
fn truncated_and_corrupt_binaries_are_reported_never_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (goos, goarch) in [("linux", "amd64"), ("windows", "amd64"), ("darwin", "arm64")] {
        let full = std::fs::read(sample_binary(dir.path(), goos, &[("GOOS", goos), ("GOARCH", goarch)], &[])).unwrap();
        let truncated = dir.path().join(format!("{goos}-truncated"));
        std::fs::write(&truncated, &full[..full.len().min(200)]).unwrap();
        // The header kept, every table after it overwritten.
        let mut corrupt = full.clone();
        for byte in corrupt.iter_mut().skip(64).step_by(7) {
            *byte = 0xff;
        }
        let corrupt_path = dir.path().join(format!("{goos}-corrupt"));
        std::fs::write(&corrupt_path, corrupt).unwrap();
        files.extend([truncated, corrupt_path]);
    }
    let (code, report) = hardening_json(dir.path(), &files);
    assert_eq!(code, Some(2), "{report:?}");
    // Cut short: the file cannot be read, and says so. Overwritten tables: either that, or verdicts on what is left
    // (a garbled ELF's program headers lose PT_GNU_STACK); never a crash or an empty answer.
    for (file, report) in files.iter().zip(&report) {
        let name = file.file_name().unwrap().to_string_lossy();
        match report["status"].as_str().unwrap() {
            "error" => assert!(!report["error"].as_str().unwrap().is_empty(), "{report}"),
            "fail" if name.ends_with("-corrupt") => assert!(!failed_rules(report).is_empty(), "{report}"),
            other => panic!("{name}: {other}: {report}"),
        }
    }
    let truncated: Vec<&str> = report.iter().step_by(2).map(|f| f["status"].as_str().unwrap()).collect();
    assert_eq!(truncated, ["error"; 3]);
}
