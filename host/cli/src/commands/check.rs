//! `gohook check FILE…`: the plugins' checks on finished binaries, outside any build (goreleaser post hooks, CI).
//!
//! Exit codes: 0 all files pass, 1 a policy failure, 2 a usage or I/O error (a missing, unreadable or non-binary
//! file); every file is checked whatever happened to the others.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;
use serde_json::json;

use gohook_policy::{MomentInput, PluginSpec, Policy, RuleMeta};
use gohook_records::{CheckRun, CheckStatus, FindingLevel, Labels, Record, RecordedFinding, Store};
use gohook_runtime::Checker;

use gohook_analysis::count;
use gohook_goreleaser::Target;

use crate::args::{CheckArgs, CheckFormat};
use crate::commands::Context;
use crate::output::write_output;

/// `gohook check`.
pub fn check(args: CheckArgs, context: Context) -> Result<u8> {
    let CheckArgs { mut files, artifacts, rules, format, explain, target, exit_zero } = args;
    if let Some(list) = artifacts {
        files.extend(self::artifacts(&list)?);
    }
    let policy = Policy::find(context.config.as_deref(), &std::env::current_dir()?)?;
    let (mut selected, selection) = select_checks(policy, &rules)?;
    if explain {
        selected.plugins.entry(EXPLAINER.to_owned()).or_default();
    }
    let specs = PluginSpec::from_policy(&selected)?;
    let mut report = check_files(&specs, context.store.root(), &files);
    report.selection = selection;
    if let Some(name) = &target {
        let declared = Target::named(name).map_err(|why| {
            anyhow::anyhow!(
                "--target {name}: not a target go builds ({why}); goreleaser names targets goos_goarch[_variant], \
                 e.g. linux_amd64_v1, darwin_arm64_v8.0, darwin_all"
            )
        })?;
        for file in report.files.iter_mut().filter(|f| f.status != CheckStatus::Error) {
            if let Err(why) = built_for(Path::new(&file.path), &declared) {
                file.status = CheckStatus::Error;
                file.error = Some(format!("{why} (--target {name})"));
            }
        }
    }
    record_checks(&context.store, &report, target);
    let text = match format {
        CheckFormat::Human => report.to_human(explain),
        CheckFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        CheckFormat::Sarif => serde_json::to_string_pretty(&report.to_sarif())? + "\n",
    };
    write_output(None, &text)?;
    Ok(match report.exit_code() {
        1 if exit_zero => 0,
        code => code,
    })
}

/// Under a run label (goreleaser's post hooks), what `gohook check` found goes into the run's records, so
/// `gohook report --run` shows each target's build next to its check. Recording is best effort: the verdict
/// already went to stdout.
fn record_checks(store: &Store, report: &CheckReport, target: Option<String>) {
    let labels = match Labels::from_env() {
        Ok(Some(labels)) if !labels.run.is_empty() => labels,
        Ok(_) => return,
        Err(e) => return eprintln!("gohook: {e}; the check results are not recorded"),
    };
    let target = target.unwrap_or(labels.target);
    for file in &report.files {
        let record = Record::Check(CheckRun {
            run: labels.run.clone(),
            target: target.clone(),
            path: file.path.clone(),
            unix_ns: gohook_records::now_unix_ns(),
            status: file.status,
            findings: file.findings.clone(),
        });
        if let Err(e) = store.append_check(&labels.run, &record) {
            eprintln!("gohook: cannot record the check in {}: {e}", store.run_checks_path(&labels.run).display());
            return;
        }
    }
    // In goreleaser's output, the way from a post hook's verdict to the whole run. One write: goreleaser logs the
    // hook's stdout and stderr as their lines come, and eprintln!'s pieces would let a stdout line cut in.
    let line =
        format!("gohook: recorded with run {run} (target {target}): gohook report --run {run}\n", run = labels.run);
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
}

