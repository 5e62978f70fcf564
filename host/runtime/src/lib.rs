//! The plugin runtime: one wasmtime engine with the component model, a linker holding only gohook's host interface
//! and the WASI needed for Rust's std, native code from the [`cache`], and calls that run with a time limit, a
//! memory limit and captured output. Whatever a plugin does, a call ends in findings or in a [`PluginFailure`] that
//! says what happened; it never takes gohook down.
//!
//! The time limit has two halves, because neither covers every way a plugin can hold on: epoch interruption traps
//! wasm code that keeps running (a loop), and each call is an async future under a timer, so a plugin waiting in a
//! host call — a WASI poll on a clock, a stream, any pollable — is dropped at the limit as well.

mod bindings;
mod cache;
mod checker;
mod sandbox;
mod untrusted;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store, Trap};

use bindings::gohook::plugin::types as wit;
use cache::{CacheState, CompileCache};
pub use checker::Checker;
use gohook_policy::{Finding, Invocation, Limits, Moment, MomentInput, PluginMeta, Probe, RuleMeta, SettingMeta};
use gohook_records::FindingLevel;
use sandbox::{ArtifactFile, Sandbox};

/// The contract this host implements (`package gohook:plugin@…` in `wit/plugin.wit`).
pub const CONTRACT_VERSION: &str = "0.1.0";

/// Epoch ticks are this long; time limits are counted in them.
const TICK: Duration = Duration::from_millis(10);
/// Plugins get this much wasm stack; deeper recursion traps as a stack overflow.
const WASM_STACK: usize = 1 << 20;
/// Findings kept from one call; a plugin cannot flood the report.
pub(crate) const MAX_FINDINGS: usize = 1000;
/// Errors about a plugin quote names from inside it: cleaned and capped like its messages.
const MAX_ERROR: usize = untrusted::MAX_MESSAGE;

/// Why a plugin produced no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginFailure {
    /// Not a component, or not one gohook can link.
    Load(String),
    /// Built for a contract this gohook does not speak.
    Incompatible(String),
    Timeout(Duration),
    Memory(usize),
    StackOverflow,
    /// The plugin panicked; the text is where and why, from what it printed.
    Panic(String),
    /// The plugin printed more than its output allows.
    Flood,
    Trap(String),
}

impl std::fmt::Display for PluginFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginFailure::Load(why) => write!(f, "could not be loaded: {why}"),
            PluginFailure::Incompatible(why) => f.write_str(why),
            PluginFailure::Timeout(limit) => {
                write!(
                    f,
                    "did not finish within its time limit of {} ms (timeout_ms in gohook.toml)",
                    limit.as_millis()
                )
            }
            PluginFailure::Memory(bytes) => {
                write!(f, "exceeded its memory limit of {} MiB (memory_mib in gohook.toml)", bytes >> 20)
            }
            PluginFailure::StackOverflow => f.write_str("overflowed its stack (runaway recursion)"),
            PluginFailure::Panic(message) if message.is_empty() => f.write_str("panicked"),
            PluginFailure::Panic(message) => write!(f, "panicked {message}"),
            PluginFailure::Flood => {
                write!(f, "flooded its output (more than {} KiB printed)", sandbox::OUTPUT_CAPACITY >> 10)
            }
            PluginFailure::Trap(message) => write!(f, "trapped: {message}"),
        }
    }
}

/// A compiled plugin, ready to instantiate.
pub(crate) struct Loaded {
    pre: bindings::PluginPre<Sandbox>,
    pub cache: CacheState,
}

/// What a call asks of a plugin: what it is, or what it finds at a moment.
pub(crate) enum Call<'a> {
    Metadata,
    Moment(&'a MomentInput),
}

pub(crate) enum Answer {
    Metadata(PluginMeta),
    /// At most [`MAX_FINDINGS`], cleaned; `dropped` says how many more the plugin returned.
    Findings {
        findings: Vec<Finding>,
        dropped: usize,
    },
}

pub(crate) struct Runtime {
    engine: Engine,
    linker: Linker<Sandbox>,
    cache: CompileCache,
    ticker_stop: Arc<AtomicBool>,
    /// Drives the async calls; WASI's clocks and streams need its timer.
    executor: tokio::runtime::Runtime,
}

