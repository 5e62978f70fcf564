//! The plugin runtime: one wasmtime engine with the component model, a linker holding only gohook's host interface
//! and the WASI needed for Rust's std, native code from the [`cache`], and calls that run with a time limit (epoch
//! interruption), a memory limit and captured output. Whatever a plugin does, a call ends in findings or in a
//! [`PluginFailure`] that says what happened; it never takes gohook down.

pub mod bindings;
pub mod cache;
mod sandbox;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store, Trap};

pub use bindings::gohook::plugin::types::{Finding, Invocation, Metadata, Moment, Probe, Severity};
pub use cache::CacheState;
use cache::CompileCache;
use sandbox::{ArtifactFile, Sandbox};

/// The contract this host implements (`package gohook:plugin@…` in `wit/plugin.wit`).
pub const CONTRACT_VERSION: &str = "0.1.0";

/// Epoch ticks are this long; time limits are counted in them.
const TICK: Duration = Duration::from_millis(10);
/// Plugins get this much wasm stack; deeper recursion traps as a stack overflow.
const WASM_STACK: usize = 1 << 20;
/// Findings kept from one call; a plugin cannot flood the report.
const MAX_FINDINGS: usize = 1000;
const MAX_MESSAGE: usize = 4096;

/// Per-plugin resource limits from the policy.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { timeout: Duration::from_secs(5), memory_bytes: 64 << 20 }
    }
}

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
pub struct Loaded {
    pre: bindings::PluginPre<Sandbox>,
    pub cache: CacheState,
}

/// What a call asks of a plugin.
pub enum Call<'a> {
    Metadata,
    Probe(&'a Probe),
    BeforeTool(&'a Invocation),
    AfterTool { invocation: &'a Invocation, exit_code: i32, output: Option<PathBuf> },
    Check(PathBuf),
}

pub enum Answer {
    Metadata(Metadata),
    Findings(Vec<Finding>),
}

pub struct Runtime {
    engine: Engine,
    linker: Linker<Sandbox>,
    cache: CompileCache,
    ticker_stop: Arc<AtomicBool>,
}

impl Runtime {
    /// An engine with epoch interruption and a bounded stack, and a compile cache in `cache_dir`.
    pub fn new(cache_dir: PathBuf) -> anyhow::Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true).max_wasm_stack(WASM_STACK);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        bindings::Plugin::add_to_linker::<Sandbox, wasmtime::component::HasSelf<Sandbox>>(&mut linker, |s| s)?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (ticking, stop) = (engine.clone(), ticker_stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                ticking.increment_epoch();
            }
        });
        Ok(Runtime { engine, linker, cache: CompileCache::open(cache_dir), ticker_stop })
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
        let (component, cache) =
            self.cache.load(&self.engine, content_id, wasm).map_err(|e| PluginFailure::Load(format!("{e:#}")))?;
        check_contract(&self.engine, &component)?;
        let pre = self.linker.instantiate_pre(&component).map_err(|e| PluginFailure::Load(format!("{e:#}")))?;
        let pre = bindings::PluginPre::new(pre)
            .map_err(|e| PluginFailure::Load(format!("{e:#} (is this a gohook plugin built with gohook-sdk?)")))?;
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
        let result = run(&mut store, loaded, call);
        relay_output(&store);
        result.map_err(|e| classify(e, &store, limits))
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

fn run(store: &mut Store<Sandbox>, loaded: &Loaded, call: Call<'_>) -> wasmtime::Result<Answer> {
    let plugin = loaded.pre.instantiate(&mut *store)?;
    let findings = match call {
        Call::Metadata => return Ok(Answer::Metadata(plugin.call_metadata(&mut *store)?)),
        Call::Probe(probe) => plugin.call_on_probe(&mut *store, probe)?,
        Call::BeforeTool(invocation) => plugin.call_before_tool(&mut *store, invocation)?,
        Call::AfterTool { invocation, exit_code, output } => {
            let artifact = match output.map(ArtifactFile::open) {
                Some(Ok(file)) => Some(store.data_mut().hand_over(file)?),
                // A tool that failed may have left no output: the plugin sees none.
                Some(Err(_)) | None => None,
            };
            plugin.call_after_tool(&mut *store, invocation, exit_code, artifact)?
        }
        Call::Check(path) => {
            let file = ArtifactFile::open(path.clone())
                .map_err(|e| wasmtime::format_err!("cannot open {}: {e}", path.display()))?;
            let artifact = store.data_mut().hand_over(file)?;
            plugin.call_check(&mut *store, artifact)?
        }
    };
    Ok(Answer::Findings(bounded(findings)))
}

fn bounded(mut findings: Vec<Finding>) -> Vec<Finding> {
    let extra = findings.len().saturating_sub(MAX_FINDINGS);
    findings.truncate(MAX_FINDINGS);
    for finding in &mut findings {
        if finding.message.len() > MAX_MESSAGE {
            let cut = (0..=MAX_MESSAGE).rev().find(|&i| finding.message.is_char_boundary(i)).unwrap_or(0);
            finding.message.truncate(cut);
            finding.message.push('…');
        }
    }
    if extra > 0 {
        findings.push(Finding {
            rule: "gohook/too-many-findings".into(),
            severity: Severity::Warning,
            message: format!("{extra} more findings were dropped (at most {MAX_FINDINGS} per call)"),
            help: None,
            location: None,
        });
    }
    findings
}

/// Sends what the plugin printed to gohook's log, prefixed with its name.
fn relay_output(store: &Store<Sandbox>) {
    let sandbox = store.data();
    for (stream, pipe) in [("stdout", &sandbox.stdout), ("stderr", &sandbox.stderr)] {
        let bytes = pipe.contents();
        for line in String::from_utf8_lossy(&bytes).lines().take(50) {
            tracing::info!("[{}] {stream}: {line}", sandbox.plugin);
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
        None => PluginFailure::Trap(format!("{error:#}")),
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
    message.trim_end().chars().take(MAX_MESSAGE).collect()
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
        let finding = |i: usize| Finding {
            rule: "r".into(),
            severity: Severity::Error,
            message: "é".repeat(3000 + i),
            help: None,
            location: None,
        };
        let findings = bounded((0..MAX_FINDINGS + 5).map(finding).collect());
        assert_eq!(findings.len(), MAX_FINDINGS + 1);
        assert!(findings[0].message.len() <= MAX_MESSAGE + '…'.len_utf8());
        assert_eq!(findings[MAX_FINDINGS].message, "5 more findings were dropped (at most 1000 per call)");
    }
}