/// Whether the binary at `path` was built for `target`: its GOOS and GOARCH (and the variant, when its build info
/// records it) from the Go build info, else from its header; `darwin_all` is a universal binary.
fn built_for(path: &Path, target: &Target) -> std::result::Result<(), String> {
    let images = gohook_native::built_for(path)?;
    let platforms: Vec<String> = images.iter().map(ToString::to_string).collect();
    let wanted = match target.goarch.as_str() {
        "all" => "darwin/arm64+amd64 (universal)".to_owned(),
        _ => format!("{}/{}", target.goos, target.goarch),
    };
    let wrong = || Err(format!("built for {}, not {wanted}", platforms.join(" + ")));
    if target.goarch == "all" {
        let universal = images.len() > 1 && images.iter().all(|i| i.goos.as_deref() == Some("darwin"));
        return if universal { Ok(()) } else { wrong() };
    }
    let matching = images
        .iter()
        .find(|image| image.goarch == target.goarch && image.goos.as_deref().is_none_or(|goos| goos == target.goos));
    let Some(image) = matching else { return wrong() };
    if let Some(variable) = target.variant_env()
        && let Some(variant) = image.setting(variable)
        && variant != target.variant
    {
        return Err(format!("built for {wanted} with {variable}={variant}, not {}", target.variant));
    }
    Ok(())
}

/// The built-in that explains (the Go build info, as notes) and never decides: run with `--explain`.
const EXPLAINER: &str = "buildinfo";

/// Where the checks `gohook check` ran came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Selection {
    /// gohook.toml's plugins.
    #[default]
    Policy,
    /// `--rules`.
    Rules,
    /// No gohook.toml and no `--rules`: every built-in check with its defaults.
    BuiltinDefaults,
}

/// The plugins `gohook check` runs: those named by --rules (with the policy's settings where it has some), else the
/// policy's, else every built-in check with its defaults.
fn select_checks(policy: Policy, rules: &[String]) -> Result<(Policy, Selection)> {
    let (names, selection): (Vec<String>, Selection) = if !rules.is_empty() {
        (rules.to_vec(), Selection::Rules)
    } else if policy.plugins.is_empty() {
        let checks = gohook_policy::BUILTINS.iter().map(|b| b.name.to_owned()).filter(|n| n != EXPLAINER);
        (checks.collect(), Selection::BuiltinDefaults)
    } else {
        return Ok((policy, Selection::Policy));
    };
    let mut plugins = std::collections::BTreeMap::new();
    for name in names {
        let config = match policy.plugins.get(&name) {
            Some(config) => config.clone(),
            None if gohook_policy::builtin(&name).is_some() => Default::default(),
            None => {
                let builtins: Vec<&str> = gohook_policy::BUILTINS.iter().map(|b| b.name).collect();
                anyhow::bail!(
                    "--rules {name}: no such plugin in gohook.toml or built in (built-ins: {})",
                    builtins.join(", ")
                );
            }
        };
        plugins.insert(name, config);
    }
    Ok((Policy { plugins, ..policy }, selection))
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub status: CheckStatus,
    /// Why the file could not be checked (status `error`).
    pub error: Option<String>,
    pub findings: Vec<RecordedFinding>,
    /// The plugins that looked at the file.
    pub plugins: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub files: Vec<FileReport>,
    /// The rules the plugins that ran can report, for SARIF's rule metadata.
    #[serde(skip)]
    pub rules: Vec<RuleMeta>,
    #[serde(skip)]
    pub selection: Selection,
}

impl CheckReport {
    pub fn exit_code(&self) -> u8 {
        if self.files.iter().any(|f| f.status == CheckStatus::Error) {
            2
        } else if self.files.iter().any(|f| f.status == CheckStatus::Fail) {
            1
        } else {
            0
        }
    }

