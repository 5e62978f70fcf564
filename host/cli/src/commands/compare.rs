//! `gohook compare OLD NEW`: the comparison itself is `gohook_analysis`'s; this resolves the two sides and writes it.

use anyhow::{Result, bail};

use gohook_analysis::{CompareOptions, Comparison, Side};

use crate::args::{CompareArgs, CompareFormat};
use crate::commands::Context;
use crate::output::write_output;

pub fn compare(args: CompareArgs, context: Context) -> Result<u8> {
    let CompareArgs { old, new, alpha, threshold, format, output } = args;
    if !(alpha > 0.0 && alpha < 1.0) {
        bail!("--alpha {alpha}: give a significance level between 0 and 1, e.g. 0.05");
    }
    let (old, new) = (Side::resolve(&context.store, &old)?, Side::resolve(&context.store, &new)?);
    let report = Comparison::of(&old, &new, &CompareOptions { alpha, threshold });
    let text = match format {
        CompareFormat::Table => report.to_table(),
        CompareFormat::Markdown => report.to_markdown(),
        CompareFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    write_output(output, &text)?;
    Ok(report.exit_code)
}
