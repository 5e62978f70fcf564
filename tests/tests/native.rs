//! Native all the way down: `gohook doctor` on toolchains laid out as GOROOTs from executables the machine's go
//! cross-builds for darwin, and `gohook archdeps` on a module built to hold each kind of finding.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gohook_tests::{World, host_target, repo_root, text};
use serde_json::Value;

/// A GOROOT under `dir` whose `bin/go`, `pkg/tool/darwin_GOARCH/compile` and `link` are darwin/GOARCH Mach-O
/// executables (a small Go program, cross-built: what counts is the header, not what the program does).
fn fixture_goroot(dir: &Path, goarch: &str) -> PathBuf {
    let src = dir.join(format!("src-{goarch}"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("go.mod"), "module example.com/tool\n\ngo 1.24\n").unwrap();
    std::fs::write(src.join("main.go"), "package main\n\nfunc main() {}\n").unwrap();
    let executable = dir.join(format!("tool-{goarch}"));
    let out = World::new()
        .command("go")
        .current_dir(&src)
        .env("GOOS", "darwin")
        .env("GOARCH", goarch)
        .args(["build", "-o"])
        .arg(&executable)
        .arg(".")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let root = dir.join(format!("go-{goarch}"));
    let tools = root.join(format!("pkg/tool/darwin_{goarch}"));
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(&tools).unwrap();
    for place in [root.join("bin/go"), tools.join("compile"), tools.join("link")] {
        std::fs::copy(&executable, place).unwrap();
    }
    root
}

fn go_version() -> String {
    let out = Command::new("go").args(["env", "GOVERSION"]).output().unwrap();
    text(&out.stdout).trim().to_owned()
}

/// `gohook doctor --host darwin/arm64 --format json` with `path_first` ahead of the machine's PATH, in a home and a
/// module cache of its own (so no toolchain of this machine's user is listed).
fn doctor(world: &World, path_first: &[&Path], env: &[(&str, &str)]) -> (Option<i32>, Vec<Value>) {
    let home = world.root.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut path: Vec<PathBuf> = path_first.iter().map(|p| p.to_path_buf()).collect();
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    let out = world
        .gohook()
        .current_dir(world.root.path())
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("HOME", &home)
        .env("GOMODCACHE", home.join("mod"))
        .env_remove("GOHOOK_GO")
        .envs(env.iter().copied())
        .args(["doctor", "--host", "darwin/arm64", "--format", "json"])
        .output()
        .unwrap();
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    (out.status.code(), findings)
}

fn of_check<'a>(findings: &'a [Value], check: &str) -> Vec<(&'a str, &'a str, &'a str)> {
    findings
        .iter()
        .filter(|f| f["check"] == check)
        .map(|f| (f["level"].as_str().unwrap(), f["message"].as_str().unwrap(), f["fix"].as_str().unwrap_or("")))
        .collect()
}