    /// SARIF 2.1.0, as GitHub code scanning reads it: one run, the plugins' rules with their help, one result per
    /// finding located at the file, and files that could not be checked as error notifications.
    pub fn to_sarif(&self) -> serde_json::Value {
        let level = |severity: FindingLevel| severity.name();
        let location = |path: &str| json!([{ "physicalLocation": { "artifactLocation": { "uri": path } } }]);
        let mut rules: Vec<&RuleMeta> = self.rules.iter().chain(GOHOOK_RULES.iter()).collect();
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        rules.dedup_by(|a, b| a.id == b.id);
        let results: Vec<serde_json::Value> = self
            .files
            .iter()
            .flat_map(|file| {
                file.findings.iter().map(move |finding| {
                    let mut text = finding.message.clone();
                    if let Some(help) = &finding.help {
                        text += &format!(" Fix: {help}.");
                    }
                    json!({
                        "ruleId": finding.rule,
                        "level": level(finding.severity),
                        "message": { "text": text },
                        "locations": location(&file.path),
                    })
                })
            })
            .collect();
        let notifications: Vec<serde_json::Value> = self
            .files
            .iter()
            .filter(|f| f.status == CheckStatus::Error)
            .map(|f| {
                json!({
                    "level": "error",
                    "message": { "text": format!("{}: {}", f.path, f.error.as_deref().unwrap_or("cannot be checked")) },
                    "locations": location(&f.path),
                })
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "gohook",
                    "version": gohook_records::VERSION,
                    "rules": rules.iter().map(|r| json!({
                        "id": r.id,
                        "shortDescription": { "text": r.summary },
                        "help": { "text": r.help },
                    })).collect::<Vec<_>>(),
                }},
                "results": results,
                "invocations": [{
                    "executionSuccessful": notifications.is_empty(),
                    "toolExecutionNotifications": notifications,
                }],
            }],
        })
    }

    /// The report for a terminal; `explain` adds, per file, the checks that passed.
    pub fn to_human(&self, explain: bool) -> String {
        let mut out = String::new();
        let mut failing_checks = BTreeSet::new();
        for file in &self.files {
            let failed: BTreeSet<&str> =
                file.findings.iter().filter(|f| f.severity == FindingLevel::Error).map(|f| f.plugin.as_str()).collect();
            match file.status {
                CheckStatus::Pass => out += &format!("{}: ok ({})\n", file.path, file.plugins.join(", ")),
                CheckStatus::Fail => {
                    let names: Vec<&str> = failed.iter().copied().collect();
                    // The build info explains and never decides: not one of the checks.
                    let checks = file.plugins.iter().filter(|p| *p != EXPLAINER).count();
                    out += &format!(
                        "{}: FAIL ({} of {} failed: {})\n",
                        file.path,
                        failed.len(),
                        count(checks, "check", "checks"),
                        names.join(", ")
                    );
                }
                CheckStatus::Error => {
                    out += &format!("{}: error: {}\n", file.path, file.error.as_deref().unwrap_or("unknown"))
                }
            }
            failing_checks.extend(failed.iter().map(|name| name.to_string()));
            for finding in &file.findings {
                out += &format!("  {}[{}] {}\n", finding.severity.name(), finding.rule, finding.message);
                if let Some(help) = &finding.help {
                    out += &format!("      fix: {help}\n");
                }
            }
            if explain && file.status != CheckStatus::Error {
                let passed: Vec<&str> = file
                    .plugins
                    .iter()
                    .map(String::as_str)
                    .filter(|p| {
                        *p != EXPLAINER
                            && !file.findings.iter().any(|f| f.plugin == *p && f.severity != FindingLevel::Note)
                    })
                    .collect();
                if !passed.is_empty() {
                    out += &format!("  passed: {}\n", passed.join(", "));
                }
            }
        }
        let tally = |status| self.files.iter().filter(|f| f.status == status).count();
        out += &format!(
            "{}: {} passed, {} failed, {} could not be checked\n",
            count(self.files.len(), "file", "files"),
            tally(CheckStatus::Pass),
            tally(CheckStatus::Fail),
            tally(CheckStatus::Error)
        );
        if self.selection == Selection::BuiltinDefaults && !failing_checks.is_empty() {
            let names: Vec<&str> = failing_checks.iter().map(String::as_str).collect();
            let tables: Vec<String> = names.iter().map(|n| format!("[plugins.{n}]")).collect();
            out += &format!(
                "no gohook.toml, so every built-in check ran with its defaults; not every one fits every binary: keep \
                 the checks you want in gohook.toml ({} …) or name them with --rules {}\n",
                tables.join(" "),
                names.join(",")
            );
        }
        out
    }
}

