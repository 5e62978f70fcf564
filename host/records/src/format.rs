//! Timing records and their on-disk framing.
//!
//! Every tool invocation appends one frame to its build's record file. go runs tools in parallel and goreleaser runs
//! go builds in parallel, so a frame is written with a single `write` on an `O_APPEND` file, and carries a magic, a
//! format version, its length and a CRC: a reader can tell a torn or foreign frame from a good one, skip it with a
//! count, and find the next good frame.

use serde::{Deserialize, Serialize};

pub use crate::circumstances::BuildContext;
use crate::circumstances::BuildTraceParent;
pub use crate::load::BuildLoad;

/// Version of the [`Record`] encoding. Bump it when `Record` changes shape, and keep the old shape readable in a
/// module of its own (format 1: [`v1`]); readers skip unknown versions with a count.
pub const FORMAT_VERSION: u8 = 2;
const MAGIC: [u8; 3] = *b"GHR";
const HEADER_LEN: usize = MAGIC.len() + 1 + 4 + 4;
/// CRC-32 (IEEE), table-driven: the shim writes one frame per invocation, and a CPU-feature probe on first use
/// (what crc32fast does) would cost more than checksumming a frame.
const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fn checksum(bytes: &[u8]) -> u32 {
    CRC.checksum(bytes)
}

/// No honest record comes near this; a larger length field means the frame is garbage. A tool run is a few hundred
/// bytes, but go's cache-key inputs for a large module are megabytes in one frame (Jaeger's 2,325 packages: 1.9 MB).
/// The bound only rejects a damaged length early: a frame is read from the bytes that are there and checked by its CRC.
const MAX_PAYLOAD: usize = 256 << 20;

/// One entry of a build's record file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// Written by `gohook build`/`gohook exec` before go starts.
    BuildStart(BuildStart),
    /// One tool invocation that went through the shim.
    Tool(ToolRun),
    /// Written by `gohook build`/`gohook exec` after go exited.
    BuildEnd(BuildEnd),
    /// The run and target a build belongs to (`GOHOOK_RUN`, `GOHOOK_TARGET`), written at go's `-V=full` probes,
    /// which every go command runs even when everything else is cached. New variants go last: postcard numbers them,
    /// so files of format 1 stay readable.
    Label(BuildLabel),
    /// One binary that `gohook check` checked under a run label (a goreleaser post hook); kept per run.
    Check(CheckRun),
    /// The machine, go command and labels of a build, written at go's `-V=full` probes like [`Record::Label`].
    Context(BuildContext),
    /// Every package of a `gohook build` and what it imports, from `go list -deps` after go exited: which packages
    /// go served from its cache, and the graph the critical path runs through.
    Packages(BuildPackages),
    /// What a compile or link measured about itself because gohook asked it to (`--phases`, `--cpuprofile`),
    /// written right after its [`Record::Tool`] and tied to it by pid and start.
    SelfReport(ToolSelfReport),
    /// The module each package of a `gohook build` belongs to, from the same `go list -deps` as [`Record::Packages`]:
    /// what `report` rolls the packages' times up by.
    Modules(BuildModules),
    /// go's plan of a `gohook build` (`-debug-actiongraph`): every compile and link, run or served from its cache,
    /// with its action id and when it was ready, started and done.
    Actions(BuildActions),
    /// What go keyed each compile and link on (`GODEBUG=gocachehash=1`): what `gohook why` compares.
    CacheInputs(BuildCacheInputs),
    /// The plugins a tool's `-V=full` answer was keyed on, written at go's probe: what `gohook why` names when the
    /// policy is the reason something rebuilt.
    ToolKey(ToolKey),
    /// Where the build sits in a trace that started before it: the W3C `TRACEPARENT` of its environment, or the
    /// GitHub Actions run it ran in; written at go's probes, only when there is one.
    TraceParent(BuildTraceParent),
    /// How busy the machine was with other work while the build ran, written by the driver after go exited.
    Load(BuildLoad),
    /// A go command that ran inside another build (a test that runs `go build`): written at its probes into both
    /// builds' files, so each knows the other.
    Nested(NestedGo),
    /// Go tools that ran under the build without going through gohook, as the driver's samples of the process table
    /// saw them: written after go exited, when any were seen.
    Unrecorded(UnrecordedTools),
}

