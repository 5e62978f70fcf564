//! `gohook check FILE…`: the plugins' checks on finished binaries, outside any build (goreleaser post hooks, CI).
//!
//! Exit codes: 0 all files pass, 1 a policy failure, 2 a usage or I/O error (a missing, unreadable or non-binary
//! file); every file is checked whatever happened to the others.

use std::path::Path;

use anyhow::Result;

use gohook_goreleaser::Target;
use gohook_policy::{PluginSpec, Policy};
use gohook_records::{CheckRun, CheckStatus, Labels, Record, Store};

use crate::args::{CheckArgs, CheckFormat};
use crate::check_report::{BUILD_INFO_PLUGIN, CheckReport, check_files, select_checks};
use crate::commands::CommandContext;
use crate::output::write_output;

/// `gohook check`.
pub fn check(args: CheckArgs, context: CommandContext) -> Result<u8> {
    let CheckArgs { mut files, artifacts, rules, format, explain, target, exit_zero } = args;
    if let Some(list) = artifacts {
        files.extend(gohook_goreleaser::binaries(&list)?);
    }
    let policy = Policy::find(context.config.as_deref(), &std::env::current_dir()?)?;
    let (mut selected, selection) = select_checks(policy, &rules)?;
    if explain {
        selected.plugins.entry(BUILD_INFO_PLUGIN.to_owned()).or_default();
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
