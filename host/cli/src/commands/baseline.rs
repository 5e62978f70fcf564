//! `gohook baseline save|list`: baselines keyed by machine in a directory CI carries (`gohook_analysis`'s
//! baseline module); `gohook compare --baseline` reads them.

use anyhow::{Result, bail};

use gohook_analysis::{BaselineKey, BuildRecords};

use crate::args::{BaselineListArgs, BaselineSaveArgs};
use crate::commands::CommandContext;

pub fn save(args: BaselineSaveArgs, context: CommandContext) -> Result<u8> {
    let BaselineSaveArgs { baselines: dir, builds, run, key, keep } = args;
    let store = &context.store;
    let (builds, name) = match &run {
        Some(run) => {
            let builds = BuildRecords::of_run(store, run)?;
            if builds.is_empty() {
                bail!("no builds labelled with run {run:?} in {}", store.root().display());
            }
            (builds, run.clone())
        }
        None => {
            let builds = BuildRecords::selected(store, &builds)?;
            let name = builds.last().map(|b| b.id.clone()).unwrap_or_default();
            (builds, name)
        }
    };
    let (builds, dropped) = gohook_analysis::samples(builds);
    for line in gohook_analysis::describe_dropped(&dropped, &name) {
        eprintln!("gohook: {line}");
    }
    if builds.is_empty() {
        bail!("no build of {name} did what was asked, so there is nothing to save as a baseline (see above)");
    }
    let key = BaselineKey::of(&builds, &key);
    let count = builds.len();
    let saved = gohook_analysis::save_baseline(&dir, &key, builds, &name, keep)?;
    eprintln!(
        "gohook: saved {} as the newest baseline of key ({}) in {}",
        gohook_analysis::count(count, "build", "builds"),
        key.describe(),
        saved.path.display()
    );
    for removed in &saved.removed {
        eprintln!("gohook: removed {} (keeping the newest {keep} of this key)", removed.display());
    }
    Ok(0)
}

pub fn list(args: BaselineListArgs) -> Result<u8> {
    let keys = gohook_analysis::baseline_keys(&args.baselines)?;
    if keys.is_empty() {
        println!(
            "no baselines in {} (gohook baseline save {} saves one)",
            args.baselines.display(),
            args.baselines.display()
        );
    }
    for (folder, key) in keys {
        let mut files: Vec<String> = std::fs::read_dir(&folder)?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json") && n != "key.json")
            .collect();
        files.sort();
        println!("{}  ({} saved; newest {})", key.describe(), files.len(), files.last().map_or("-", String::as_str));
    }
    Ok(0)
}
