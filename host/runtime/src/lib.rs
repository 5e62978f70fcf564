//! The plugin runtime: one wasmtime engine with the component model, a linker holding only gohook's host interface
//! and the WASI needed for Rust's std, native code from the [`cache`], and calls that run with a time limit, a
//! memory limit and captured output. Whatever a plugin does, a call ends in findings or in a [`PluginFailure`] that
//! says what happened; it never takes gohook down.
//!
//! The time limit has two halves, because neither covers every way a plugin can hold on: epoch interruption traps
//! wasm code that keeps running (a loop), and each call is an async future under a timer, so a plugin waiting in a
//! host call — a WASI poll on a clock, a stream, any pollable — is dropped at the limit as well.

mod cache;
mod checker;
mod contract;
mod sandbox;
mod untrusted;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine, Store, Trap};

use cache::{CacheState, CompileCache};
pub use checker::PluginRunner;
use contract::Version;
use gohook_policy::{Finding, Limits, MomentInput, PluginMeta, PluginSpec, RuleMeta, SettingMeta, Source};
use sandbox::Sandbox;

/// The built-in plugins' wasm, by name (`host/policy/build.rs` builds them; the shim carries only their ids).
static BUILTIN_WASM: &[(&str, &[u8])] = include!(env!("BUILTIN_WASM_TABLE"));

/// The plugin's wasm: embedded for a built-in, read now for a file.
fn wasm_of(spec: &PluginSpec) -> std::io::Result<std::borrow::Cow<'static, [u8]>> {
    match &spec.source {
        Source::Builtin(builtin) => {
            let wasm = BUILTIN_WASM.iter().find(|(name, _)| *name == builtin.name).map(|(_, wasm)| *wasm);
            Ok(std::borrow::Cow::Borrowed(wasm.expect("every built-in's wasm is embedded")))
        }
        Source::File(path) => gohook_policy::read_plugin_file(path).map(std::borrow::Cow::Owned),
    }
}

/// Epoch ticks are this long; time limits are counted in them.
const TICK: Duration = Duration::from_millis(10);
/// Plugins get this much wasm stack; deeper recursion traps as a stack overflow.
const WASM_STACK: usize = 1 << 20;
/// Findings kept from one call; a plugin cannot flood the report.
pub(crate) const MAX_FINDINGS: usize = 1000;
/// Errors about a plugin quote names from inside it: cleaned and capped like its messages.
const MAX_ERROR: usize = untrusted::MAX_MESSAGE;

/// Why a plugin produced no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginFailure {
    /// Not a component, or not one gohook can link.
    #[error("could not be loaded: {0}")]
    Load(String),
    /// Built for a contract this gohook does not speak.
    #[error("{0}")]
    Incompatible(String),
    #[error("did not finish within its time limit of {} ms (timeout_ms in gohook.toml)", .0.as_millis())]
    Timeout(Duration),
    #[error("exceeded its memory limit of {} MiB (memory_mib in gohook.toml)", .0 >> 20)]
    Memory(usize),
    #[error("overflowed its stack (runaway recursion)")]
    StackOverflow,
    /// The plugin panicked; the text is where and why, from what it printed.
    #[error("panicked{}", if .0.is_empty() { String::new() } else { format!(" {}", .0) })]
    Panic(String),
    /// The plugin's language runtime stopped it (a Go `fatal error:` such as a deadlock); the text is what and where.
    #[error("stopped with {0}")]
    Fatal(String),
    /// The plugin exited the process (`os.Exit`, `std::process::exit`) instead of returning its answer. (WASI
    /// carries only success or failure through its exit, so the plugin's own status is not known.)
    #[error("exited (os.Exit or process::exit) instead of returning its findings")]
    Exited,
    /// The plugin printed more than its output allows.
    #[error("flooded its output (more than {} KiB printed)", sandbox::OUTPUT_CAPACITY >> 10)]
    Flood,
    #[error("trapped: {0}")]
    Trap(String),
}

/// A compiled plugin, ready to instantiate.
pub(crate) struct Loaded {
    pre: contract::Pre,
    pub cache: CacheState,
}

/// What a call asks of a plugin: what it is, or what it finds at a moment.
pub(crate) enum Call<'a> {
    Metadata,
    Moment(&'a MomentInput),
}

