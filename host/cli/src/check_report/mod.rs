//! What the checks said about files — the model `gohook check` and `gohook plugin test` build ([`CheckReport`]), how it
//! is made (the plugins' check moment on each file, [`check_files`]; one other moment, [`moment_report`]) — and, in
//! modules of their own, its renderers: for a terminal (`human`) and for code scanning (`sarif`); its JSON is serde's.

mod human;
mod sarif;

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use gohook_policy::{MomentInput, PluginSpec, Policy, RuleMeta};
use gohook_records::{CheckStatus, FindingLevel, RecordedFinding};
use gohook_runtime::PluginRunner;

/// The built-in that explains (the Go build info, as notes) and never decides: run with `--explain`.
pub const BUILD_INFO_PLUGIN: &str = "buildinfo";

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
}

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
fn checker_with_metadata<'a>(
    specs: &'a [PluginSpec],
    root: &Path,
) -> (PluginRunner<'a>, Vec<gohook_policy::PluginMeta>) {
    let mut checker = PluginRunner::new(specs, root);
    let metas = specs.iter().filter_map(|spec| checker.metadata(spec).ok()).collect();
    (checker, metas)
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

/// The plugins `gohook check` runs: those named by --rules (with the policy's settings where it has some), else the
/// policy's, else every built-in check with its defaults.
pub fn select_checks(policy: Policy, rules: &[String]) -> anyhow::Result<(Policy, Selection)> {
    let (names, selection): (Vec<String>, Selection) = if !rules.is_empty() {
        (rules.to_vec(), Selection::Rules)
    } else if policy.plugins.is_empty() {
        let checks = gohook_policy::BUILTINS.iter().map(|b| b.name.to_owned()).filter(|n| n != BUILD_INFO_PLUGIN);
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