impl Runtime {
    /// An engine with epoch interruption and a bounded stack, and a compile cache in `cache_dir`.
    pub fn new(cache_dir: PathBuf) -> wasmtime::Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true).max_wasm_stack(WASM_STACK);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        bindings::Plugin::add_to_linker::<Sandbox, wasmtime::component::HasSelf<Sandbox>>(&mut linker, |s| s)?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (ticking, stop) = (engine.clone(), ticker_stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                ticking.increment_epoch();
            }
        });
        let executor = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
        Ok(Runtime { engine, linker, cache: CompileCache::open(cache_dir), ticker_stop, executor })
    }

    pub fn cache(&self) -> &CompileCache {
        &self.cache
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Native code for the plugin with `content_id`, from the cache or compiled from `wasm` now, checked against
    /// the contract.
    pub fn load<'w>(
        &self,
        content_id: &str,
        wasm: impl FnOnce() -> std::io::Result<std::borrow::Cow<'w, [u8]>>,
    ) -> Result<Loaded, PluginFailure> {
        let load_failure =
            |e: &dyn std::fmt::Display| PluginFailure::Load(untrusted::clean(&format!("{e:#}"), MAX_ERROR));
        let (component, cache) = self.cache.load(&self.engine, content_id, wasm).map_err(|e| load_failure(&e))?;
        check_contract(&self.engine, &component)?;
        let pre = self.linker.instantiate_pre(&component).map_err(|e| load_failure(&e))?;
        let pre = bindings::PluginPre::new(pre).map_err(|e| {
            let why = untrusted::clean(&format!("{e:#}"), MAX_ERROR);
            PluginFailure::Load(format!("{why} (is this a gohook plugin built with gohook-sdk?)"))
        })?;
        Ok(Loaded { pre, cache })
    }

    /// One call into a fresh instance of the plugin.
    pub fn call(
        &self,
        loaded: &Loaded,
        plugin: &str,
        settings_json: String,
        limits: Limits,
        call: Call<'_>,
    ) -> Result<Answer, PluginFailure> {
        let mut store = Store::new(&self.engine, Sandbox::new(plugin, settings_json, limits.memory_bytes));
        store.limiter(|sandbox| &mut sandbox.limits);
        store.set_epoch_deadline((limits.timeout.as_millis() / TICK.as_millis()).max(1) as u64);
        store.epoch_deadline_trap();
        // The timer is made inside the executor, whose clock it needs.
        let outcome =
            self.executor.block_on(async { tokio::time::timeout(limits.timeout, run(&mut store, loaded, call)).await });
        store.data_mut().flush_log();
        relay_output(&store);
        match outcome {
            Ok(result) => result.map_err(|e| classify(e, &store, limits)),
            // Dropping the future abandons the call wherever the plugin was waiting.
            Err(_elapsed) => Err(PluginFailure::Timeout(limits.timeout)),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

async fn run(store: &mut Store<Sandbox>, loaded: &Loaded, call: Call<'_>) -> wasmtime::Result<Answer> {
    let plugin = loaded.pre.instantiate_async(&mut *store).await?;
    let findings = match call {
        Call::Metadata => return Ok(Answer::Metadata(clean_metadata(plugin.call_metadata(&mut *store).await?))),
        Call::Moment(MomentInput::Probe(probe)) => plugin.call_on_probe(&mut *store, &wit_probe(probe)).await?,
        Call::Moment(MomentInput::BeforeTool(invocation)) => {
            plugin.call_before_tool(&mut *store, &wit_invocation(invocation)).await?
        }
        Call::Moment(MomentInput::AfterTool { invocation, exit_code, output }) => {
            let artifact = match output.clone().map(ArtifactFile::open) {
                Some(Ok(file)) => Some(store.data_mut().hand_over(file)?),
                // A tool that failed may have left no output: the plugin sees none.
                Some(Err(_)) | None => None,
            };
            plugin.call_after_tool(&mut *store, &wit_invocation(invocation), *exit_code, artifact).await?
        }
        Call::Moment(MomentInput::Check(path)) => {
            let file = ArtifactFile::open(path.clone())
                .map_err(|e| wasmtime::format_err!("cannot open {}: {e}", path.display()))?;
            let artifact = store.data_mut().hand_over(file)?;
            plugin.call_check(&mut *store, artifact).await?
        }
    };
    let dropped = findings.len().saturating_sub(MAX_FINDINGS);
    Ok(Answer::Findings { findings: bounded(findings), dropped })
}

// gohook's own types to the contract's, and back: the bindings stay inside the runtime.

fn wit_probe(probe: &Probe) -> wit::Probe {
    wit::Probe {
        tool: probe.tool.clone(),
        goos: probe.goos.clone(),
        goarch: probe.goarch.clone(),
        env: probe.env.clone(),
    }
}

fn wit_invocation(invocation: &Invocation) -> wit::Invocation {
    wit::Invocation {
        tool: invocation.tool.clone(),
        stage: invocation.stage.clone(),
        import_path: invocation.import_path.clone(),
        goos: invocation.goos.clone(),
        goarch: invocation.goarch.clone(),
        args: invocation.args.clone(),
        output: invocation.output.clone(),
    }
}

fn moment_of(moment: wit::Moment) -> Moment {
    match moment {
        wit::Moment::Probe => Moment::Probe,
        wit::Moment::BeforeTool => Moment::BeforeTool,
        wit::Moment::AfterTool => Moment::AfterTool,
        wit::Moment::Check => Moment::Check,
    }
}

/// At most [`MAX_FINDINGS`] findings, every text in them [`untrusted::clean`]ed.
fn bounded(findings: Vec<wit::Finding>) -> Vec<Finding> {
    findings.into_iter().take(MAX_FINDINGS).map(clean_finding).collect()
}

fn clean_finding(finding: wit::Finding) -> Finding {
    use untrusted::{MAX_HELP, MAX_MESSAGE, MAX_RULE, clean, clean_opt};
    Finding {
        rule: clean(&finding.rule, MAX_RULE),
        severity: match finding.severity {
            wit::Severity::Error => FindingLevel::Error,
            wit::Severity::Warning => FindingLevel::Warning,
            wit::Severity::Note => FindingLevel::Note,
        },
        message: clean(&finding.message, MAX_MESSAGE),
        help: clean_opt(finding.help, MAX_HELP),
    }
}

/// What a plugin says about itself is shown by `gohook plugins` and in messages: cleaned like findings.
fn clean_metadata(m: wit::Metadata) -> PluginMeta {
    use untrusted::{MAX_HELP, MAX_LINE, MAX_NAME, MAX_RULE, clean};
    let names = |list: Vec<String>| list.iter().take(MAX_FINDINGS).map(|t| clean(t, MAX_NAME)).collect();
    PluginMeta {
        name: clean(&m.name, MAX_NAME),
        version: clean(&m.version, MAX_NAME),
        moments: m.moments.into_iter().map(|x| moment_of(x).name().to_owned()).collect(),
        tools: names(m.tools),
        settings: m
            .settings
            .into_iter()
            .take(MAX_FINDINGS)
            .map(|s| SettingMeta { name: clean(&s.name, MAX_NAME), description: clean(&s.description, MAX_LINE) })
            .collect(),
        rules: m
            .rules
            .into_iter()
            .take(MAX_FINDINGS)
            .map(|r| RuleMeta {
                id: clean(&r.id, MAX_RULE),
                summary: clean(&r.summary, MAX_LINE),
                help: clean(&r.help, MAX_HELP),
            })
            .collect(),
    }
}

/// Lines of a plugin's stdout or stderr relayed to gohook's log per call; the rest is counted.
const RELAYED_LINES: usize = 50;

/// Sends what the plugin printed to gohook's log, prefixed with its name.
fn relay_output(store: &Store<Sandbox>) {
    let sandbox = store.data();
    for (stream, pipe) in [("stdout", &sandbox.stdout), ("stderr", &sandbox.stderr)] {
        let bytes = pipe.contents();
        let text = String::from_utf8_lossy(&bytes);
        let mut lines = text.lines();
        for line in lines.by_ref().take(RELAYED_LINES) {
            tracing::info!("[{}] {stream}: {}", sandbox.plugin, untrusted::clean(line, untrusted::MAX_LINE));
        }
        let rest = lines.count();
        if rest > 0 {
            tracing::info!("[{}] {stream}: {rest} more lines not shown", sandbox.plugin);
        }
    }
}

fn classify(error: wasmtime::Error, store: &Store<Sandbox>, limits: Limits) -> PluginFailure {
    let sandbox = store.data();
    if sandbox.limits.memory_exceeded {
        return PluginFailure::Memory(limits.memory_bytes);
    }
    let printed = sandbox.stdout.contents().len().max(sandbox.stderr.contents().len());
    if printed + (64 << 10) >= sandbox::OUTPUT_CAPACITY {
        return PluginFailure::Flood;
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => PluginFailure::Timeout(limits.timeout),
        Some(Trap::StackOverflow) => PluginFailure::StackOverflow,
        Some(Trap::UnreachableCodeReached) => PluginFailure::Panic(panic_message(store)),
        Some(trap) => PluginFailure::Trap(trap.to_string()),
        // wasmtime's text can carry names from the plugin (function names of a backtrace, import names).
        None => PluginFailure::Trap(untrusted::clean(&format!("{error:#}"), MAX_ERROR)),
    }
}

/// Rust plugins print `thread '…' panicked at FILE:LINE:COL:` and the message to stderr before trapping.
fn panic_message(store: &Store<Sandbox>) -> String {
    let stderr = store.data().stderr.contents();
    let text = String::from_utf8_lossy(&stderr);
    let lines: Vec<&str> =
        text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE")).collect();
    let message = match lines.iter().rposition(|l| l.contains("panicked at ")) {
        Some(at) => {
            let location = &lines[at][lines[at].find("panicked at ").unwrap() + "panicked ".len()..];
            format!("{location} {}", lines[at + 1..].join(" / "))
        }
        None => format!(": {}", lines[lines.len().saturating_sub(3)..].join(" / ")),
    };
    untrusted::clean(message.trim_end(), untrusted::MAX_MESSAGE)
}

/// A plugin must import gohook's interfaces at a version this host can serve. wasmtime would refuse a mismatch too,
/// but with a message about link names; this one says which side to upgrade.
fn check_contract(engine: &Engine, component: &Component) -> Result<(), PluginFailure> {
    for (name, _) in component.component_type().imports(engine) {
        if let Some(rest) = name.strip_prefix("gohook:plugin/") {
            let version = rest.split_once('@').map(|(_, v)| v).unwrap_or("");
            contract_compatibility(version).map_err(PluginFailure::Incompatible)?;
        }
    }
    Ok(())
}

/// Same major version, and for 0.x the same minor, no newer than the host: 0.1.x plugins run on any 0.1.y host
/// with y >= x.
fn contract_compatibility(plugin_version: &str) -> Result<(), String> {
    let host = semver_triple(CONTRACT_VERSION).expect("CONTRACT_VERSION is x.y.z");
    let Some(plugin) = semver_triple(plugin_version) else {
        return Err(format!(
            "imports gohook's interfaces without a version this gohook understands: rebuild the plugin with gohook-sdk {CONTRACT_VERSION}"
        ));
    };
    let same_line = plugin.0 == host.0 && (host.0 > 0 || plugin.1 == host.1);
    if same_line && plugin <= host {
        return Ok(());
    }
    let upgrade = if plugin > host {
        format!("upgrade gohook to one that supports contract {plugin_version}")
    } else {
        format!("rebuild the plugin with gohook-sdk {CONTRACT_VERSION}")
    };
    Err(format!("was built for plugin contract {plugin_version}, and this gohook speaks {CONTRACT_VERSION}: {upgrade}"))
}

fn semver_triple(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split(['.', '-', '+']).map(|p| p.parse::<u64>());
    Some((parts.next()?.ok()?, parts.next()?.ok()?, parts.next()?.ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_version_matches_the_wit_package() {
        let wit = include_str!("../../../wit/plugin.wit");
        assert!(wit.contains(&format!("package gohook:plugin@{CONTRACT_VERSION};")));
    }

    #[test]
    fn contract_versions_within_a_line_are_compatible() {
        assert_eq!(contract_compatibility("0.1.0"), Ok(()));
        let newer = contract_compatibility("0.1.7").unwrap_err();
        assert!(newer.ends_with("upgrade gohook to one that supports contract 0.1.7"), "{newer}");
        let next_line = contract_compatibility("0.2.0").unwrap_err();
        assert!(next_line.ends_with("upgrade gohook to one that supports contract 0.2.0"), "{next_line}");
        let old_line = contract_compatibility("0.0.3").unwrap_err();
        assert!(old_line.ends_with("rebuild the plugin with gohook-sdk 0.1.0"), "{old_line}");
        assert!(contract_compatibility("").unwrap_err().contains("without a version"));
    }

    #[test]
    fn semver_parsing() {
        assert_eq!(semver_triple("0.1.0"), Some((0, 1, 0)));
        assert_eq!(semver_triple("1.2.3-pre"), Some((1, 2, 3)));
        assert_eq!(semver_triple("x"), None);
    }

    #[test]
    fn oversized_answers_are_cut() {
        let finding = |i: usize| wit::Finding {
            rule: "r".into(),
            severity: wit::Severity::Error,
            message: "é".repeat(3000 + i),
            help: None,
            location: None,
        };
        let findings = bounded((0..MAX_FINDINGS + 5).map(finding).collect());
        assert_eq!(findings.len(), MAX_FINDINGS);
        assert!(findings[0].message.len() <= untrusted::MAX_MESSAGE + "…[9999 more bytes]".len());
        assert!(findings[0].message.ends_with("…[1904 more bytes]"), "{}", &findings[0].message[4090..]);
    }
}