/// Compiles, links and assemblies that go commands under a build ran without `-toolexec=gohook` (`go tool nm` in a
/// test builds the tool so; a test that clears GOFLAGS): work gohook could not time, and that go's cache could not
/// serve from this build's entries, since `-toolexec` gives gohook's builds cache keys of their own. A lower bound:
/// runs shorter than the sampling interval may go unseen.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct UnrecordedTools {
    pub build_id: String,
    /// Per tool (`compile`, `link`, `asm`, `cgo`): how many runs were seen.
    pub tools: Vec<(String, u32)>,
    /// How long, summed over the runs, they were seen running (ns): at most one sampling interval short of each.
    pub seen_ns: u64,
    /// The go commands that ran them, as their command lines.
    pub go_commands: Vec<String>,
}

/// A go command started by something a build ran (a test, `go run`'s program, `go generate`), recorded as a build of
/// its own under `build_id` (bare mode's `go-PID-START`) and tied to the build it ran in.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct NestedGo {
    /// The nested go command's build.
    pub build_id: String,
    /// The build whose process it ran under.
    pub parent_build_id: String,
    /// Its command line and directory, as the OS tells them.
    pub command: Vec<String>,
    pub dir: String,
    pub start_unix_ns: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ToolSelfReport {
    pub build_id: String,
    /// The [`ToolRun::pid`] and [`ToolRun::start_unix_ns`] of the run it belongs to.
    pub pid: u32,
    pub start_unix_ns: u64,
    /// The tool's phases in the order it ran them (compiler `fe:parse`, `be:compilefuncs`, …; linker `loadlib`,
    /// `deadcode`, …), subtotals and totals left out so that they add up.
    pub phases: Vec<Phase>,
    /// Where the tool wrote its CPU profile.
    pub cpu_profile: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    pub name: String,
    pub ns: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BuildPackages {
    pub build_id: String,
    pub packages: Vec<PackageImports>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BuildActions {
    pub build_id: String,
    pub actions: Vec<GoAction>,
}

/// One compile (`build`) or `link` action of go's plan.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct GoAction {
    /// `build` (compile and asm) or `link`.
    pub mode: String,
    pub package: String,
    /// Whether it ran; `false` when go's cache served it.
    pub ran: bool,
    /// go's cache key for it, hex.
    pub action_id: String,
    /// Unix ns; 0 when go did not say (an action that never became ready).
    pub ready_unix_ns: u64,
    pub start_unix_ns: u64,
    pub done_unix_ns: u64,
}

/// What became of one action of go's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionOutcome {
    /// Its tool ran.
    Ran,
    /// go's cache had it: it computed the action's key (an action id) and ran nothing.
    Served,
    /// Never ran because something it needed failed: go never got as far as its cache (no action id).
    NotRun,
}

impl GoAction {
    pub fn outcome(&self) -> ActionOutcome {
        match (self.ran, self.action_id.is_empty()) {
            (true, _) => ActionOutcome::Ran,
            (false, false) => ActionOutcome::Served,
            (false, true) => ActionOutcome::NotRun,
        }
    }
}

/// The inputs of go's cache keys, each distinct line once (`lines`), each action a list of indexes into it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildCacheInputs {
    pub build_id: String,
    pub lines: Vec<String>,
    pub actions: Vec<ActionInputs>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ActionInputs {
    /// go's name for the hash: `build <package>` or `link <package>`.
    pub name: String,
    /// The action id the inputs hash to, hex.
    pub id: String,
    /// Indexes into [`BuildCacheInputs::lines`], in the order go wrote them.
    pub inputs: Vec<u32>,
}

/// A tool's `-V=full` answer and what it was keyed on: each keyed plugin's name and a digest of its table and
/// content.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ToolKey {
    pub build_id: String,
    pub tool: String,
    pub plugins: Vec<(String, String)>,
}

