//! `gohook verify`: a binary's attestations checked — signature, subject, the modules against the binary's own
//! build info, the policy's verdict — then what they state, in plain words.
//!
//! Exit 0 only when everything holds, 1 with each reason when something does not, 2 when a file cannot be read.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde::Serialize;

use gohook_attest::{
    BUILD_TYPE, ExternalParameters, InternalParameters, PROVENANCE_TYPE, Provenance, Role, STATEMENT_TYPE, Statement,
    TEST_RESULT_TYPE, TestResult, Verifier, read_envelopes, sha256_hex,
};
use gohook_native::BuildInfo;

use crate::args::{ListFormat, VerifyArgs};
use crate::output::write_output;

/// What `verify` found, as `--format json` prints it.
#[derive(Debug, Default, Serialize)]
struct Verification {
    binary: String,
    sha256: String,
    verified: bool,
    /// Why it is not verified, one reason each.
    problems: Vec<String>,
    /// What the statements say, in plain words.
    statements: Vec<String>,
}

/// `gohook verify`.
pub fn verify(args: VerifyArgs) -> Result<u8> {
    let bytes = std::fs::read(&args.binary).with_context(|| format!("cannot read {}", args.binary.display()))?;
    let verifier = Verifier::from_file(&args.key)?;
    let policy_sha256 = match &args.policy {
        Some(path) => {
            Some(sha256_hex(&std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?))
        }
        None => None,
    };
    let mut found =
        Verification { binary: args.binary.display().to_string(), sha256: sha256_hex(&bytes), ..Default::default() };
    drop(bytes);
    let modules = binary_modules(&args.binary);
    for file in &args.attestations {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        let name = file.display().to_string();
        let envelopes = match read_envelopes(&text) {
            Ok(envelopes) => envelopes,
            Err(why) => {
                found.problems.push(format!("{name}: {why}"));
                continue;
            }
        };
        for envelope in envelopes {
            let body = match envelope.verify(&verifier) {
                Ok(body) => body,
                Err(why) => {
                    found.problems.push(format!(
                        "{name}: {why} ({}): signed by another key, or changed since it was signed",
                        args.key.display()
                    ));
                    continue;
                }
            };
            let statement: Statement = match serde_json::from_slice(&body) {
                Ok(statement) => statement,
                Err(e) => {
                    found.problems.push(format!("{name}: the signed payload is not an in-toto statement: {e}"));
                    continue;
                }
            };
            found.check(&name, &statement, &modules, policy_sha256.as_deref());
        }
    }
    found.verified = found.problems.is_empty();
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&found)? + "\n",
        ListFormat::Table => found.to_human(&args.key),
    };
    write_output(None, &text)?;
    Ok(if found.verified { 0 } else { 1 })
}

/// The modules the binary's own build info lists, or why there are none to compare with.
fn binary_modules(binary: &Path) -> Result<(String, BTreeMap<String, String>), String> {
    let images = gohook_native::built_for(binary)?;
    match images.as_slice() {
        [image] => match &image.build_info {
            Some(info) => Ok((info.main_module.clone().unwrap_or_default(), linked_modules(info))),
            None => Err("it has no Go build info".to_owned()),
        },
        _ => Err(format!("it holds {} images", images.len())),
    }
}

/// Module path → version of every module the build info lists, replacements applied.
fn linked_modules(info: &BuildInfo) -> BTreeMap<String, String> {
    info.deps
        .iter()
        .map(|dep| match &dep.replace {
            Some(r) if !r.is_directory() => (r.path.clone(), r.version.clone()),
            _ => (dep.path.clone(), dep.version.clone()),
        })
        .collect()
}

