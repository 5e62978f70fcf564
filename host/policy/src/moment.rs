//! What plugins are asked, in gohook's own types: the moments and what each hands a plugin. They travel between the
//! shim and the moment server (serde), and the runtime converts them to the WIT contract's types at its edge,
//! so nothing outside `runtime` depends on the generated bindings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The moments a plugin can handle (the contract's `moment` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Moment {
    Probe,
    BeforeTool,
    AfterTool,
    Check,
}

impl Moment {
    /// The name plugins' metadata uses, as gohook keeps it in its catalog.
    pub fn name(self) -> &'static str {
        match self {
            Moment::Probe => "probe",
            Moment::BeforeTool => "before-tool",
            Moment::AfterTool => "after-tool",
            Moment::Check => "check",
        }
    }
}

/// go's `-V=full` probe of one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub tool: String,
    pub goos: String,
    pub goarch: String,
    /// The go environment: GO* and CGO_* variables ([`go_environment`]).
    pub env: Vec<(String, String)>,
}

/// The go environment a probe shows plugins: GO* and CGO_* variables, gohook's own (GOHOOK_*) left out, sorted.
pub fn go_environment(vars: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, _)| (k.starts_with("GO") && !k.starts_with(gohook_process::env::PREFIX)) || k.starts_with("CGO_"))
        .collect();
    env.sort();
    env
}

/// One tool invocation as plugins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInvocation {
    pub tool: String,
    /// compile, asm, cgo, link, vet, cover, cc or other.
    pub stage: String,
    /// TOOLEXEC_IMPORTPATH; empty when there is none.
    pub import_path: String,
    pub goos: String,
    pub goarch: String,
    /// The arguments, response files expanded.
    pub args: Vec<String>,
    /// The file plugins inspect after the tool ran: the `-o` output, or for cgo's `-dynimport` step `_cgo_.o` (the
    /// package's C objects linked together).
    pub output: Option<String>,
}

/// What the plugins are asked about at one moment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum MomentInput {
    Probe(Probe),
    BeforeTool(PluginInvocation),
    /// `output` is the tool's output file, absolute (for `link`: the binary; for cgo's `-dynimport` step: `_cgo_.o`).
    AfterTool {
        invocation: PluginInvocation,
        exit_code: i32,
        output: Option<PathBuf>,
    },
    Check(PathBuf),
}

impl MomentInput {
    pub fn moment(&self) -> Moment {
        match self {
            MomentInput::Probe(_) => Moment::Probe,
            MomentInput::BeforeTool(_) => Moment::BeforeTool,
            MomentInput::AfterTool { .. } => Moment::AfterTool,
            MomentInput::Check(_) => Moment::Check,
        }
    }

    /// The tool the moment is about; empty for `check`.
    pub fn tool(&self) -> &str {
        match self {
            MomentInput::Probe(probe) => &probe.tool,
            MomentInput::BeforeTool(invocation) | MomentInput::AfterTool { invocation, .. } => &invocation.tool,
            MomentInput::Check(_) => "",
        }
    }
}