#[test]
fn doctor_names_each_foreign_toolchain_executable_and_lists_every_go_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let intel = fixture_goroot(dir.path(), "amd64");
    let native = fixture_goroot(dir.path(), "arm64");
    let version = go_version();
    let world = World::new();
    // An Intel toolchain an Intel go once fetched into the module cache for GOTOOLCHAIN=go1.27.3.
    let module = world.root.path().join("home/mod/golang.org/toolchain@v0.0.1-go1.27.3.darwin-amd64");
    std::fs::create_dir_all(module.join("bin")).unwrap();
    std::fs::copy(intel.join("bin/go"), module.join("bin/go")).unwrap();

    let (code, findings) = doctor(&world, &[&intel.join("bin"), &native.join("bin")], &[("GOARCH", "amd64")]);
    assert_eq!(code, Some(1));
    let go = of_check(&findings, "go");
    assert_eq!(go[0].0, "fail");
    assert!(go[0].1.ends_with("it is an executable for another machine (Exec format error (os error 8))"), "{go:?}");
    assert_eq!(of_check(&findings, "machine"), [("ok", "darwin/arm64 (declared with --host)", "")]);
    let rosetta = "not arm64: it runs under Rosetta 2, builds 2-3x slower, and builds darwin/amd64 binaries by default";
    let fix =
        format!("{version} arm64 is installed: put {}/bin first on PATH (or set GOHOOK_GO to it)", native.display());
    let expected: Vec<(String, String, String)> =
        ["bin/go", "pkg/tool/darwin_amd64/compile", "pkg/tool/darwin_amd64/link"]
            .iter()
            .map(|file| ("fail".to_owned(), format!("{}/{file} is amd64, {rosetta}", intel.display()), fix.clone()))
            .collect();
    let toolchain: Vec<(String, String, String)> = of_check(&findings, "toolchain")
        .into_iter()
        .map(|(level, message, fix)| (level.to_owned(), message.to_owned(), fix.to_owned()))
        .collect();
    assert_eq!(toolchain, expected);
    // Both fixtures, in PATH order, the first one used; then whatever this machine has.
    let found = of_check(&findings, "go-found");
    assert_eq!(found[0].0, "warn");
    assert_eq!(found[0].1, format!("1. {}/bin/go {version} amd64 (PATH entry 1, used): not arm64", intel.display()));
    assert_eq!(found[1], ("ok", format!("2. {}/bin/go {version} arm64 (PATH entry 2)", native.display()).as_str(), ""));
    let fetched = format!(
        "{}/bin/go {version} amd64 (toolchain module, run for GOTOOLCHAIN=go1.27.3): not arm64",
        module.display()
    );
    let fix = format!(
        "fetched by an amd64 go; once a native go is first on PATH, remove {} and GOTOOLCHAIN=go1.27.3 fetches the \
         darwin/arm64 one",
        module.display()
    );
    assert!(found.iter().any(|f| f.0 == "warn" && f.1.ends_with(&fetched) && f.2 == fix), "{found:#?}");
    assert_eq!(
        of_check(&findings, "go-env"),
        [(
            "warn",
            "GOARCH=amd64 on a darwin/arm64 machine: every go build here is a cross-build",
            "unset GOARCH (set in the environment)"
        )]
    );

    // The native GOROOT first: the toolchain is fine, whatever else the machine has.
    let (_, findings) = doctor(&world, &[&native.join("bin"), &intel.join("bin")], &[]);
    let message = format!("{version} at {}: go, compile, link native (arm64)", native.display());
    assert_eq!(of_check(&findings, "toolchain"), [("ok", message.as_str(), "")]);
    let found = of_check(&findings, "go-found");
    assert_eq!(found[0].1, format!("1. {}/bin/go {version} arm64 (PATH entry 1, used)", native.display()));
    assert_eq!(found[1].0, "warn");
    assert!(found[1].1.starts_with(&format!("2. {}/bin/go {version} amd64 (PATH entry 2)", intel.display())));
}

/// A module with one of each: `fast` (a dependency, replace'd to a directory) has amd64 assembly and a generic Go
/// fallback; `amd64only` builds for amd64 alone; `clib` links a static library the machine's C compiler built for
/// x86-64; `clean` is none of these.
fn archdeps_module(dir: &Path) {
    let write = |path: &str, content: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    };
    write(
        "go.mod",
        "module example.com/app\n\ngo 1.24\n\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ./dep\n",
    );
    write(
        "main.go",
        "package main\n\nimport (\n\t_ \"example.com/app/amd64only\"\n\t\"example.com/app/clean\"\n\t\
         \"example.com/app/clib\"\n\t\"example.com/dep/fast\"\n)\n\n\
         func main() { println(fast.Sum([]int64{1, 2}), clean.Name(), clib.Foo()) }\n",
    );
    write("amd64only/only.go", "//go:build amd64\n\npackage amd64only\n\nconst Yes = true\n");
    write("clean/clean.go", "package clean\n\nfunc Name() string { return \"clean\" }\n");
    write(
        "clib/clib.go",
        "package clib\n\n// #cgo LDFLAGS: -L${SRCDIR}/lib -lfoo -lm\n// #cgo darwin LDFLAGS: -framework CoreFoundation\n\
         // int foo(void);\nimport \"C\"\n\n\
         func Foo() int { return int(C.foo()) }\n",
    );
    write("clib/lib/foo.c", "int foo(void) { return 42; }\n");
    let lib = dir.join("clib/lib");
    for command in [&["cc", "-c", "foo.c", "-o", "foo.o"][..], &["ar", "rcs", "libfoo.a", "foo.o"]] {
        let out = Command::new(command[0]).args(&command[1..]).current_dir(&lib).output().unwrap();
        assert!(out.status.success(), "{command:?}: {}", text(&out.stderr));
    }
    std::fs::remove_file(lib.join("foo.c")).unwrap();
    write("dep/go.mod", "module example.com/dep\n\ngo 1.24\n");
    write("dep/fast/fast.go", "package fast\n\n// Sum adds xs.\nfunc Sum(xs []int64) int64 { return sum(xs) }\n");
    write("dep/fast/sum_amd64.go", "//go:build amd64\n\npackage fast\n\n//go:noescape\nfunc sum(xs []int64) int64\n");
    write(
        "dep/fast/sum_amd64.s",
        "#include \"textflag.h\"\n\nTEXT ·sum(SB), NOSPLIT, $0-32\n\tMOVQ xs_base+0(FP), SI\n\tMOVQ xs_len+8(FP), CX\n\t\
         XORQ AX, AX\nloop:\n\tCMPQ CX, $0\n\tJE done\n\tADDQ (SI), AX\n\tADDQ $8, SI\n\tDECQ CX\n\tJMP loop\n\
         done:\n\tMOVQ AX, ret+24(FP)\n\tRET\n",
    );
    write(
        "dep/fast/sum_generic.go",
        "//go:build !amd64\n\npackage fast\n\nfunc sum(xs []int64) int64 {\n\tvar s int64\n\t\
         for _, x := range xs {\n\t\ts += x\n\t}\n\treturn s\n}\n",
    );
}

