//! `gohook plugin new|build|test`: writing a plugin of one's own. The starters, SDKs and builds are
//! `gohook_authoring`'s; `test` is `gohook check` with one plugin and nothing else.

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use gohook_authoring::Lang;
use gohook_policy::{PluginConfig, PluginSpec, Policy};
use gohook_process::env;

use crate::args::{CheckFormat, PluginBuildArgs, PluginLang, PluginNewArgs, PluginTestArgs};
use crate::commands::Context;
use crate::commands::check::check_files;
use crate::output::write_output;

pub fn new(args: PluginNewArgs) -> Result<u8> {
    let PluginNewArgs { name, lang, into } = args;
    let dir = into.unwrap_or_else(|| PathBuf::from(&name));
    let lang = match lang {
        PluginLang::Go => Lang::Go,
        PluginLang::Rust => Lang::Rust,
    };
    let written = gohook_authoring::new_plugin(&dir, &name, lang)?;
    let shown = dir.display();
    eprintln!("gohook: wrote {} files into {shown}", written.len());
    let test = match lang {
        Lang::Go => "go test",
        Lang::Rust => "cargo test",
    };
    eprintln!(
        "next:  gohook plugin build {shown}\n       gohook plugin test {shown}/{name}.wasm BINARY\n       (cd {shown} && \
         {test})   the check's own test, natively\n       {shown}/gohook.toml.example: what to add to gohook.toml"
    );
    Ok(0)
}

pub fn build(args: PluginBuildArgs) -> Result<u8> {
    let started = std::time::Instant::now();
    let built = gohook_authoring::build(&args.dir, &env::go_program())?;
    eprintln!(
        "gohook: built {} ({:.1} MB) in {:.1} s",
        built.component.display(),
        built.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}

pub fn test(args: PluginTestArgs, context: Context) -> Result<u8> {
    let PluginTestArgs { plugin, files, settings, format } = args;
    let plugin = std::path::absolute(&plugin)?;
    if !plugin.is_file() {
        anyhow::bail!("{}: no such plugin file (gohook plugin build writes DIR/NAME.wasm)", plugin.display());
    }
    let settings: toml::Table = match settings {
        Some(json) => serde_json::from_str(&json).with_context(|| format!("--settings {json}: not a JSON object"))?,
        None => toml::Table::new(),
    };
    let name: String = plugin
        .file_stem()
        .map(|s| s.to_string_lossy().chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).collect())
        .filter(|s: &String| !s.is_empty())
        .unwrap_or_else(|| "plugin".to_owned());
    let config = PluginConfig { path: Some(plugin), settings, ..Default::default() };
    let policy = Policy { plugins: [(name, config)].into(), ..Default::default() };
    let specs = PluginSpec::from_policy(&policy)?;
    let report = check_files(&specs, context.store.root(), &files);
    let text = match format {
        CheckFormat::Human => report.to_human(true),
        CheckFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        CheckFormat::Sarif => serde_json::to_string_pretty(&report.to_sarif())? + "\n",
    };
    write_output(None, &text)?;
    Ok(report.exit_code())
}