/// What a plugin answered, in gohook's types, as the contract's module converted it: not yet cleaned or bounded.
pub(crate) enum Answer {
    Metadata(PluginMeta),
    Findings(Vec<Finding>),
}

/// What a call brings back, cleaned: at most [`MAX_FINDINGS`] findings (`dropped` says how many more there were).
pub(crate) enum Cleaned {
    Metadata(PluginMeta),
    Findings { findings: Vec<Finding>, dropped: usize },
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
        contract::add_to_linker(&mut linker)?;
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
        let version = Version::of(&self.engine, &component).map_err(PluginFailure::Incompatible)?;
        let pre = self.linker.instantiate_pre(&component).map_err(|e| load_failure(&e))?;
        let pre = contract::Pre::new(version, pre).map_err(|e| {
            let why = untrusted::clean(&format!("{e:#}"), MAX_ERROR);
            PluginFailure::Load(format!("{why} (is this a gohook plugin built with gohook-sdk?)"))
        })?;
        Ok(Loaded { pre, cache })
    }

    /// What the plugin says about itself.
    pub fn metadata(
        &self,
        loaded: &Loaded,
        plugin: &str,
        settings_json: String,
        limits: Limits,
    ) -> Result<PluginMeta, PluginFailure> {
        match self.call(loaded, plugin, settings_json, limits, Call::Metadata)? {
            Cleaned::Metadata(meta) => Ok(meta),
            Cleaned::Findings { .. } => Err(PluginFailure::Trap("answered a metadata call with findings".into())),
        }
    }

    /// What the plugin finds at a moment: at most [`MAX_FINDINGS`] findings and how many more it returned.
    pub fn moment(
        &self,
        loaded: &Loaded,
        plugin: &str,
        settings_json: String,
        limits: Limits,
        input: &MomentInput,
    ) -> Result<(Vec<Finding>, usize), PluginFailure> {
        match self.call(loaded, plugin, settings_json, limits, Call::Moment(input))? {
            Cleaned::Findings { findings, dropped } => Ok((findings, dropped)),
            Cleaned::Metadata(_) => Err(PluginFailure::Trap("answered a moment with metadata".into())),
        }
    }

    /// One call into a fresh instance of the plugin.
    fn call(
        &self,
        loaded: &Loaded,
        plugin: &str,
        settings_json: String,
        limits: Limits,
        call: Call<'_>,
    ) -> Result<Cleaned, PluginFailure> {
        let mut store = Store::new(&self.engine, Sandbox::new(plugin, settings_json, limits.memory_bytes));
        store.limiter(|sandbox| &mut sandbox.limits);
        store.set_epoch_deadline((limits.timeout.as_millis() / TICK.as_millis()).max(1) as u64);
        store.epoch_deadline_trap();
        // The timer is made inside the executor, whose clock it needs.
        let outcome = self
            .executor
            .block_on(async { tokio::time::timeout(limits.timeout, loaded.pre.call(&mut store, call)).await });
        store.data_mut().flush_log();
        relay_output(&store);
        let reads = store.data().reads;
        if reads.calls > 0 {
            tracing::info!("[{plugin}] read {} bytes of its artifacts in {} calls", reads.bytes, reads.calls);
        }
        match outcome {
            Ok(result) => result.map(clean).map_err(|e| classify(e, &store, limits)),
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

/// The answer with every text a plugin wrote [`untrusted::clean`]ed and its lists bounded.
fn clean(answer: Answer) -> Cleaned {
    match answer {
        Answer::Metadata(meta) => Cleaned::Metadata(clean_metadata(meta)),
        Answer::Findings(findings) => {
            let dropped = findings.len().saturating_sub(MAX_FINDINGS);
            Cleaned::Findings { findings: bounded(findings), dropped }
        }
    }
}

/// At most [`MAX_FINDINGS`] findings, every text in them [`untrusted::clean`]ed.
fn bounded(findings: Vec<Finding>) -> Vec<Finding> {
    findings.into_iter().take(MAX_FINDINGS).map(clean_finding).collect()
}

fn clean_finding(finding: Finding) -> Finding {
    use untrusted::{MAX_HELP, MAX_MESSAGE, MAX_RULE, clean, clean_opt};
    Finding {
        rule: clean(&finding.rule, MAX_RULE),
        severity: finding.severity,
        message: clean(&finding.message, MAX_MESSAGE),
        help: clean_opt(finding.help, MAX_HELP),
    }
}

/// What a plugin says about itself is shown by `gohook plugins` and in messages: cleaned like findings.
fn clean_metadata(m: PluginMeta) -> PluginMeta {
    use untrusted::{MAX_HELP, MAX_LINE, MAX_NAME, MAX_RULE, clean};
    let names = |list: Vec<String>| list.iter().take(MAX_FINDINGS).map(|t| clean(t, MAX_NAME)).collect();
    PluginMeta {
        name: clean(&m.name, MAX_NAME),
        version: clean(&m.version, MAX_NAME),
        moments: names(m.moments),
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
    if error.downcast_ref::<wasmtime_wasi::I32Exit>().is_some() {
        return PluginFailure::Exited;
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => PluginFailure::Timeout(limits.timeout),
        Some(Trap::StackOverflow) => PluginFailure::StackOverflow,
        Some(Trap::UnreachableCodeReached) => match go_fatal_error(store) {
            Some(fatal) => PluginFailure::Fatal(fatal),
            None => PluginFailure::Panic(panic_message(store)),
        },
        Some(trap) => PluginFailure::Trap(trap.to_string()),
        // wasmtime's text can carry names from the plugin (function names of a backtrace, import names).
        None => PluginFailure::Trap(untrusted::clean(&format!("{error:#}"), MAX_ERROR)),
    }
}

/// Go's runtime prints `fatal error: …` (a deadlock, a concurrent map write, out of memory) or `panic: …` (a panic
/// no one recovered, in a goroutine of the plugin's own) and a dump of the goroutines before it traps: that line, and
/// the first place in the plugin's own code (not the runtime's) under the first goroutine, as `fatal error: all
/// goroutines are asleep - deadlock! at hostile-go/main.go:44`.
fn go_fatal_error(store: &Store<Sandbox>) -> Option<String> {
    let stderr = store.data().stderr.contents();
    let text = String::from_utf8_lossy(&stderr);
    go_fatal_error_in(&text).map(|fatal| untrusted::clean(&fatal, untrusted::MAX_MESSAGE))
}

fn go_fatal_error_in(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("fatal error: ") || l.starts_with("panic: "))?;
    let mut place = None;
    let frames = lines[at..].iter().skip_while(|l| !l.starts_with("goroutine ")).skip(1);
    let frames: Vec<&&str> = frames.take_while(|l| !l.is_empty()).collect();
    for pair in frames.chunks(2) {
        if let [function, location] = pair
            && !function.starts_with("runtime.")
        {
            place = location.trim().split(" +0x").next();
            break;
        }
    }
    Some(match place {
        Some(place) => format!("{} at {place}", lines[at].trim_end()),
        None => lines[at].trim_end().to_owned(),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_go_fatal_error_is_named_with_the_plugins_own_line() {
        let stderr = "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan receive (nil chan)]:\n\
                      runtime.gopark(0x0)\n\truntime/proc.go:435 +0x1\n\
                      main.plugin.Check({}, 0x2cc040)\n\thostile-go/main.go:44 +0x3a\n\
                      hostile-go/gohook.exportCheck(0x4)\n\thostile-go/gohook/abi.go:357 +0x10\n";
        assert_eq!(
            go_fatal_error_in(stderr).unwrap(),
            "fatal error: all goroutines are asleep - deadlock! at hostile-go/main.go:44"
        );
        assert_eq!(go_fatal_error_in("panicked at x.go:3:\nboom\n"), None);
        let unrecovered = "panic: boom\n\ngoroutine 7 [running]:\nmain.work()\n\tp/main.go:12 +0x2\n";
        assert_eq!(go_fatal_error_in(unrecovered).unwrap(), "panic: boom at p/main.go:12");
    }

    #[test]
    fn oversized_answers_are_cut() {
        let finding = |i: usize| Finding {
            rule: "r".into(),
            severity: gohook_records::FindingLevel::Error,
            message: "é".repeat(3000 + i),
            help: None,
        };
        let findings = bounded((0..MAX_FINDINGS + 5).map(finding).collect());
        assert_eq!(findings.len(), MAX_FINDINGS);
        assert!(findings[0].message.len() <= untrusted::MAX_MESSAGE + "…[9999 more bytes]".len());
        assert!(findings[0].message.ends_with("…[1904 more bytes]"), "{}", &findings[0].message[4090..]);
    }
}
