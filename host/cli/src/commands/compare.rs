//! `gohook compare OLD NEW` and `gohook compare --baseline DIR NEW`: the comparison itself is `gohook_analysis`'s;
//! this resolves the two sides (OLD from the baseline of NEW's machine key, when asked) and writes it.

use std::io::Write as _;

use anyhow::{Context as _, Result, bail};

use gohook_analysis::{BaselineKey, CompareOptions, Comparison, Side};

use crate::args::{CompareArgs, CompareFormat};
use crate::commands::CommandContext;
use crate::output::write_output;

pub fn compare(args: CompareArgs, context: CommandContext) -> Result<u8> {
    let CompareArgs { sides, baseline, key, alpha, threshold, format, output } = args;
    if !(alpha > 0.0 && alpha < 1.0) {
        bail!("--alpha {alpha}: give a significance level between 0 and 1, e.g. 0.05");
    }
    let (old, new) = match (baseline, sides.as_slice()) {
        (Some(dir), [new]) => {
            let new = Side::resolve(&context.store, new)?;
            let key = BaselineKey::of(&new.builds, &key);
            let found = gohook_analysis::newest_baseline(&dir, &key)?;
            eprintln!(
                "compare: OLD is the newest baseline of this machine's key in {}: {} (key {})",
                dir.display(),
                found.path.display(),
                key.describe()
            );
            let old = Side::resolve(&context.store, &found.path.to_string_lossy())?;
            (old, new)
        }
        (Some(_), _) => bail!("with --baseline DIR, name NEW only: gohook compare --baseline DIR NEW"),
        (None, [old, new]) => (Side::resolve(&context.store, old)?, Side::resolve(&context.store, new)?),
        (None, _) => bail!("name two sides, OLD and NEW (or --baseline DIR and NEW)"),
    };
    let report = Comparison::of(&old, &new, &CompareOptions { alpha, threshold });
    let text = match format {
        CompareFormat::Table => report.to_table(),
        CompareFormat::Markdown | CompareFormat::Github => report.to_markdown(),
        CompareFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    if matches!(format, CompareFormat::Github)
        && let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty())
    {
        // Appended, as GitHub asks: other steps of the job write their own parts of the summary.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .with_context(|| format!("cannot append to GITHUB_STEP_SUMMARY ({})", summary.to_string_lossy()))?;
    }
    write_output(output, &text)?;
    Ok(report.exit_code)
}