/// Rules gohook itself reports about plugins.
static GOHOOK_RULES: std::sync::LazyLock<Vec<RuleMeta>> = std::sync::LazyLock::new(|| {
    vec![
        RuleMeta {
            id: "gohook/plugin-failed".into(),
            summary: "a plugin crashed, timed out, ran out of memory or could not be loaded".into(),
            help: "fix or remove the plugin; on_failure = \"warn\" lets builds pass meanwhile".into(),
        },
        RuleMeta {
            id: "gohook/unknown-setting".into(),
            summary: "gohook.toml gives a plugin a setting it does not declare".into(),
            help: "correct or remove the setting".into(),
        },
    ]
});

/// Runs the check moment of `specs` on every file.
pub fn check_files(specs: &[PluginSpec], root: &Path, files: &[PathBuf]) -> CheckReport {
    let (mut checker, metas) = checker_with_metadata(specs, root);
    let rules = metas.into_iter().flat_map(|meta| meta.rules).collect();
    let mut reports = Vec::new();
    for file in files {
        let path = file.display().to_string();
        let error = |why: String| FileReport {
            path: path.clone(),
            status: CheckStatus::Error,
            error: Some(why),
            findings: vec![],
            plugins: vec![],
        };
        if let Err(why) = recognize(file) {
            reports.push(error(why));
            continue;
        }
        let absolute = std::path::absolute(file).unwrap_or_else(|_| file.clone());
        let verdict = checker.run(&MomentInput::Check(absolute));
        // A plugin that cannot parse the file says so with `<plugin>/unreadable`: that is about the file, not the
        // policy.
        let (unreadable, findings): (Vec<_>, Vec<_>) =
            verdict.findings.into_iter().partition(|f| f.rule.ends_with("/unreadable"));
        if let Some(first) = unreadable.first() {
            reports.push(error(format!("cannot be read as a binary: {}", first.message)));
            continue;
        }
        let failed = findings.iter().any(|f| f.severity == FindingLevel::Error);
        reports.push(FileReport {
            path,
            status: if failed { CheckStatus::Fail } else { CheckStatus::Pass },
            error: None,
            findings,
            plugins: verdict.plugins.into_iter().map(|p| p.plugin).collect(),
        });
    }
    CheckReport { files: reports, rules, selection: Selection::default() }
}

/// Runs `specs` at one moment other than a file's check (`gohook plugin test --moment`): one entry named `subject`,
/// an error when no plugin handles the moment for this tool (it would never be called so in a build).
pub fn moment_report(specs: &[PluginSpec], root: &Path, subject: &str, input: &MomentInput) -> CheckReport {
    let (mut checker, metas) = checker_with_metadata(specs, root);
    let rules = metas.iter().flat_map(|meta| meta.rules.clone()).collect();
    let verdict = checker.run(input);
    let file = if verdict.plugins.is_empty() {
        let handled: Vec<String> = metas
            .iter()
            .map(|m| format!("{} handles {} for tools {}", m.name, m.moments.join(", "), or_all(&m.tools)))
            .collect();
        FileReport {
            path: subject.to_owned(),
            status: CheckStatus::Error,
            error: Some(format!("no plugin was called: {}", handled.join("; "))),
            findings: vec![],
            plugins: vec![],
        }
    } else {
        FileReport {
            path: subject.to_owned(),
            status: if verdict.has_errors() { CheckStatus::Fail } else { CheckStatus::Pass },
            error: None,
            findings: verdict.findings,
            plugins: verdict.plugins.into_iter().map(|p| p.plugin).collect(),
        }
    };
    CheckReport { files: vec![file], rules, selection: Selection::default() }
}

fn or_all(tools: &[String]) -> String {
    if tools.is_empty() { "(all)".to_owned() } else { tools.join(", ") }
}

