//! `gohook goreleaser lint`: every target of a goreleaser config put to the plugins' probe moment, as go's `-V=full`
//! probe would put it at build time. A target the policy forbids shows up before anything builds.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use gohook_goreleaser::{Target, matrix};
use gohook_policy::{MomentInput, PluginSpec, Policy, Probe, go_environment};
use gohook_records::{CheckStatus, FindingLevel, RecordedFinding};
use gohook_runtime::Checker;

use crate::args::{LintArgs, ListFormat};
use crate::commands::Context;
use crate::output::write_output;

/// `gohook goreleaser lint`.
pub fn lint(args: LintArgs, context: Context) -> Result<u8> {
    let config = std::path::absolute(&args.file)?;
    let dir = config.parent().unwrap_or(Path::new("."));
    let policy = Policy::find(context.config.as_deref(), dir)?;
    let specs = PluginSpec::from_policy(&policy)?;
    let report = lint_targets(&config, policy.source, &specs, context.store.root())?;
    let text = match args.format {
        ListFormat::Table => report.to_human(),
        ListFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    write_output(None, &text)?;
    Ok(report.exit_code())
}

/// What the lint found for one target.
#[derive(Debug, Clone, Serialize)]
pub struct TargetVerdict {
    #[serde(flatten)]
    pub target: Target,
    pub status: CheckStatus,
    pub findings: Vec<RecordedFinding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildVerdict {
    pub id: String,
    pub skipped: Option<String>,
    pub targets: Vec<TargetVerdict>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    pub config: PathBuf,
    pub policy: Option<PathBuf>,
    pub builds: Vec<BuildVerdict>,
}

/// Asks the plugins' probe moment about every target of every build.
fn lint_targets(config: &Path, policy: Option<PathBuf>, specs: &[PluginSpec], root: &Path) -> Result<LintReport> {
    let mut checker = Checker::new(specs, root);
    let mut builds = Vec::new();
    for build in matrix(config)? {
        let targets = build
            .targets
            .iter()
            .map(|target| {
                let verdict = checker.run(&MomentInput::Probe(probe(target, &build.env)));
                let failed = verdict.findings.iter().any(|f| f.severity == FindingLevel::Error);
                TargetVerdict {
                    target: target.clone(),
                    status: if failed { CheckStatus::Fail } else { CheckStatus::Pass },
                    findings: verdict.findings,
                }
            })
            .collect();
        builds.push(BuildVerdict { id: build.id, skipped: build.skipped, targets });
    }
    Ok(LintReport { config: config.to_owned(), policy, builds })
}

/// The probe go's compile `-V=full` would see for this target under goreleaser.
fn probe(target: &Target, build_env: &[(String, String)]) -> Probe {
    let mut vars = build_env.to_vec();
    vars.push(("GOOS".into(), target.goos.clone()));
    vars.push(("GOARCH".into(), target.goarch.clone()));
    if let Some(name) = target.variant_env() {
        vars.push((name.into(), target.variant.clone()));
    }
    let env = go_environment(vars);
    Probe { tool: "compile".into(), goos: target.goos.clone(), goarch: target.goarch.clone(), env }
}

impl LintReport {
    pub fn exit_code(&self) -> u8 {
        let failed = self.builds.iter().flat_map(|b| &b.targets).any(|t| t.status == CheckStatus::Fail);
        if failed { 1 } else { 0 }
    }

    pub fn to_human(&self) -> String {
        let mut out = match &self.policy {
            Some(policy) => format!("{}: policy {}\n", self.config.display(), policy.display()),
            None => format!("{}: no gohook.toml found; every target passes\n", self.config.display()),
        };
        let (mut total, mut failed) = (0, 0);
        for build in &self.builds {
            if let Some(why) = &build.skipped {
                out += &format!("build {}: skipped ({why})\n", build.id);
                continue;
            }
            out += &format!("build {}: {} targets\n", build.id, build.targets.len());
            for verdict in &build.targets {
                total += 1;
                let errors: Vec<&RecordedFinding> =
                    verdict.findings.iter().filter(|f| f.severity == FindingLevel::Error).collect();
                if errors.is_empty() {
                    out += &format!("  ok    {}\n", verdict.target.target);
                    continue;
                }
                failed += 1;
                out += &format!("  FAIL  {}\n", verdict.target.target);
                for finding in errors {
                    out += &format!("        error[{}] {}\n", finding.rule, finding.message);
                    if let Some(help) = &finding.help {
                        out += &format!("        fix: {help}, or add an `ignore` entry for this target\n");
                    }
                }
            }
        }
        out += &match failed {
            0 => format!("all {total} targets pass the policy\n"),
            _ => {
                format!("{failed} of {total} targets fail the policy: the goreleaser build would fail at go's probe\n")
            }
        };
        out
    }
}
