//! gohook's policy: what `gohook.toml` says, which plugins it configures (built-in or files) and what gohook
//! remembers about them, the moments at which plugins run, and the verdict their findings come to.
//!
//! Plain data only: the shim decides from here whether any plugin wants an invocation without starting a wasm
//! engine, and the runtime converts its generated bindings into these types at its edge.

mod config;
mod moment;
mod plugins;
mod protocol;
mod verdict;

pub use config::{
    AttestSettings, ExportSettings, FILE_NAME, Materials, OnFailure, OtlpSettings, PluginConfig, Policy, PolicyError,
    RecordsSettings, RuleLevel, fingerprint, valid_plugin_name, valid_rule_id,
};
pub use moment::{Moment, MomentInput, PluginInvocation, Probe, go_environment};
pub use plugins::{
    BUILTINS, Builtin, Catalog, Limits, PluginMeta, PluginSpec, RuleMeta, SettingMeta, Source, builtin,
    read_plugin_file,
};
/// The moment protocol between the shim and the moment server: both sides' messages and framing.
pub use protocol::{MOMENT_SERVER, ProtocolError, read_moment, read_verdict, write_moment, write_verdict};
pub use verdict::{Finding, Verdict, judge};