/// Each package's module (`path@version`, as go resolved it, `replace` applied), `std` for the standard library, the
/// main module's path without a version; packages outside any module are left out.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BuildModules {
    pub build_id: String,
    pub modules: Vec<PackageModule>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PackageModule {
    pub package: String,
    pub module: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PackageImports {
    pub package: String,
    /// Direct imports, as resolved import paths (vendored std packages under `vendor/…`).
    pub imports: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BuildLabel {
    pub build_id: String,
    pub run: String,
    pub target: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    pub run: String,
    pub target: String,
    pub path: String,
    pub unix_ns: u64,
    pub status: CheckStatus,
    pub findings: Vec<RecordedFinding>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BuildStart {
    pub build_id: String,
    pub start_unix_ns: u64,
    /// The go command line that was run, `-toolexec` included.
    pub command: Vec<String>,
    pub dir: String,
    pub gohook_version: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BuildEnd {
    pub build_id: String,
    pub end_unix_ns: u64,
    pub exit: Exit,
}

/// What one tool invocation cost. Times are Unix nanoseconds or nanosecond durations.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ToolRun {
    pub build_id: String,
    pub build_start_unix_ns: u64,
    /// Tool name as go names it (`compile`, `asm`, `link`, …; the basename without `.exe`).
    pub tool: String,
    pub stage: Stage,
    /// `TOOLEXEC_IMPORTPATH`, or the `-p` flag when go did not set it; empty for probes.
    pub package: String,
    pub goos: String,
    pub goarch: String,
    pub start_unix_ns: u64,
    pub duration_ns: u64,
    pub user_ns: u64,
    pub sys_ns: u64,
    pub max_rss_bytes: u64,
    pub exit: Exit,
    /// Wall time gohook spent around the tool: start-up, parsing, plugins, bookkeeping.
    pub gohook_ns: u64,
    /// CPU (user + sys) of the gohook process itself, exec and start-up included.
    pub gohook_cpu_ns: u64,
    /// The part of `gohook_ns` spent in plugins.
    pub plugin_ns: u64,
    pub pid: u32,
    /// What the plugins found, after the policy's rule overrides.
    pub findings: Vec<RecordedFinding>,
    /// Each plugin that ran, and its time.
    pub plugins: Vec<PluginTime>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum FindingLevel {
    Error,
    Warning,
    Note,
}

impl FindingLevel {
    pub fn name(self) -> &'static str {
        match self {
            FindingLevel::Error => "error",
            FindingLevel::Warning => "warning",
            FindingLevel::Note => "note",
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RecordedFinding {
    pub plugin: String,
    pub rule: String,
    pub severity: FindingLevel,
    pub message: String,
    pub help: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PluginTime {
    pub plugin: String,
    pub version: String,
    pub ns: u64,
    pub cache: NativeCode,
}

/// How a plugin's native code was obtained for a run.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NativeCode {
    /// From gohook's compile cache.
    Hit,
    /// Compiled from wasm and stored in the cache.
    Compiled,
    /// Compiled from wasm; there was no usable cache.
    Uncached,
    /// The plugin did not load or did not answer.
    Failed,
}

impl NativeCode {
    pub fn name(self) -> &'static str {
        match self {
            NativeCode::Hit => "hit",
            NativeCode::Compiled => "compiled",
            NativeCode::Uncached => "uncached",
            NativeCode::Failed => "failed",
        }
    }
}

/// How one checked binary fared.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    /// The policy failed it.
    Fail,
    /// It could not be checked: unreadable, or not a binary.
    Error,
}

impl CheckStatus {
    pub fn name(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Error => "error",
        }
    }
}

impl ToolRun {
    pub fn end_unix_ns(&self) -> u64 {
        self.start_unix_ns + self.duration_ns
    }
}

/// The kind of work an invocation does; reports group by it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// `tool -V=full`: go asking for the tool's identity, once per tool per go command.
    Probe,
    Compile,
    Asm,
    Cgo,
    Link,
    Vet,
    Cover,
    /// The C compiler, which go runs through `-toolexec` only to probe its version.
    Cc,
    Other,
}

impl Stage {
    /// go asking a tool who it is (`-V=full`, or the C compiler's `-###`): not the build's work.
    pub fn is_probe(self) -> bool {
        matches!(self, Stage::Probe | Stage::Cc)
    }

    pub fn name(self) -> &'static str {
        match self {
            Stage::Probe => "probe",
            Stage::Compile => "compile",
            Stage::Asm => "asm",
            Stage::Cgo => "cgo",
            Stage::Link => "link",
            Stage::Vet => "vet",
            Stage::Cover => "cover",
            Stage::Cc => "cc",
            Stage::Other => "other",
        }
    }
}

/// How a process ended.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// The tool could not be started at all.
    NotStarted,
}

