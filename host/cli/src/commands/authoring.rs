//! `gohook plugin new|build|test`: writing a plugin of one's own. The starters, SDKs and builds are
//! `gohook_authoring`'s; `test` is `gohook check` with one plugin and nothing else.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use serde::Deserialize;

use gohook_authoring::Lang;
use gohook_policy::{Moment, MomentInput, PluginConfig, PluginInvocation, PluginSpec, Policy, Probe, go_environment};
use gohook_process::env;

use crate::args::{CheckFormat, PluginBuildArgs, PluginLang, PluginMoment, PluginNewArgs, PluginTestArgs};
use crate::check_report::{check_files, moment_report};
use crate::commands::CommandContext;
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

/// `--input` with `--moment check`: a check reads the binaries it is given, not a moment's input.
const INPUT_NOT_FOR_CHECK: &str = "--input is for --moment probe, before-tool or after-tool; check takes binaries";

pub fn test(args: PluginTestArgs, context: CommandContext) -> Result<u8> {
    let PluginTestArgs { plugin, files, settings, moment, input, format } = args;
    let plugin = std::path::absolute(&plugin)?;
    if !plugin.is_file() {
        anyhow::bail!("{}: no such plugin file (gohook plugin build writes DIR/NAME.wasm)", plugin.display());
    }
    let settings: toml::Table = match settings {
        Some(json) => serde_json::from_str(&json).with_context(|| format!("--settings {json}: not a JSON object"))?,
        None => toml::Table::new(),
    };
    let config = PluginConfig { path: Some(plugin), settings, ..Default::default() };
    let specs = configured_as_it_names_itself(config, context.store.root())?;
    let report = match moment {
        PluginMoment::Check => {
            if input.is_some() {
                anyhow::bail!(INPUT_NOT_FOR_CHECK);
            }
            if files.is_empty() {
                anyhow::bail!("--moment check needs the binaries to check: gohook plugin test PLUGIN.wasm FILE…");
            }
            check_files(&specs, context.store.root(), &files)
        }
        moment => {
            let (subject, input) = moment_input(moment, input.as_deref(), &files)?;
            moment_report(&specs, context.store.root(), &subject, &input)
        }
    };
    let text = match format {
        CheckFormat::Human => report.to_human(true),
        CheckFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        CheckFormat::Sarif => serde_json::to_string_pretty(&report.to_sarif())? + "\n",
    };
    write_output(None, &text)?;
    Ok(report.exit_code())
}

/// The plugin configured under the name it gives itself, as `[plugins.NAME]` must for its rules to be its own; the
/// file's name until it answers (a plugin that cannot is reported by the call that follows).
fn configured_as_it_names_itself(config: PluginConfig, root: &std::path::Path) -> Result<Vec<PluginSpec>> {
    let specs_named = |name: String| {
        let policy = Policy { plugins: [(name, config.clone())].into(), ..Default::default() };
        PluginSpec::from_policy(&policy)
    };
    let stem = config.path.as_deref().and_then(|p| p.file_stem()).map(|s| s.to_string_lossy().into_owned());
    let stem: String =
        stem.unwrap_or_default().chars().filter(|c| c.is_ascii_alphanumeric() || "-_".contains(*c)).collect();
    let specs = specs_named(if stem.is_empty() { "plugin".to_owned() } else { stem })?;
    let answered = gohook_runtime::PluginRunner::new(&specs, root).metadata(&specs[0]).ok();
    match answered.map(|meta| meta.name).filter(|name| gohook_policy::valid_plugin_name(name)) {
        Some(name) if name != specs[0].name => Ok(specs_named(name)?),
        _ => Ok(specs),
    }
}

/// A probe as `--input` gives it; what is left out is this machine's, or go's usual.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeInput {
    #[serde(default = "compile")]
    tool: String,
    goos: Option<String>,
    goarch: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

/// A tool run as `--input` gives it, for before-tool and after-tool.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolInput {
    #[serde(default = "link")]
    tool: String,
    stage: Option<String>,
    #[serde(default)]
    import_path: String,
    goos: Option<String>,
    goarch: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    output: Option<String>,
    #[serde(default)]
    exit_code: i32,
}

