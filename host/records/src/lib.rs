//! What gohook records and where: the record format (one framed, versioned, checksummed frame per tool run, check
//! or build boundary), the store that keeps one append-only file per build, and the time axis that every invocation
//! of one go command shares (build id and start stamp).
//!
//! The shim writes here on every tool invocation and the commands read here; nothing in this crate knows about
//! policies or plugins.

mod circumstances;
mod format;
mod go_text;
mod load;
mod processes;
mod stamp;
mod store;

// What the other crates use; the rest stays inside.
pub use circumstances::{BuildContext, BuildTraceParent, Difference, parse_labels};
pub use format::{
    ActionInputs, ActionOutcome, BuildActions, BuildCacheInputs, BuildEnd, BuildLabel, BuildModules, BuildPackages,
    BuildStart, CheckRun, CheckStatus, Exit, FindingLevel, GoAction, NativeCode, NestedGo, PackageImports,
    PackageModule, Phase, PluginTime, Record, RecordedFinding, Stage, ToolKey, ToolRun, ToolSelfReport,
    UnrecordedTools, decode, encode, signal_name, v1,
};
pub use go_text::go_unquote;
pub use load::{BuildLoad, LoadSample};
pub use processes::{ProcessEntry, command_line, now_unix_ns, processes, unix_ns};
pub use stamp::{BuildStamp, GoProcess, Labels, nested_go, writer_running};
pub use store::{
    BuildFile, DEFAULT_KEEP_BUILDS, FindError, Store, create_private_dir, valid_build_id, write_atomically,
};

/// gohook's version, as records and the `-V=full` answer carry it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