impl Exit {
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }

    pub fn from_status(status: std::process::ExitStatus) -> Exit {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            (None, None) => Exit::NotStarted,
        }
    }

    /// The exit code a shell would report for this ending.
    pub fn shell_code(self) -> u8 {
        match self {
            Exit::Code(code) => code.clamp(0, 255) as u8,
            Exit::Signal(signal) => (128 + signal).clamp(0, 255) as u8,
            Exit::NotStarted => 127,
        }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exit {code}"),
            Exit::Signal(signal) => write!(f, "signal {signal} ({})", signal_name(*signal)),
            Exit::NotStarted => f.write_str("not started"),
        }
    }
}

pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        _ => "signal",
    }
}

/// One record as a self-checking frame: magic, version, payload length, CRC-32 of the payload, payload.
pub fn encode(record: &Record) -> Vec<u8> {
    let payload = postcard::to_stdvec(record).expect("records serialize into memory without error");
    let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
    frame.extend_from_slice(&MAGIC);
    frame.push(FORMAT_VERSION);
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&checksum(&payload).to_le_bytes());
    frame.extend_from_slice(&payload);
    frame
}

/// The records of one file, with counts of what had to be skipped.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub records: Vec<Record>,
    /// Stretches of bytes that were not a valid frame (torn writes, damage); each stretch counts once.
    pub corrupt: usize,
    /// Intact frames written by a gohook with another record format.
    pub unsupported: usize,
}

/// Decodes every intact frame in `bytes`. Never fails: what cannot be read is counted and skipped.
pub fn decode(bytes: &[u8]) -> Decoded {
    let mut decoded = Decoded::default();
    let mut pos = 0;
    while pos < bytes.len() {
        match decode_frame(&bytes[pos..]) {
            Frame::Record(record, len) => {
                decoded.records.push(*record);
                pos += len;
            }
            Frame::Unsupported(len) => {
                decoded.unsupported += 1;
                pos += len;
            }
            Frame::Corrupt => {
                decoded.corrupt += 1;
                pos = next_magic(bytes, pos + 1);
            }
        }
    }
    decoded
}

enum Frame {
    Record(Box<Record>, usize),
    Unsupported(usize),
    Corrupt,
}

fn decode_frame(rest: &[u8]) -> Frame {
    if rest.len() < HEADER_LEN || rest[..MAGIC.len()] != MAGIC {
        return Frame::Corrupt;
    }
    let version = rest[3];
    let len = u32::from_le_bytes(rest[4..8].try_into().unwrap()) as usize;
    let crc = u32::from_le_bytes(rest[8..12].try_into().unwrap());
    if len > MAX_PAYLOAD || rest.len() < HEADER_LEN + len {
        return Frame::Corrupt;
    }
    let payload = &rest[HEADER_LEN..HEADER_LEN + len];
    if checksum(payload) != crc {
        return Frame::Corrupt;
    }
    let record = match version {
        FORMAT_VERSION => postcard::from_bytes(payload).ok(),
        1 => postcard::from_bytes::<v1::Record>(payload).ok().map(Record::from),
        _ => return Frame::Unsupported(HEADER_LEN + len),
    };
    match record {
        Some(record) => Frame::Record(Box::new(record), HEADER_LEN + len),
        None => Frame::Corrupt,
    }
}

/// Format 1, frozen: as gohook 0.1 wrote it, with the plugin cache state and the check status as free text.
pub mod v1 {
    use serde::{Deserialize, Serialize};