/// `gohook archdeps ARGS` in `dir`, offline (GOPROXY=off, as World sets it), cgo left to archdeps.
fn archdeps(world: &World, dir: &Path, args: &[&str]) -> Output {
    world.gohook().current_dir(dir).env_remove("CGO_ENABLED").arg("archdeps").args(args).output().unwrap()
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()
}

#[test]
fn archdeps_finds_the_missing_package_the_generic_fallback_and_the_foreign_library_each_with_its_chain() {
    let dir = tempfile::tempdir().unwrap();
    archdeps_module(dir.path());
    let world = World::new();
    // The module builds and runs here: nothing is wrong with it on amd64.
    let out =
        world.command("go").current_dir(dir.path()).env_remove("CGO_ENABLED").args(["run", "."]).output().unwrap();
    assert_eq!(text(&out.stderr), "3 clean 42\n");

    let out = archdeps(&world, dir.path(), &["--target", "darwin/arm64", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("host/native/archdeps.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&report).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");

    assert_eq!(report["vs"], "darwin/amd64");
    assert_eq!((report["missing"].as_u64(), report["foreign_objects"].as_u64()), (Some(1), Some(1)));
    let target = &report["targets"][0];
    assert_eq!(target["target"], "darwin/arm64");
    // Listed as a native build there has it, cgo on, and said so: a cross build from here would have it off.
    let assumed = "as a native build there; a cross build from here has 0 unless CC names a C compiler for it: --cgo=0 \
                   to list that";
    assert_eq!(target["cgo_enabled"], serde_json::json!({"enabled": true, "from": assumed}));
    let missing = target["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["package"], "example.com/app/amd64only");
    assert_eq!(strings(&missing[0]["excluded_files"]), ["only.go"]);
    assert_eq!(strings(&missing[0]["chain"]), ["example.com/app", "example.com/app/amd64only"]);

    let fallback = target["generic_fallback"].as_array().unwrap();
    assert_eq!(fallback.len(), 1, "{fallback:#?}");
    assert_eq!(fallback[0]["package"], "example.com/dep/fast");
    assert_eq!(fallback[0]["module"], "example.com/dep@v0.0.0 => ./dep");
    assert_eq!(strings(&fallback[0]["vs_assembly"]), ["sum_amd64.s"]);
    assert_eq!(strings(&fallback[0]["chain"]), ["example.com/app", "example.com/dep/fast"]);

    let cgo = target["cgo"].as_array().unwrap();
    assert_eq!(cgo.len(), 1);
    assert_eq!(cgo[0]["package"], "example.com/app/clib");
    assert_eq!(strings(&cgo[0]["unresolved"]), ["-lm"]);
    assert_eq!(strings(&cgo[0]["frameworks"]), ["CoreFoundation"], "what darwin's #cgo LDFLAGS links");
    let object = &cgo[0]["objects"][0];
    assert_eq!(object["from"], "-lfoo");
    assert_eq!(object["path"], dir.path().join("clib/lib/libfoo.a").to_str().unwrap());
    assert_eq!(object["foreign"], true);
    assert_eq!(object["slices"], serde_json::json!([{"format": "ELF", "arch": "amd64", "member": "foo.o"}]));

    // The two platforms' package sets differ by exactly the amd64-only package (darwin's standard library is the
    // same set on both).
    assert_eq!(target["only_in_target"], serde_json::json!([]));
    assert_eq!(
        target["only_in_vs"],
        serde_json::json!([{"module": "example.com/app", "packages": ["example.com/app/amd64only"]}])
    );
    assert_eq!(target["vs_packages"].as_u64().unwrap(), target["packages"].as_u64().unwrap() + 1);

    // The table says the same, chains included.
    let out = archdeps(&world, dir.path(), &["--target", "darwin/arm64"]);
    assert_eq!(out.status.code(), Some(1));
    let table = text(&out.stdout);
    let header = format!(
        "darwin/arm64 against darwin/amd64: {} packages (vs {}), listed with CGO_ENABLED=1 ({assumed})",
        target["packages"], target["vs_packages"]
    );
    for line in [
        "      links the system's (on no -L path): -lm",
        "      links frameworks: CoreFoundation",
        "    example.com/app/amd64only  [example.com/app]  every file excluded: only.go",
        "      pulled in by: example.com/app → example.com/dep/fast",
        &format!("      FOREIGN {}/clib/lib/libfoo.a (-lfoo): ELF amd64 (1 member)", dir.path().display()),
        "not native: 1 package not building for its target, 1 linked object of a foreign architecture",
        &header,
    ] {
        assert!(table.lines().any(|l| l == line), "{line:?} not in\n{table}");
    }

    // A cross build from here, as go would do it by default: without cgo, the C package does not build at all.
    let out = archdeps(&world, dir.path(), &["--target", "darwin/arm64", "--cgo", "0", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let target = &report["targets"][0];
    assert_eq!(target["cgo_enabled"], serde_json::json!({"enabled": false, "from": "--cgo"}));
    let missing: Vec<&str> =
        target["missing"].as_array().unwrap().iter().map(|m| m["package"].as_str().unwrap()).collect();
    assert_eq!(missing, ["example.com/app/amd64only", "example.com/app/clib"]);
    assert_eq!(target["cgo"], serde_json::json!([]));
}

#[test]
fn archdeps_passes_what_is_native_and_stops_on_what_go_cannot_list() {
    let dir = tempfile::tempdir().unwrap();
    archdeps_module(dir.path());
    let world = World::new();
    // The clean package alone, for the machine's own platform (the default target).
    let (goos, goarch) = host_target();
    let out = archdeps(&world, dir.path(), &["./clean"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let reference = if goarch == "amd64" { "arm64" } else { "amd64" };
    assert_eq!(
        text(&out.stdout),
        format!(
            "{goos}/{goarch} against {goos}/{reference}: 1 package (vs 1), listed with CGO_ENABLED=1 (go's default for \
             a native build)\nnative: every package builds for its target, every linked object is the target's\n"
        )
    );
    // amd64 with the library built for it: nothing missing, nothing foreign, the amd64-only package only here.
    let out = archdeps(&world, dir.path(), &["--target", "linux/amd64", "--vs", "linux/arm64", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let target = &report["targets"][0];
    assert_eq!(target["missing"], serde_json::json!([]));
    assert_eq!(target["generic_fallback"], serde_json::json!([]));
    assert_eq!(target["cgo"][0]["objects"][0]["foreign"], false);
    assert_eq!(target["only_in_target"][0]["packages"], serde_json::json!(["example.com/app/amd64only"]));

    for (pattern, go_says) in [
        ("./nope/...", "pattern ./nope/...: lstat ./nope/: no such file or directory"),
        ("example.com/nope", "no required module provides package example.com/nope"),
    ] {
        let out = archdeps(&world, dir.path(), &["--target", "darwin/arm64", pattern]);
        assert_eq!(out.status.code(), Some(2), "{pattern}");
        assert!(text(&out.stderr).contains(go_says), "{pattern}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty());
    }
}