impl Verification {
    fn check(
        &mut self,
        file: &str,
        statement: &Statement,
        modules: &Result<(String, BTreeMap<String, String>), String>,
        policy_sha256: Option<&str>,
    ) {
        if statement.statement_type != STATEMENT_TYPE {
            self.problems
                .push(format!("{file}: a statement of type {}, not {STATEMENT_TYPE}", statement.statement_type));
            return;
        }
        if !statement.subject.iter().any(|s| s.sha256() == Some(self.sha256.as_str())) {
            let about: Vec<String> = statement
                .subject
                .iter()
                .map(|s| format!("{} (sha256 {})", s.name, s.sha256().unwrap_or("none")))
                .collect();
            self.problems.push(format!(
                "{file} is about {}, not this binary (sha256 {}): the binary changed, or this is another binary's attestation",
                about.join(", "),
                self.sha256
            ));
            return;
        }
        match statement.predicate_type.as_str() {
            PROVENANCE_TYPE => self.check_provenance(file, &statement.predicate, modules, policy_sha256),
            TEST_RESULT_TYPE => self.check_verdict(file, &statement.predicate, policy_sha256),
            other => self.statements.push(format!("{file}: a {other} statement about this binary")),
        }
    }

    fn check_provenance(
        &mut self,
        file: &str,
        predicate: &serde_json::Value,
        modules: &Result<(String, BTreeMap<String, String>), String>,
        policy_sha256: Option<&str>,
    ) {
        let provenance: Provenance = match serde_json::from_value(predicate.clone()) {
            Ok(p) => p,
            Err(e) => return self.problems.push(format!("{file}: not SLSA provenance v1: {e}")),
        };
        let definition = &provenance.build_definition;
        if definition.build_type != BUILD_TYPE {
            self.statements.push(format!(
                "{file}: SLSA provenance of build type {} (not gohook's: its modules are not compared)",
                definition.build_type
            ));
            return;
        }
        let external: ExternalParameters =
            serde_json::from_value(definition.external_parameters.clone()).unwrap_or_default();
        let internal: InternalParameters =
            serde_json::from_value(definition.internal_parameters.clone()).unwrap_or_default();
        let by_role = |role: Role| definition.resolved_dependencies.iter().filter(move |d| Role::of(d) == Some(role));
        let listed: BTreeMap<String, String> = by_role(Role::Module)
            .filter_map(|d| {
                let (path, version) = d.uri.strip_prefix("pkg:golang/")?.rsplit_once('@')?;
                Some((path.to_owned(), version.to_owned()))
            })
            .collect();
        match modules {
            Ok((main, linked)) => {
                if *main != external.main_module.path {
                    self.problems.push(format!(
                        "{file}: the provenance is of module {}, the binary of {main}",
                        external.main_module.path
                    ));
                }
                for (path, version) in &listed {
                    if linked.get(path) != Some(version) {
                        self.problems.push(format!("{file}: lists {path}@{version}, which the binary does not link"));
                    }
                }
                for (path, version) in linked {
                    if !listed.contains_key(path) {
                        self.problems.push(format!("{file}: leaves out {path}@{version}, which the binary links"));
                    }
                }
            }
            Err(why) => self.problems.push(format!("cannot compare the modules with the binary's: {why}")),
        }
        if let Some(wanted) = policy_sha256 {
            let named = internal.policy.as_ref().and_then(|p| p.sha256());
            if named != Some(wanted) {
                self.problems.push(format!(
                    "{file}: built under {}, not the --policy given (sha256 {wanted})",
                    named.map_or("no gohook.toml".to_owned(), |s| format!("a gohook.toml of sha256 {s}"))
                ));
            }
        }
        let main = &external.main_module;
        let commit = match &main.vcs {
            Some(vcs) => format!(
                " at {} commit {}{}",
                vcs.system,
                vcs.revision,
                if vcs.modified { " with uncommitted changes" } else { "" }
            ),
            None => " (no version control information)".to_owned(),
        };
        let tools: Vec<String> = by_role(Role::Toolchain)
            .chain(by_role(Role::CCompiler))
            .map(|d| format!("{} sha256:{}", d.name, short(d.sha256().unwrap_or("?"))))
            .collect();
        let plugins: Vec<&str> = by_role(Role::Plugin).map(|d| d.name.as_str()).collect();
        let flags: Vec<String> = external.flags.iter().map(|(k, v)| quoted(&format!("{k}={v}"))).collect();
        let metadata = &provenance.run_details.metadata;
        self.statements.extend([
            format!(
                "{file}: SLSA provenance v1, build {} ({} → {})",
                metadata.invocation_id, metadata.started_on, metadata.finished_on
            ),
            format!("  module {} {}{commit}", main.path, main.version),
            format!(
                "  {} for {}/{}: {}",
                internal.go_version,
                external.goos,
                external.goarch,
                shell_words(&external.command)
            ),
            format!("  flags: {}", if flags.is_empty() { "none".to_owned() } else { flags.join(" ") }),
            format!("  toolchain: {}", tools.join(", ")),
            format!(
                "  {} modules, the same as the binary's build info{}",
                listed.len(),
                if modules.is_ok() { "" } else { " (not compared)" }
            ),
            format!("  judged by {} plugins: {}", plugins.len(), plugins.join(", ")),
        ]);
    }