    use super::{BuildEnd, BuildLabel, BuildStart, CheckStatus, Exit, NativeCode, RecordedFinding, Stage};

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
    pub enum Record {
        BuildStart(BuildStart),
        Tool(ToolRun),
        BuildEnd(BuildEnd),
        Label(BuildLabel),
        Check(CheckRun),
    }

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
    pub struct CheckRun {
        pub run: String,
        pub target: String,
        pub path: String,
        pub unix_ns: u64,
        pub status: String,
        pub findings: Vec<RecordedFinding>,
    }

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
    pub struct ToolRun {
        pub build_id: String,
        pub build_start_unix_ns: u64,
        pub tool: String,
        pub stage: Stage,
        pub package: String,
        pub goos: String,
        pub goarch: String,
        pub start_unix_ns: u64,
        pub duration_ns: u64,
        pub user_ns: u64,
        pub sys_ns: u64,
        pub max_rss_bytes: u64,
        pub exit: Exit,
        pub gohook_ns: u64,
        pub gohook_cpu_ns: u64,
        pub plugin_ns: u64,
        pub pid: u32,
        pub findings: Vec<RecordedFinding>,
        pub plugins: Vec<PluginTime>,
    }

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
    pub struct PluginTime {
        pub plugin: String,
        pub version: String,
        pub ns: u64,
        pub cache: String,
    }

    impl From<Record> for super::Record {
        fn from(record: Record) -> super::Record {
            match record {
                Record::BuildStart(start) => super::Record::BuildStart(start),
                Record::BuildEnd(end) => super::Record::BuildEnd(end),
                Record::Label(label) => super::Record::Label(label),
                Record::Check(c) => super::Record::Check(super::CheckRun {
                    run: c.run,
                    target: c.target,
                    path: c.path,
                    unix_ns: c.unix_ns,
                    status: match c.status.as_str() {
                        "pass" => CheckStatus::Pass,
                        "fail" => CheckStatus::Fail,
                        _ => CheckStatus::Error,
                    },
                    findings: c.findings,
                }),
                Record::Tool(t) => super::Record::Tool(super::ToolRun {
                    build_id: t.build_id,
                    build_start_unix_ns: t.build_start_unix_ns,
                    tool: t.tool,
                    stage: t.stage,
                    package: t.package,
                    goos: t.goos,
                    goarch: t.goarch,
                    start_unix_ns: t.start_unix_ns,
                    duration_ns: t.duration_ns,
                    user_ns: t.user_ns,
                    sys_ns: t.sys_ns,
                    max_rss_bytes: t.max_rss_bytes,
                    exit: t.exit,
                    gohook_ns: t.gohook_ns,
                    gohook_cpu_ns: t.gohook_cpu_ns,
                    plugin_ns: t.plugin_ns,
                    pid: t.pid,
                    findings: t.findings,
                    plugins: t
                        .plugins
                        .into_iter()
                        .map(|p| super::PluginTime {
                            plugin: p.plugin,
                            version: p.version,
                            ns: p.ns,
                            cache: match p.cache.as_str() {
                                "hit" => NativeCode::Hit,
                                "compiled" => NativeCode::Compiled,
                                "uncached" => NativeCode::Uncached,
                                _ => NativeCode::Failed,
                            },
                        })
                        .collect(),
                }),
            }
        }
    }
}

