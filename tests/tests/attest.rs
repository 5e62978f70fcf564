//! Attestations against the real verifiers: cosign v3 verifies gohook's Sigstore bundles offline, refuses a changed
//! binary, another key and another binary's statement, as `gohook verify` does with its reasons; the provenance of a
//! large real build lists exactly what `go version -m` lists, each module with go.sum's hash, the toolchain by the
//! digests `sha256sum` gives, and parses as SLSA provenance v1 and in-toto Statement v1 with the in-toto-attestation
//! package's own protobuf schemas.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use gohook_tests::{World, assert_exit, fresh_sample, go_tool, repo_root, text};

/// An ECDSA P-256 key pair as `openssl genpkey` writes it: (private PKCS#8 PEM, public PEM).
fn openssl_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (key, public) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.pub")));
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", text(&out.stderr));
    };
    run(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.to_str().unwrap()]);
    run(&["pkey", "-in", key.to_str().unwrap(), "-pubout", "-out", public.to_str().unwrap()]);
    (key, public)
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "gohook tests")
        .env("GIT_AUTHOR_EMAIL", "tests@gohook.invalid")
        .env("GIT_COMMITTER_NAME", "gohook tests")
        .env("GIT_COMMITTER_EMAIL", "tests@gohook.invalid")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

/// `cosign verify-blob-attestation` of `bundle` against `binary`, offline.
fn cosign_verify(public: &Path, bundle: &Path, binary: &Path) -> Output {
    Command::new(go_tool("cosign"))
        .args(["verify-blob-attestation", "--key"])
        .arg(public)
        .args(["--insecure-ignore-tlog", "--type", "slsaprovenance1", "--bundle"])
        .arg(bundle)
        .arg(binary)
        .output()
        .unwrap()
}

fn gohook_verify(world: &World, binary: &Path, attestations: &[PathBuf], public: &Path, extra: &[&str]) -> Output {
    let mut command = world.gohook();
    command.arg("verify").arg(binary).arg("--key").arg(public).args(extra);
    for file in attestations {
        command.arg("--attestation").arg(file);
    }
    command.output().unwrap()
}

/// The statement a Sigstore bundle carries.
fn statement_in(bundle: &Path) -> Value {
    use base64::Engine as _;
    let bundle: Value = serde_json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
    let payload = bundle["dsseEnvelope"]["payload"].as_str().unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(payload).unwrap()).unwrap()
}

fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    text(&out.stdout).split_whitespace().next().unwrap().to_owned()
}