/// A checker for `specs` and the metadata of those that answer (a plugin that cannot is reported by its call).
fn checker_with_metadata<'a>(specs: &'a [PluginSpec], root: &Path) -> (Checker<'a>, Vec<gohook_policy::PluginMeta>) {
    let mut checker = Checker::new(specs, root);
    let metas = specs.iter().filter_map(|spec| checker.metadata(spec).ok()).collect();
    (checker, metas)
}

/// The binaries goreleaser lists in `dist/artifacts.json` (entries of type `Binary`). Their paths are relative to
/// where goreleaser ran: the directory above `dist/`.
pub fn artifacts(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    #[derive(serde::Deserialize)]
    struct Artifact {
        path: PathBuf,
        #[serde(rename = "type")]
        kind: String,
    }
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let list: Vec<Artifact> = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a goreleaser artifacts list ({e})", path.display()))?;
    let project = path.parent().and_then(Path::parent).unwrap_or(Path::new("."));
    Ok(list.into_iter().filter(|a| a.kind == "Binary").map(|a| project.join(a.path)).collect())
}

/// Recognizes an executable by its magic, so that a text file or a directory gets a clear error instead of
/// parser noise from every plugin.
fn recognize(path: &Path) -> Result<(), String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    if file.metadata().map_err(|e| e.to_string())?.is_dir() {
        return Err("is a directory".to_owned());
    }
    let mut magic = [0u8; 8];
    let mut filled = 0;
    while filled < magic.len() {
        match file.read(&mut magic[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => return Err(e.to_string()),
        }
    }
    if filled == 0 {
        return Err("empty file".to_owned());
    }
    let known = magic.starts_with(b"\x7fELF")
        || magic.starts_with(b"MZ")
        || [[0xfe, 0xed, 0xfa, 0xce], [0xfe, 0xed, 0xfa, 0xcf], [0xce, 0xfa, 0xed, 0xfe], [0xcf, 0xfa, 0xed, 0xfe]]
            .iter()
            .any(|m| magic.starts_with(m))
        // Universal Mach-O; Java class files share the magic but have a large version where nfat_arch would be.
        || ((magic.starts_with(&[0xca, 0xfe, 0xba, 0xbe]) || magic.starts_with(&[0xca, 0xfe, 0xba, 0xbf]))
            && u32::from_be_bytes([magic[4], magic[5], magic[6], magic[7]]) < 32);
    if known { Ok(()) } else { Err("not an executable (ELF, Mach-O or PE expected)".to_owned()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_lists_the_binaries_relative_to_the_project() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        let list = dir.path().join("dist/artifacts.json");
        std::fs::write(
            &list,
            r#"[{"name":"app","path":"dist/app_linux_amd64_v1/app","goos":"linux","goarch":"amd64","type":"Binary"},
                {"name":"app.tar.gz","path":"dist/app.tar.gz","type":"Archive"},
                {"name":"app","path":"/abs/app","type":"Binary"}]"#,
        )
        .unwrap();
        assert_eq!(
            artifacts(&list).unwrap(),
            [dir.path().join("dist/app_linux_amd64_v1/app"), PathBuf::from("/abs/app")]
        );
        std::fs::write(&list, "{}").unwrap();
        assert!(artifacts(&list).unwrap_err().to_string().contains("not a goreleaser artifacts list"));
    }

    #[test]
    fn recognition_by_magic() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        assert_eq!(recognize(&write("elf", b"\x7fELF\x02\x01\x01\x00")), Ok(()));
        assert_eq!(recognize(&write("pe", b"MZ\x90\x00")), Ok(()));
        assert_eq!(recognize(&write("fat", &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2])), Ok(()));
        assert_eq!(
            recognize(&write("java", &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52])),
            Err("not an executable (ELF, Mach-O or PE expected)".to_owned())
        );
        assert_eq!(recognize(&write("empty", b"")), Err("empty file".to_owned()));
        assert_eq!(recognize(dir.path()), Err("is a directory".to_owned()));
        assert!(recognize(&dir.path().join("missing")).unwrap_err().contains("No such file"));
    }
}