fn next_magic(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.windows(MAGIC.len()).position(|w| w == MAGIC))
        .map_or(bytes.len(), |offset| from + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool_run(package: &str) -> Record {
        Record::Tool(ToolRun {
            build_id: "b1".into(),
            build_start_unix_ns: 1_000,
            tool: "compile".into(),
            stage: Stage::Compile,
            package: package.into(),
            goos: "linux".into(),
            goarch: "amd64".into(),
            start_unix_ns: 2_000,
            duration_ns: 300,
            user_ns: 200,
            sys_ns: 50,
            max_rss_bytes: 4096,
            exit: Exit::Code(0),
            gohook_ns: 10,
            gohook_cpu_ns: 9,
            plugin_ns: 0,
            pid: 42,
            findings: Vec::new(),
            plugins: Vec::new(),
        })
    }

    #[test]
    fn frames_round_trip() {
        let mut bytes = encode(&tool_run("a"));
        bytes.extend(encode(&tool_run("b")));
        let decoded = decode(&bytes);
        assert_eq!(decoded.records, vec![tool_run("a"), tool_run("b")]);
        assert_eq!((decoded.corrupt, decoded.unsupported), (0, 0));
    }

    /// The cache-key inputs of a large module's build come to megabytes in one frame; they must read back.
    #[test]
    fn a_frame_of_megabytes_round_trips() {
        let lines: Vec<String> =
            (0..60_000).map(|i| format!("packagefile example.com/p{i}=abcdef0123456789")).collect();
        let inputs = Record::CacheInputs(BuildCacheInputs { build_id: "b1".into(), lines, actions: Vec::new() });
        let mut bytes = encode(&inputs);
        assert!(bytes.len() > 2 << 20, "{} bytes", bytes.len());
        bytes.extend(encode(&tool_run("a")));
        let decoded = decode(&bytes);
        assert_eq!(decoded.records, vec![inputs, tool_run("a")]);
        assert_eq!((decoded.corrupt, decoded.unsupported), (0, 0));
    }

    #[test]
    fn torn_frame_is_skipped_and_the_next_one_found() {
        let first = encode(&tool_run("a"));
        let mut bytes = first[..first.len() / 2].to_vec();
        bytes.extend(encode(&tool_run("b")));
        let decoded = decode(&bytes);
        assert_eq!(decoded.records, vec![tool_run("b")]);
        assert_eq!(decoded.corrupt, 1);
    }

    #[test]
    fn flipped_bit_fails_the_crc() {
        let mut bytes = encode(&tool_run("a"));
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let decoded = decode(&bytes);
        assert!(decoded.records.is_empty());
        assert_eq!(decoded.corrupt, 1);
    }

    #[test]
    fn other_format_versions_are_counted_not_parsed() {
        let mut bytes = encode(&tool_run("a"));
        bytes[3] = FORMAT_VERSION + 1;
        bytes.extend(encode(&tool_run("b")));
        let decoded = decode(&bytes);
        assert_eq!(decoded.records, vec![tool_run("b")]);
        assert_eq!((decoded.corrupt, decoded.unsupported), (0, 1));
    }

    /// A frame as gohook 0.1 wrote it (format 1, free-text cache state and check status) reads as today's record.
    #[test]
    fn format_1_frames_still_read() {
        let old_run = v1::ToolRun {
            build_id: "b1".into(),
            build_start_unix_ns: 1_000,
            tool: "link".into(),
            stage: Stage::Link,
            package: "main".into(),
            goos: "linux".into(),
            goarch: "amd64".into(),
            start_unix_ns: 2_000,
            duration_ns: 300,
            user_ns: 200,
            sys_ns: 50,
            max_rss_bytes: 4096,
            exit: Exit::Code(0),
            gohook_ns: 7,
            gohook_cpu_ns: 5,
            plugin_ns: 3,
            pid: 42,
            findings: vec![],
            plugins: vec![v1::PluginTime {
                plugin: "arch".into(),
                version: "0.1.0".into(),
                ns: 3,
                cache: "hit".into(),
            }],
        };
        let old_check = v1::CheckRun {
            run: "r".into(),
            target: "linux_amd64_v1".into(),
            path: "dist/app".into(),
            unix_ns: 9,
            status: "fail".into(),
            findings: vec![],
        };
        let mut bytes = Vec::new();
        for record in [v1::Record::Tool(old_run), v1::Record::Check(old_check)] {
            let payload = postcard::to_stdvec(&record).unwrap();
            bytes.extend_from_slice(&MAGIC);
            bytes.push(1);
            bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&checksum(&payload).to_le_bytes());
            bytes.extend_from_slice(&payload);
        }
        let decoded = decode(&bytes);
        assert_eq!((decoded.corrupt, decoded.unsupported), (0, 0));
        let [Record::Tool(run), Record::Check(check)] = decoded.records.as_slice() else {
            panic!("{:?}", decoded.records)
        };
        assert_eq!((run.package.as_str(), run.gohook_cpu_ns, run.pid), ("main", 5, 42));
        assert_eq!(run.plugins[0].cache, NativeCode::Hit);
        assert_eq!((check.status, check.path.as_str()), (CheckStatus::Fail, "dist/app"));
    }

    #[test]
    fn garbage_never_panics() {
        let decoded = decode(b"GHR\x01\xff\xff\xff\xffGHRGHR\x01\x00\x00\x00\x00\x00\x00\x00\x00");
        assert!(decoded.records.is_empty());
        assert!(decoded.corrupt >= 1);
    }
}