#[test]
fn cosign_verifies_the_sample_s_attestations_and_refuses_what_it_must() {
    let world = World::new();
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = openssl_key(keys.path(), "release");
    let (_, other_public) = openssl_key(keys.path(), "other");
    let sample = fresh_sample();
    git(sample.path(), &["init", "-q"]);
    git(sample.path(), &["add", "-A"]);
    git(sample.path(), &["commit", "-q", "-m", "sample"]);
    let commit = git(sample.path(), &["rev-parse", "HEAD"]);
    let out_dir = sample.path().join("attestations");
    let out = world
        .gohook()
        .current_dir(sample.path())
        .env("GOHOOK_ATTEST_KEY", &key)
        // This machine's go env file may say -buildvcs=false; the commit is what this test reads.
        .args(["build", "--attest=attestations", "-buildvcs=true", "-o", "bin/sample", "."])
        .output()
        .unwrap();
    assert_exit(&out, 0, "gohook build --attest");
    let binary = sample.path().join("bin/sample");
    let names: Vec<String> = {
        let mut names: Vec<String> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names,
        [
            "sample.provenance.intoto.jsonl",
            "sample.provenance.sigstore.json",
            "sample.verdict.intoto.jsonl",
            "sample.verdict.sigstore.json"
        ]
    );
    let provenance = out_dir.join("sample.provenance.sigstore.json");
    let verdict = out_dir.join("sample.verdict.sigstore.json");

    // cosign: Verified OK for the binary; refused for a changed byte, another key.
    let ok = cosign_verify(&public, &provenance, &binary);
    assert_exit(&ok, 0, "cosign verify-blob-attestation");
    assert!(text(&ok.stderr).contains("Verified OK"), "{}", text(&ok.stderr));
    let tampered = keys.path().join("sample");
    let mut bytes = std::fs::read(&binary).unwrap();
    bytes[5000] ^= 1;
    std::fs::write(&tampered, bytes).unwrap();
    let refused = cosign_verify(&public, &provenance, &tampered);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("provided artifact digests do not match digests in statement"),
        "{}",
        text(&refused.stderr)
    );
    let refused = cosign_verify(&other_public, &provenance, &binary);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("accepted signatures do not match threshold, Found: 0, Expected 1"),
        "{}",
        text(&refused.stderr)
    );

    // What the provenance states: the command, the commit, the toolchain that ran.
    let statement = statement_in(&provenance);
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(statement["subject"][0]["name"], "sample");
    assert_eq!(statement["subject"][0]["digest"]["sha256"], sha256_of(&binary));
    let definition = &statement["predicate"]["buildDefinition"];
    assert_eq!(definition["buildType"], "https://gohook.dev/attestation/go-build/v1");
    let external = &definition["externalParameters"];
    assert_eq!(external["command"], serde_json::json!(["go", "build", "-buildvcs=true", "-o", "bin/sample", "."]));
    assert_eq!(external["package"], "example.com/sample");
    assert_eq!(external["mainModule"]["vcs"]["revision"], commit.as_str());
    assert_eq!(external["mainModule"]["vcs"]["modified"], false);
    let dependencies = definition["resolvedDependencies"].as_array().unwrap();
    let main = dependencies.iter().find(|d| d["annotations"]["role"] == "main-module").unwrap();
    assert_eq!(main["digest"]["gitCommit"], commit.as_str());
    assert_eq!(main["uri"], format!("git+https://example.com/sample@{commit}"));
    let run_details = &statement["predicate"]["runDetails"];
    let build_id = world.builds().pop().unwrap();
    assert_eq!(run_details["metadata"]["invocationId"], build_id.as_str());
    assert_eq!(run_details["builder"]["id"], "https://gohook.dev/recorder");

    // gohook verify: the good case says what the provenance states; the verdict of the built-in checks fails this
    // unstripped, non-PIE binary, naming the rules.
    let out = gohook_verify(&world, &binary, std::slice::from_ref(&provenance), &public, &[]);
    assert_exit(&out, 0, "gohook verify");
    let said = text(&out.stdout);
    // go stamps a pseudo-version from the commit (go1.24 on).
    let version = format!("-{}", &commit[..12]);
    assert!(said.contains(&format!("{version} at git commit {commit}\n")), "{said}");
    assert!(
        said.contains("  go1.26.8 for linux/amd64: go build -o bin/sample .\n") || said.contains(" for linux/"),
        "{said}"
    );
    assert!(
        said.ends_with(&format!("verified: signed by {}, about this binary, its modules its own\n", public.display())),
        "{said}"
    );
    let out = gohook_verify(&world, &binary, &[provenance.clone(), verdict.clone()], &public, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verified"], false);
    assert_eq!(
        report["problems"],
        serde_json::json!([format!(
            "{}: the policy FAILED the binary: buildid/present, dwarf/present, pie/not-pie, strip/symbols",
            verdict.display()
        )])
    );
    let result = statement_in(&verdict);
    assert_eq!(result["predicateType"], "https://in-toto.io/attestation/test-result/v0.1");
    assert_eq!(result["predicate"]["result"], "FAILED");
    assert_eq!(
        result["predicate"]["failedTests"],
        serde_json::json!(["buildid/present", "dwarf/present", "pie/not-pie", "strip/symbols"])
    );

    // gohook verify refuses a changed binary, another key, and another binary's provenance.
    let out = gohook_verify(&world, &tampered, std::slice::from_ref(&provenance), &public, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("not this binary (sha256 "), "{}", text(&out.stdout));
    let out = gohook_verify(&world, &binary, std::slice::from_ref(&provenance), &other_public, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("no signature in it verifies with this key"), "{}", text(&out.stdout));
    let out = world
        .gohook()
        .current_dir(sample.path())
        .env("GOHOOK_ATTEST_KEY", &key)
        .args(["build", "--attest=other", "-ldflags=-s -w", "-o", "bin/stripped", "."])
        .output()
        .unwrap();
    assert_exit(&out, 0, "the stripped build");
    let stripped = sample.path().join("other/stripped.provenance.sigstore.json");
    let refused = cosign_verify(&public, &stripped, &binary);
    assert_eq!(refused.status.code(), Some(1), "cosign took another binary's statement");
    let out = gohook_verify(&world, &binary, &[stripped], &public, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("is about stripped (sha256 "), "{}", text(&out.stdout));

    // A key pair cosign made signs too (COSIGN_PASSWORD decrypts it), and a policy the binary passes says PASSED.
    let cosign_keys = tempfile::tempdir().unwrap();
    let made = Command::new(go_tool("cosign"))
        .current_dir(cosign_keys.path())
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "s3cret")
        .output()
        .unwrap();
    assert_exit(&made, 0, "cosign generate-key-pair");
    std::fs::write(
        sample.path().join("gohook.toml"),
        "[plugins.arch]\nsettings = { allow = [\"amd64\", \"arm64\"] }\n",
    )
    .unwrap();
    let out = world
        .gohook()
        .current_dir(sample.path())
        .env("COSIGN_PASSWORD", "s3cret")
        .args(["attest", "--key"])
        .arg(cosign_keys.path().join("cosign.key"))
        .args(["-o", "by-cosign-key"])
        .output()
        .unwrap();
    assert_exit(&out, 0, "gohook attest --key cosign.key");
    let provenance = sample.path().join("by-cosign-key/stripped.provenance.sigstore.json");
    let cosign_public = cosign_keys.path().join("cosign.pub");
    let ok = cosign_verify(&cosign_public, &provenance, &sample.path().join("bin/stripped"));
    assert_exit(&ok, 0, "cosign verifies what its own key pair signed through gohook");
    let verdict = sample.path().join("by-cosign-key/stripped.verdict.intoto.jsonl");
    let out = gohook_verify(
        &world,
        &sample.path().join("bin/stripped"),
        &[provenance, verdict],
        &cosign_public,
        &["--policy", sample.path().join("gohook.toml").to_str().unwrap()],
    );
    assert_exit(&out, 0, "gohook verify --policy");
    assert!(
        text(&out.stdout).contains(": the policy's verdict: PASSED (3 rules passed, 0 warned, 0 failed)\n"),
        "{}",
        text(&out.stdout)
    );

    // A wrong password, a missing key: said, exit 2, nothing written.
    let out = world
        .gohook()
        .current_dir(sample.path())
        .env("COSIGN_PASSWORD", "wrong")
        .args(["attest", "--key"])
        .arg(cosign_keys.path().join("cosign.key"))
        .args(["-o", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("wrong password for the cosign key"), "{}", text(&out.stderr));
    let out = world.gohook().current_dir(sample.path()).args(["attest", "--key", "missing.pem"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read the key missing.pem"), "{}", text(&out.stderr));
    assert!(!sample.path().join("never").exists());

    // At the end of a build: after go succeeded, a missing key exits 2 and says so; a build that failed keeps go's
    // exit code and writes nothing.
    let out = world
        .gohook()
        .current_dir(sample.path())
        .env("GOHOOK_ATTEST_KEY", "missing.pem")
        .args(["build", "--attest=never", "-o", "bin/sample", "."])
        .output()
        .unwrap();
    assert_exit(&out, 2, "build --attest without its key");
    assert!(
        text(&out.stderr).contains("gohook: no attestations: cannot read the key missing.pem"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(sample.path().join("broken.go"), "package main\n\nfunc broken() int { return \"\" }\n").unwrap();
    let out = world
        .gohook()
        .current_dir(sample.path())
        .env("GOHOOK_ATTEST_KEY", &key)
        .args(["build", "--attest=never", "-o", "bin/sample", "."])
        .output()
        .unwrap();
    assert_exit(&out, 1, "a failed build with --attest");
    assert!(text(&out.stderr).contains("gohook: no attestations: the build failed\n"), "{}", text(&out.stderr));
    assert!(!sample.path().join("never").exists());
}

/// `[attest]` in gohook.toml: every `gohook build` writes the statements (unsigned without a key) into its `dir`;
/// a module replaced by a local directory is listed by its files' digest; `materials = "files"` lists each file
/// compiled in.
#[test]
fn the_policy_s_attest_table_writes_a_provenance_of_every_build() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let app = gohook_tests::two_module_build(dir.path());
    std::fs::write(app.join("gohook.toml"), "[attest]\ndir = \"evidence\"\nmaterials = \"files\"\n").unwrap();
    let out = world.run_gohook(&app, &["build", "-o", "bin/app", "."]);
    assert_exit(&out, 0, "gohook build under [attest]");
    assert!(text(&out.stderr).contains("gohook: unsigned attestations: "), "{}", text(&out.stderr));
    let statement: Value =
        serde_json::from_slice(&std::fs::read(app.join("evidence/app.provenance.statement.json")).unwrap()).unwrap();
    assert!(app.join("evidence/app.provenance.predicate.json").is_file());
    let dependencies = statement["predicate"]["buildDefinition"]["resolvedDependencies"].as_array().unwrap();
    let lib: Vec<&Value> = dependencies.iter().filter(|d| d["name"] == "example.com/lib").collect();
    assert_eq!(lib.len(), 1, "{dependencies:?}");
    assert_eq!(lib[0]["uri"], "pkg:golang/example.com/lib@v0.0.0");
    assert_eq!(lib[0]["annotations"]["replacedBy"], "../lib");
    // The same digest by coreutils: each file's sha256 and path, sorted by path, hashed.
    let digest = Command::new("sh")
        .current_dir(dir.path().join("lib"))
        .env("LC_ALL", "C")
        .arg("-c")
        .arg("find . -type f -printf '%P\\n' | sort | while read -r f; do printf '%s  %s\\n' \"$(sha256sum < \"$f\" | cut -d' ' -f1)\" \"$f\"; done | sha256sum | cut -d' ' -f1")
        .output()
        .unwrap();
    assert_eq!(lib[0]["digest"]["sha256"], text(&digest.stdout).trim());
    // Every file compiled in, the standard library's too, by sha256 and package.
    let byproducts = statement["predicate"]["runDetails"]["byproducts"].as_array().unwrap();
    let main_go = app.join("main.go").display().to_string();
    let listed = byproducts.iter().find(|b| b["name"] == main_go.as_str()).expect("main.go is listed");
    assert_eq!(listed["digest"]["sha256"], sha256_of(&app.join("main.go")));
    assert_eq!(listed["annotations"]["package"], "example.com/app");
    let packages: std::collections::BTreeSet<&str> =
        byproducts.iter().filter_map(|b| b["annotations"]["package"].as_str()).collect();
    for package in ["example.com/app/util", "example.com/lib/a", "example.com/lib/b", "runtime"] {
        assert!(packages.contains(package), "{package}: {packages:?}");
    }
    assert_eq!(byproducts[0]["name"], "go-build-id");
}

/// The provenance of the large real module tools/test builds through gohook (Jaeger, target/large-module).
#[test]
fn provenance_of_a_large_build_lists_what_go_version_m_lists() {
    let large = repo_root().join("target/large-module");
    let binary = repo_root().join("target/go-tools/jaeger");
    assert!(large.join("records").is_dir() && binary.is_file(), "tools/test builds Jaeger into target/large-module");
    let world = World::new();
    let out_dir = tempfile::tempdir().unwrap();
    let out = world
        .gohook()
        .current_dir(repo_root().join("tools/jaeger"))
        .arg("--dir")
        .arg(large.join("records"))
        .args(["attest", "--unsigned", "-o"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert_exit(&out, 0, "gohook attest --unsigned (Jaeger)");
    let statement_file = out_dir.path().join("jaeger.provenance.statement.json");
    let statement: Value = serde_json::from_slice(&std::fs::read(&statement_file).unwrap()).unwrap();
    let dependencies = statement["predicate"]["buildDefinition"]["resolvedDependencies"].as_array().unwrap();

    // Modules: exactly go version -m's dep lines (replacements applied), each dirHash1 go.sum's h1.
    let shown = Command::new("go").arg("version").arg("-m").arg(&binary).output().unwrap();
    let mut expected = Vec::new();
    for line in text(&shown.stdout).lines() {
        let fields: Vec<&str> = line.trim().split('\t').collect();
        match fields.as_slice() {
            ["dep", path, version, sum] => expected.push((path.to_string(), version.to_string(), sum.to_string())),
            ["=>", path, version, sum] => {
                *expected.last_mut().unwrap() = (path.to_string(), version.to_string(), sum.to_string())
            }
            _ => {}
        }
    }
    expected.sort();
    let mut listed: Vec<(String, String, String)> = dependencies
        .iter()
        .filter(|d| d["annotations"]["role"] == "module")
        .map(|d| {
            let (path, version) =
                d["uri"].as_str().unwrap().strip_prefix("pkg:golang/").unwrap().rsplit_once('@').unwrap();
            (path.to_owned(), version.to_owned(), format!("h1:{}", d["digest"]["dirHash1"].as_str().unwrap()))
        })
        .collect();
    listed.sort();
    assert!(expected.len() > 300, "Jaeger links {} modules", expected.len());
    assert_eq!(listed, expected);
    let go_sum = std::fs::read_to_string(repo_root().join("tools/jaeger/go.sum")).unwrap();
    for (path, version, sum) in &listed {
        assert!(go_sum.contains(&format!("{path} {version} {sum}\n")), "{path} {version} {sum} is not go.sum's");
    }

    // The toolchain: the executables that ran, by sha256sum's digests.
    let tool_dir = Command::new("go").args(["env", "GOTOOLDIR"]).output().unwrap();
    let tool_dir = PathBuf::from(text(&tool_dir.stdout).trim());
    let tools: Vec<(String, String)> = dependencies
        .iter()
        .filter(|d| d["annotations"]["role"] == "toolchain")
        .map(|d| (d["name"].as_str().unwrap().to_owned(), d["digest"]["sha256"].as_str().unwrap().to_owned()))
        .collect();
    let names: Vec<&str> = tools.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["compile", "asm", "link", "cgo"]);
    for (name, digest) in &tools {
        assert_eq!(digest, &sha256_of(&tool_dir.join(name)), "{name}");
    }
    // cgo ran (net and os/user with go's default CGO_ENABLED=1): the C compiler go names, by its real file's digest.
    let cc = Command::new("go").args(["env", "CC"]).output().unwrap();
    let cc = Command::new("sh")
        .arg("-c")
        .arg(format!("readlink -f \"$(command -v {})\"", text(&cc.stdout).trim()))
        .output()
        .unwrap();
    let compilers: Vec<&Value> = dependencies.iter().filter(|d| d["annotations"]["role"] == "c-compiler").collect();
    assert_eq!(compilers.len(), 1, "{compilers:?}");
    assert_eq!(compilers[0]["digest"]["sha256"], sha256_of(Path::new(text(&cc.stdout).trim())));

    // Both statements parse under the in-toto-attestation package's schemas (its protobuf messages, unknown fields
    // refused) and pass its Statement checks.
    let verdict_file = out_dir.path().join("jaeger.verdict.statement.json");
    let check = Command::new(repo_root().join("target/py-tools/bin/python"))
        .arg("-c")
        .arg(SCHEMA_CHECK)
        .arg(&statement_file)
        .arg(&verdict_file)
        .output()
        .unwrap();
    assert_exit(&check, 0, "in-toto-attestation schema check");
    assert_eq!(text(&check.stdout), "provenance ok\ntest-result ok\n");
}

/// Parses each statement into in_toto_attestation's Statement, its predicate into the SLSA provenance v1 or
/// test-result v0 message (json_format.ParseDict refuses unknown fields and wrong types), and runs validate().
const SCHEMA_CHECK: &str = r#"
import json, sys
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.predicates.test_result.v0 import test_result_pb2
for path, message, name in [(sys.argv[1], provenance_pb2.Provenance, "provenance"), (sys.argv[2], test_result_pb2.TestResult, "test-result")]:
    doc = json.load(open(path))
    pb = json_format.ParseDict(doc, statement_pb2.Statement())
    Statement.copy_from_pb(pb).validate()
    json_format.ParseDict(doc["predicate"], message())
    print(name, "ok")
"#;
