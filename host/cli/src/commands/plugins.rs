//! `gohook plugins`: the plugins the policy configures, their versions and moments, and whether their native code
//! is cached.

use std::path::PathBuf;

use anyhow::Result;

use gohook_policy::{PluginSpec, Policy};
use gohook_records::Store;
use gohook_runtime::PluginRunner;

use crate::args::{ListFormat, PluginsArgs};
use crate::commands::CommandContext;
use crate::output::write_output;

pub fn plugins(args: PluginsArgs, context: CommandContext) -> Result<u8> {
    list_plugins(&context.store, context.config, args.format)
}

/// One row of `gohook plugins`.
#[derive(serde::Serialize)]
struct PluginRow {
    name: String,
    source: String,
    version: String,
    moments: Vec<String>,
    tools: Vec<String>,
    native_code: String,
    problem: Option<String>,
}

fn list_plugins(store: &Store, config: Option<PathBuf>, format: ListFormat) -> Result<u8> {
    let policy = Policy::find(config.as_deref(), &std::env::current_dir()?)?;
    let specs = PluginSpec::from_policy(&policy)?;
    let mut checker = PluginRunner::new(&specs, store.root());
    let mut rows = Vec::new();
    for spec in &specs {
        let meta = checker.metadata(spec);
        let native_code = checker.native_code_state(spec);
        let (version, moments, tools, problem) = match meta {
            Ok(m) => (m.version, m.moments, m.tools, None),
            Err(failure) => (String::new(), vec![], vec![], Some(format!("plugin {} {failure}", spec.name))),
        };
        rows.push(PluginRow {
            name: spec.name.clone(),
            source: spec.source.describe(),
            version,
            moments,
            tools,
            native_code,
            problem,
        });
    }
    let text = match format {
        ListFormat::Json => serde_json::to_string_pretty(&rows)? + "\n",
        ListFormat::Table => {
            let mut out = match &policy.source {
                Some(path) => format!("policy: {}\n", path.display()),
                None => "no gohook.toml found (here or above); no plugins configured\n".to_owned(),
            };
            if !rows.is_empty() {
                out += &format!(
                    "{:<16} {:<9} {:<28} {:<10} {:<14} {}\n",
                    "PLUGIN", "VERSION", "MOMENTS", "TOOLS", "NATIVE CODE", "SOURCE"
                );
            }
            for row in &rows {
                out += &format!(
                    "{:<16} {:<9} {:<28} {:<10} {:<14} {}\n",
                    row.name,
                    row.version,
                    row.moments.join(","),
                    if row.tools.is_empty() { "all".to_owned() } else { row.tools.join(",") },
                    row.native_code,
                    row.source
                );
                if let Some(problem) = &row.problem {
                    out += &format!("  problem: {problem}\n");
                }
            }
            let builtins: Vec<&str> = gohook_policy::BUILTINS.iter().map(|b| b.name).collect();
            out += &format!("built-in plugins: {}\n", builtins.join(", "));
            out
        }
    };
    write_output(None, &text)?;
    let broken = rows.iter().any(|r| r.problem.is_some());
    Ok(u8::from(broken))
}
