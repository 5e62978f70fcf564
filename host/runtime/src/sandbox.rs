//! What a plugin's store holds, and everything a plugin can reach: its settings, a log, and the artifact handed to
//! it, as plain methods that each contract version's host functions call (`contract/`). WASI is linked only so that Rust's std works inside the plugin; it gets no files, no network, no environment,
//! no arguments, a wall clock stuck at the epoch, and stdout/stderr captured into bounded buffers.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::Duration;

use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{ResourceLimiter, Result, bail};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostWallClock, WasiCtx, WasiCtxView, WasiView};

use crate::untrusted;

/// The most a plugin may read in one `artifact.read` call.
const MAX_READ: u32 = 16 << 20;
/// What a plugin may print before its output is cut off (a flood then fails the plugin, it cannot fill a disk).
pub const OUTPUT_CAPACITY: usize = 256 << 10;
/// What one call may send through gohook's log: this many lines and bytes, then one line saying what was dropped.
const LOG_LINES: usize = 100;
const LOG_BYTES: usize = 16 << 10;

/// A file handed to a plugin, read on demand.
pub struct ArtifactFile {
    pub path: PathBuf,
    file: File,
    size: u64,
}

impl ArtifactFile {
    pub fn open(path: PathBuf) -> std::io::Result<ArtifactFile> {
        let file = File::open(&path)?;
        let size = file.metadata()?.len();
        Ok(ArtifactFile { path, file, size })
    }
}

/// Memory and table limits, remembering whether the plugin ran into them so the failure can be named.
pub struct Limits {
    pub memory_bytes: usize,
    pub memory_exceeded: bool,
}

impl ResourceLimiter for Limits {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        if desired > self.memory_bytes {
            self.memory_exceeded = true;
            bail!("plugin memory limit of {} MiB reached", self.memory_bytes >> 20);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        if desired > 100_000 {
            bail!("plugin table limit reached");
        }
        Ok(true)
    }
}

/// How loud a plugin's log line is.
#[derive(Debug, Clone, Copy)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// A wall clock that always says 1970: plugins must not depend on the time of day.
struct EpochClock;

impl HostWallClock for EpochClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// The store data of one plugin call.
pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limits: Limits,
    pub plugin: String,
    settings_json: String,
    pub stdout: MemoryOutputPipe,
    pub stderr: MemoryOutputPipe,
    log: LogBudget,
    /// What the plugin read of the artifacts it was handed, in this call.
    pub reads: Reads,
}

/// Calls of `artifact.read` and the bytes they returned: a check that reads headers reads a few KB of any binary.
#[derive(Default, Clone, Copy)]
pub struct Reads {
    pub calls: u64,
    pub bytes: u64,
}

/// What a plugin has logged in this call, and what it was refused.
#[derive(Default)]
struct LogBudget {
    lines: usize,
    bytes: usize,
    dropped_lines: usize,
    dropped_bytes: usize,
}

impl Sandbox {
    pub fn new(plugin: &str, settings_json: String, memory_bytes: usize) -> Sandbox {
        let stdout = MemoryOutputPipe::new(OUTPUT_CAPACITY);
        let stderr = MemoryOutputPipe::new(OUTPUT_CAPACITY);
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(EpochClock)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Sandbox {
            wasi,
            table: ResourceTable::new(),
            limits: Limits { memory_bytes, memory_exceeded: false },
            plugin: plugin.to_owned(),
            settings_json,
            stdout,
            stderr,
            log: LogBudget::default(),
            reads: Reads::default(),
        }
    }

    /// Says how much of the plugin's log was dropped, once, at the end of a call.
    pub fn flush_log(&mut self) {
        let log = std::mem::take(&mut self.log);
        if log.dropped_lines > 0 {
            tracing::warn!(
                "[{}] {} more log lines ({} bytes) dropped: a plugin may log {LOG_LINES} lines or {} KiB per call",
                self.plugin,
                log.dropped_lines,
                log.dropped_bytes,
                LOG_BYTES >> 10
            );
        }
    }

    pub fn hand_over(&mut self, artifact: ArtifactFile) -> Result<Resource<ArtifactFile>> {
        Ok(self.table.push(artifact)?)
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl Sandbox {
    /// A line the plugin logs, prefixed with its name, within its budget per call.
    pub fn log(&mut self, level: LogLevel, message: &str) {
        // Counted as shown: a line longer than MAX_LINE is shown cut.
        let shown = message.len().min(untrusted::MAX_LINE);
        if self.log.lines >= LOG_LINES || self.log.bytes + shown > LOG_BYTES {
            self.log.dropped_lines += 1;
            self.log.dropped_bytes += message.len();
            return;
        }
        self.log.lines += 1;
        self.log.bytes += shown;
        let message = untrusted::clean(message, untrusted::MAX_LINE);
        let plugin = &self.plugin;
        match level {
            LogLevel::Trace => tracing::trace!("[{plugin}] {message}"),
            LogLevel::Debug => tracing::debug!("[{plugin}] {message}"),
            LogLevel::Info => tracing::info!("[{plugin}] {message}"),
            LogLevel::Warn => tracing::warn!("[{plugin}] {message}"),
            LogLevel::Error => tracing::error!("[{plugin}] {message}"),
        }
    }

    /// The plugin's settings from gohook.toml, as a JSON object.
    pub fn settings_json(&self) -> &str {
        &self.settings_json
    }

    /// An artifact handed to the plugin in this call.
    pub fn artifact(&self, handle: &Resource<ArtifactFile>) -> Result<&ArtifactFile> {
        Ok(self.table.get(handle)?)
    }

    /// The plugin dropped its handle.
    pub fn release(&mut self, handle: Resource<ArtifactFile>) -> Result<()> {
        self.table.delete(handle)?;
        Ok(())
    }
}

impl ArtifactFile {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Up to `len` bytes from `offset` (fewer at the end), or why not: the plugin's answer to `artifact.read`.
    pub fn read(&self, offset: u64, len: u32) -> std::result::Result<Vec<u8>, String> {
        if len > MAX_READ {
            return Err(format!("read of {len} bytes refused: at most {MAX_READ} per call"));
        }
        let len = (len as u64).min(self.size.saturating_sub(offset)) as usize;
        let mut buf = vec![0; len];
        let mut filled = 0;
        while filled < len {
            match self.file.read_at(&mut buf[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("{}: {e}", self.path.display())),
            }
        }
        buf.truncate(filled);
        Ok(buf)
    }
}
