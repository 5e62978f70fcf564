//! `gohook why`: the analysis is `gohook_analysis::why`'s; this finds the build, the packages asked about, and the
//! builds to compare with.

use anyhow::{Result, bail};

use gohook_analysis::BuildRecords;

use crate::args::{ListFormat, WhyArgs};
use crate::commands::CommandContext;
use crate::output::write_output;

pub fn why(args: WhyArgs, context: CommandContext) -> Result<u8> {
    let store = &context.store;
    let WhyArgs { targets, vs, format } = args;
    // A first argument that names a recorded build is the build; the rest (or all) are packages.
    let (build, packages) = match targets.split_first() {
        Some((first, rest)) if store.find(first).is_ok() => (BuildRecords::find(store, first)?, rest.to_vec()),
        _ => (BuildRecords::latest(store)?, targets.clone()),
    };
    if let Some(unknown) = packages.iter().find(|p| !is_in(&build, p)) {
        bail!(
            "{unknown:?} is neither a recorded build nor a package of build {} (`gohook builds` lists builds)",
            build.id
        );
    }
    let earlier = match &vs {
        Some(id) => vec![BuildRecords::find(store, id)?],
        None => build.earlier_builds(store)?,
    };
    let earlier: Vec<&BuildRecords> = earlier.iter().collect();
    let answer = gohook_analysis::why(&build, &earlier, &packages);
    let text = match format {
        ListFormat::Table => answer.to_table(),
        ListFormat::Json => serde_json::to_string_pretty(&answer)? + "\n",
    };
    write_output(None, &text)?;
    Ok(0)
}

/// Whether `package` is one of the build's (in its graph, or among its runs).
fn is_in(build: &BuildRecords, package: &str) -> bool {
    build.packages.iter().flatten().any(|p| p.package == package) || build.runs.iter().any(|r| r.package == package)
}