fn compile() -> String {
    "compile".to_owned()
}

fn link() -> String {
    "link".to_owned()
}

/// What go hands plugins at `moment`, from `--input` (JSON text or @FILE) and, after a tool, its output file; and
/// how the report names it.
fn moment_input(moment: PluginMoment, input: Option<&str>, files: &[PathBuf]) -> Result<(String, MomentInput)> {
    let text = match input {
        Some(path) if path.starts_with('@') => std::fs::read_to_string(&path[1..])
            .with_context(|| format!("--input {path}: cannot read {}", &path[1..]))?,
        Some(text) => text.to_owned(),
        None => "{}".to_owned(),
    };
    let shown = input.unwrap_or("{}");
    let parse_error =
        |e: serde_json::Error| anyhow::anyhow!("--input {shown}: {e} (gohook plugin test --help shows the fields)");
    let machine = || gohook_native::Machine::detect().platform;
    let too_many = |most: usize| {
        anyhow::anyhow!(
            "--moment {}: takes {} FILE, {} given",
            moment_name(moment),
            if most == 0 { "no".to_owned() } else { format!("at most {most}") },
            files.len()
        )
    };
    match moment {
        PluginMoment::Check => {
            anyhow::bail!(INPUT_NOT_FOR_CHECK)
        }
        PluginMoment::Probe => {
            if !files.is_empty() {
                return Err(too_many(0));
            }
            let probe: ProbeInput = serde_json::from_str(&text).map_err(parse_error)?;
            let env = go_environment(probe.env.clone());
            if let Some((left_out, _)) = probe.env.iter().find(|(k, _)| !env.iter().any(|(e, _)| e == *k)) {
                anyhow::bail!("--input: env {left_out}: plugins see only GO* and CGO_* variables (not GOHOOK_*)");
            }
            let platform = machine();
            let probe = Probe {
                goos: probe.goos.unwrap_or(platform.goos),
                goarch: probe.goarch.unwrap_or(platform.goarch),
                tool: probe.tool,
                env,
            };
            Ok((format!("probe of {} for {}/{}", probe.tool, probe.goos, probe.goarch), MomentInput::Probe(probe)))
        }
        PluginMoment::BeforeTool | PluginMoment::AfterTool => {
            let after = moment == PluginMoment::AfterTool;
            if files.len() > usize::from(after) {
                return Err(too_many(usize::from(after)));
            }
            let tool: ToolInput = serde_json::from_str(&text).map_err(parse_error)?;
            let output = files.first().map(std::path::absolute).transpose()?;
            let platform = machine();
            let invocation = PluginInvocation {
                stage: tool.stage.unwrap_or_else(|| stage_of(&tool.tool).to_owned()),
                tool: tool.tool,
                import_path: tool.import_path,
                goos: tool.goos.unwrap_or(platform.goos),
                goarch: tool.goarch.unwrap_or(platform.goarch),
                args: tool.args,
                output: tool.output.or_else(|| files.first().map(|f| f.display().to_string())),
            };
            let mut subject = format!("{} {}", moment_name(moment), invocation.tool);
            if !invocation.import_path.is_empty() {
                subject += &format!(" of {}", invocation.import_path);
            }
            if let Some(file) = files.first() {
                subject += &format!(" -> {}", file.display());
            }
            let input = if after {
                let output = output.or_else(|| invocation.output.as_ref().and_then(|o| std::path::absolute(o).ok()));
                MomentInput::AfterTool { invocation, exit_code: tool.exit_code, output }
            } else {
                MomentInput::BeforeTool(invocation)
            };
            Ok((subject, input))
        }
    }
}

fn moment_name(moment: PluginMoment) -> &'static str {
    let moment = match moment {
        PluginMoment::Check => Moment::Check,
        PluginMoment::Probe => Moment::Probe,
        PluginMoment::BeforeTool => Moment::BeforeTool,
        PluginMoment::AfterTool => Moment::AfterTool,
    };
    moment.name()
}

/// The stage the shim would give a run of `tool` (its name as go names it).
fn stage_of(tool: &str) -> &'static str {
    ["compile", "asm", "cgo", "link", "vet", "cover"].into_iter().find(|stage| *stage == tool).unwrap_or("other")
}
