//! Runs before every compile and finds nothing: a plugin that could change what a compile does, so its settings
//! must key go's cache for compiles (and only for them).

use gohook_sdk::{Finding, Invocation, Metadata, Moment, Plugin, export_plugin};

struct CompileWatch;

impl Plugin for CompileWatch {
    fn metadata() -> Metadata {
        Metadata::new("compile-watch", "0.1.0")
            .moments([Moment::BeforeTool])
            .tools(["compile"])
            .setting("label", "any text; changing it changes what compiles are keyed on")
    }

    fn before_tool(_invocation: Invocation) -> Vec<Finding> {
        Vec::new()
    }
}

export_plugin!(CompileWatch);