    fn check_verdict(&mut self, file: &str, predicate: &serde_json::Value, policy_sha256: Option<&str>) {
        let result: TestResult = match serde_json::from_value(predicate.clone()) {
            Ok(r) => r,
            Err(e) => return self.problems.push(format!("{file}: not an in-toto test result: {e}")),
        };
        let counts = format!(
            "{} rules passed, {} warned, {} failed",
            result.passed_tests.len(),
            result.warned_tests.len(),
            result.failed_tests.len()
        );
        self.statements.push(format!("{file}: the policy's verdict: {} ({counts})", result.result));
        if !result.warned_tests.is_empty() {
            self.statements.push(format!("  warned: {}", result.warned_tests.join(", ")));
        }
        if result.result == "FAILED" {
            self.problems.push(format!("{file}: the policy FAILED the binary: {}", result.failed_tests.join(", ")));
        }
        if let Some(wanted) = policy_sha256 {
            let named = result.configuration.iter().find(|c| c.name == "gohook.toml").and_then(|c| c.sha256());
            if named != Some(wanted) {
                self.problems.push(format!("{file}: judged under another policy than --policy (sha256 {wanted})"));
            }
        }
    }

    fn to_human(&self, key: &Path) -> String {
        let mut out = format!("{} sha256:{}\n", self.binary, self.sha256);
        for line in &self.statements {
            out += line;
            out.push('\n');
        }
        if self.verified {
            out += &format!("verified: signed by {}, about this binary, its modules its own\n", key.display());
        } else {
            out += "NOT verified:\n";
            for problem in &self.problems {
                out += &format!("  - {problem}\n");
            }
        }
        out
    }
}

fn short(sha256: &str) -> &str {
    &sha256[..sha256.len().min(16)]
}

/// A command line as a shell would take it back: `-gcflags='all=-N -l'`, not `-gcflags=all=-N -l`.
fn shell_words(words: &[String]) -> String {
    words.iter().map(|w| quoted(w)).collect::<Vec<_>>().join(" ")
}

fn quoted(word: &str) -> String {
    const SPECIAL: &str = "'\"$`\\;&|<>()*?";
    if !word.is_empty() && !word.contains(|c: char| c.is_whitespace() || SPECIAL.contains(c)) {
        return word.to_owned();
    }
    let escape = |text: &str| text.replace('\'', r"'\''");
    match word.split_once('=') {
        Some((flag, value)) if flag.starts_with('-') => format!("{flag}='{}'", escape(value)),
        _ => format!("'{}'", escape(word)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_line_reads_back_as_the_shell_would_take_it() {
        let words: Vec<String> =
            ["go", "build", "-gcflags=all=-N -l", "-o", "bin/my app", "."].map(String::from).into();
        assert_eq!(shell_words(&words), "go build -gcflags='all=-N -l' -o 'bin/my app' .");
        assert_eq!(quoted("-ldflags=-X 'v=1'"), r"-ldflags='-X '\''v=1'\'''");
    }
}
