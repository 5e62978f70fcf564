//! `gohook goreleaser lint`: every target of a goreleaser config put to the plugins' probe moment, as go's `-V=full`
//! probe would put it at build time. A target the policy forbids shows up before anything builds.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Serialize;

use gohook_goreleaser::{BuildMatrix, DEFAULT_CONFIGS, Target, find_config, matrix};
use gohook_policy::{MomentInput, PluginSpec, Policy, Probe, go_environment};
use gohook_records::{CheckStatus, FindingLevel, RecordedFinding};
use gohook_runtime::PluginRunner;

use crate::args::{LintArgs, ListFormat};
use crate::commands::CommandContext;
use crate::output::write_output;

/// `gohook goreleaser lint`.
pub fn lint(args: LintArgs, context: CommandContext) -> Result<u8> {
    let file = match args.file {
        Some(file) => file,
        None => find_config(&std::env::current_dir()?).with_context(|| {
            format!(
                "no goreleaser config here: goreleaser looks for {}; name yours: gohook goreleaser lint PATH",
                DEFAULT_CONFIGS.join(", ")
            )
        })?,
    };
    let config = std::path::absolute(&file)?;
    let dir = config.parent().unwrap_or(Path::new("."));
    let policy = Policy::find(context.config.as_deref(), dir)?;
    let specs = PluginSpec::from_policy(&policy)?;
    let wanted = Wanted::of(&policy);
    let report = lint_targets(&config, policy.source, &specs, &wanted, context.store.root())?;
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
    /// What the build's config lacks for the policy to run and hold at its links.
    pub wiring: Vec<WiringFinding>,
}

/// A piece of the build's config the policy needs and does not find, with the line to change.
#[derive(Debug, Clone, Serialize)]
pub struct WiringFinding {
    pub rule: &'static str,
    pub line: u64,
    pub message: String,
    pub fix: String,
}

/// What the policy needs of every build's config.
struct Wanted {
    /// The policy has plugins: they run only where go runs gohook (or a post hook runs `gohook check`).
    toolexec: bool,
    pie: bool,
    strip: bool,
    dwarf: bool,
}

impl Wanted {
    fn of(policy: &Policy) -> Wanted {
        let builtin = |name: &str| policy.plugins.get(name).is_some_and(|plugin| plugin.path.is_none());
        Wanted {
            toolexec: !policy.plugins.is_empty(),
            pie: builtin("pie"),
            strip: builtin("strip"),
            dwarf: builtin("dwarf"),
        }
    }

    fn check(&self, build: &BuildMatrix) -> Vec<WiringFinding> {
        let wiring = &build.wiring;
        let id = &build.id;
        let mut found = Vec::new();
        let mut finding =
            |rule, line, message: String, fix: String| found.push(WiringFinding { rule, line, message, fix });
        match &wiring.toolexec {
            _ if !self.toolexec => {}
            Some((flag, line)) => {
                let program = flag.split_once('=').map_or("", |(_, p)| p).trim_matches(['\'', '"']);
                let names_gohook =
                    program.contains("{{") || Path::new(program).file_name().is_some_and(|name| name == "gohook");
                if !names_gohook {
                    finding(
                        "gohook/toolexec",
                        *line,
                        format!("build {id}: {flag} runs another program, not gohook: the policy never runs at link"),
                        "make it -toolexec=gohook".to_owned(),
                    );
                }
            }
            None if wiring.checked_after => {}
            None => finding(
                "gohook/toolexec",
                wiring.line,
                format!(
                    "build {id}: go does not run gohook (no -toolexec=gohook in `flags` or GOFLAGS) and no post hook \
                     runs `gohook check`: the policy never runs for its binaries"
                ),
                "add `- -toolexec=gohook` under the build's `flags:`".to_owned(),
            ),
        }
        let not_pie_by_default: Vec<&str> = build
            .targets
            .iter()
            .filter(|t| !matches!(t.goos.as_str(), "darwin" | "ios" | "windows" | "android"))
            .map(|t| t.target.as_str())
            .collect();
        let buildmode = wiring.buildmode.as_ref();
        if self.pie && !not_pie_by_default.is_empty() && buildmode.is_none_or(|(mode, _)| mode != "pie") {
            let line = buildmode.map_or(wiring.line, |(_, line)| *line);
            finding(
                "gohook/buildmode",
                line,
                format!(
                    "build {id}: the pie plugin is on, but {} {} not PIE without -buildmode=pie ({}): every link \
                     would fail",
                    not_pie_by_default.len(),
                    if not_pie_by_default.len() == 1 { "target is" } else { "targets are" },
                    not_pie_by_default.join(", ")
                ),
                match buildmode {
                    Some((mode, _)) => format!("change `buildmode: {mode}` to `buildmode: pie`"),
                    None => "add `buildmode: pie` to the build".to_owned(),
                },
            );
        }
        let words = wiring.ldflags.as_ref().map(|(words, _)| words.as_slice()).unwrap_or_default();
        let line = wiring.ldflags.as_ref().map_or(wiring.line, |(_, line)| *line);
        let has =
            |flag: &str| words.iter().any(|w| w == flag || *w == format!("{flag}=true") || w == &format!("-{flag}"));
        let fix = match &wiring.ldflags {
            Some(_) => "put -s -w first in the build's `ldflags`",
            None => "add `ldflags: [\"-s -w\"]` to the build",
        };
        if self.strip && !has("-s") {
            finding(
                "gohook/ldflags",
                line,
                format!(
                    "build {id}: the strip plugin is on, but `ldflags` has no -s: every link would keep its symbol table"
                ),
                fix.to_owned(),
            );
        } else if self.dwarf && !has("-s") && !has("-w") {
            finding(
                "gohook/ldflags",
                line,
                format!(
                    "build {id}: the dwarf plugin is on, but `ldflags` has neither -s nor -w: every link would keep DWARF"
                ),
                fix.to_owned(),
            );
        }
        found
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    pub config: PathBuf,
    pub policy: Option<PathBuf>,
    pub builds: Vec<BuildVerdict>,
}

/// Asks the plugins' probe moment about every target of every build, and checks each build's wiring.
fn lint_targets(
    config: &Path,
    policy: Option<PathBuf>,
    specs: &[PluginSpec],
    wanted: &Wanted,
    root: &Path,
) -> Result<LintReport> {
    let mut checker = PluginRunner::new(specs, root);
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
        let wiring = if build.skipped.is_none() { wanted.check(&build) } else { Vec::new() };
        builds.push(BuildVerdict { id: build.id, skipped: build.skipped, targets, wiring });
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
        let unwired = self.builds.iter().any(|b| !b.wiring.is_empty());
        if failed || unwired { 1 } else { 0 }
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
            out +=
                &format!("build {}: {}\n", build.id, gohook_analysis::count(build.targets.len(), "target", "targets"));
            for finding in &build.wiring {
                out += &format!(
                    "  error[{}] line {}: {}\n        fix: {}\n",
                    finding.rule, finding.line, finding.message, finding.fix
                );
            }
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
            0 => format!("all {total} targets pass the policy's probe\n"),
            _ => {
                format!("{failed} of {total} targets fail the policy: the goreleaser build would fail at go's probe\n")
            }
        };
        let unwired: Vec<&str> = self.builds.iter().filter(|b| !b.wiring.is_empty()).map(|b| b.id.as_str()).collect();
        if !unwired.is_empty() {
            out += &format!(
                "{} of {} not wired for the policy ({}): fix the lines above\n",
                unwired.len(),
                gohook_analysis::count(self.builds.len(), "build is", "builds are"),
                unwired.join(", ")
            );
        }
        out
    }
}
