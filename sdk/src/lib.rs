//! Write gohook policy plugins in Rust.
//!
//! A plugin is a WebAssembly component (`cargo build --target wasm32-wasip2`) that implements [`Plugin`] and
//! exports it with [`export_plugin!`]. Every method has a default, so a plugin implements only the moments it
//! declares in its [`Metadata`]. The WIT bindings stay behind this crate; what a plugin needs is re-exported here.
//!
//! ```ignore
//! use gohook_sdk::{Artifact, Finding, Metadata, Moment, Plugin, export_plugin, inspect::Binary};
//!
//! struct NoDebug;
//!
//! impl Plugin for NoDebug {
//!     fn metadata() -> Metadata {
//!         Metadata::new("no-debug", "0.1.0").moments([Moment::AfterTool, Moment::Check]).tools(["link"])
//!     }
//!     fn check(binary: &Artifact) -> Vec<Finding> {
//!         match Binary::open(binary).and_then(|b| b.section_names()) {
//!             Ok(names) if names.iter().any(|n| n.contains("debug_")) => {
//!                 vec![Finding::error("no-debug/dwarf", "the binary carries DWARF").help("link with -ldflags=-w")]
//!             }
//!             Ok(_) => vec![],
//!             Err(e) => vec![Finding::error("no-debug/unreadable", e)],
//!         }
//!     }
//! }
//!
//! export_plugin!(NoDebug);
//! ```
//!
//! `after_tool` calls `check` on a successful link's output by default, so one `check` covers the build and
//! `gohook check FILE`.

pub mod hardening;
pub mod inspect;

#[doc(hidden)]
#[allow(clippy::too_many_arguments)] // generated code
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/since_v0.1.0",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_bindings",
        default_bindings_module: "gohook_sdk::bindings",
    });
}

pub use bindings::gohook::plugin::host::{Artifact, LogLevel};
pub use bindings::gohook::plugin::types::{
    Finding, Invocation, Location, Metadata, Moment, Probe, RuleInfo, SettingInfo, Severity,
};

/// A gohook plugin. Implement the moments listed in [`Plugin::metadata`]; the rest keep their defaults.
pub trait Plugin {
    /// Name, version, the moments the plugin handles, the tools it wants and the rules it reports.
    fn metadata() -> Metadata;

    /// go's `-V=full` probe of a tool; runs on every go command, even a fully cached one.
    fn on_probe(_probe: Probe) -> Vec<Finding> {
        Vec::new()
    }

    /// Before a tool runs; an error finding stops it.
    fn before_tool(_invocation: Invocation) -> Vec<Finding> {
        Vec::new()
    }

    /// After a tool ran. By default: [`Plugin::check`] on the output of a successful link. `output` is the tool's `-o`
    /// file; for cgo's `-dynimport` step (`invocation.args` hold `-dynimport`) it is `_cgo_.o`, the package's C
    /// objects linked by the C compiler: where a check sees what the C compiler made of them.
    fn after_tool(invocation: Invocation, exit_code: i32, output: Option<&Artifact>) -> Vec<Finding> {
        match output {
            Some(binary) if exit_code == 0 && invocation.stage == "link" => Self::check(binary),
            _ => Vec::new(),
        }
    }

    /// A finished binary.
    fn check(_binary: &Artifact) -> Vec<Finding> {
        Vec::new()
    }
}

/// Exports a [`Plugin`] implementation as the component's exports. Use it once per plugin crate.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __GohookExport;

        impl $crate::bindings::Guest for __GohookExport {
            fn metadata() -> $crate::Metadata {
                <$plugin as $crate::Plugin>::metadata()
            }
            fn on_probe(probe: $crate::Probe) -> ::std::vec::Vec<$crate::Finding> {
                <$plugin as $crate::Plugin>::on_probe(probe)
            }
            fn before_tool(invocation: $crate::Invocation) -> ::std::vec::Vec<$crate::Finding> {
                <$plugin as $crate::Plugin>::before_tool(invocation)
            }
            fn after_tool(
                invocation: $crate::Invocation,
                exit_code: i32,
                output: ::std::option::Option<&$crate::Artifact>,
            ) -> ::std::vec::Vec<$crate::Finding> {
                <$plugin as $crate::Plugin>::after_tool(invocation, exit_code, output)
            }
            fn check(binary: &$crate::Artifact) -> ::std::vec::Vec<$crate::Finding> {
                <$plugin as $crate::Plugin>::check(binary)
            }
        }

        $crate::bindings::__export_plugin_bindings!(__GohookExport with_types_in $crate::bindings);
    };
}

impl Metadata {
    /// Metadata with no moments, tools or rules yet.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Metadata {
        Metadata {
            name: name.into(),
            version: version.into(),
            moments: Vec::new(),
            tools: Vec::new(),
            settings: Vec::new(),
            rules: Vec::new(),
        }
    }

    pub fn moments(mut self, moments: impl IntoIterator<Item = Moment>) -> Metadata {
        self.moments.extend(moments);
        self
    }

    /// The tools wanted at before-tool and after-tool (`link`, `compile`, …); none means all.
    pub fn tools<S: Into<String>>(mut self, tools: impl IntoIterator<Item = S>) -> Metadata {
        self.tools.extend(tools.into_iter().map(Into::into));
        self
    }

    /// Declares a setting the plugin reads; gohook rejects undeclared settings in gohook.toml.
    pub fn setting(mut self, name: impl Into<String>, description: impl Into<String>) -> Metadata {
        self.settings.push(SettingInfo { name: name.into(), description: description.into() });
        self
    }

    pub fn rule(mut self, id: impl Into<String>, summary: impl Into<String>, help: impl Into<String>) -> Metadata {
        self.rules.push(RuleInfo { id: id.into(), summary: summary.into(), help: help.into() });
        self
    }
}

impl Finding {
    pub fn new(severity: Severity, rule: impl Into<String>, message: impl ToString) -> Finding {
        Finding { rule: rule.into(), severity, message: message.to_string(), help: None, location: None }
    }

    pub fn error(rule: impl Into<String>, message: impl ToString) -> Finding {
        Finding::new(Severity::Error, rule, message)
    }

    pub fn warning(rule: impl Into<String>, message: impl ToString) -> Finding {
        Finding::new(Severity::Warning, rule, message)
    }

    pub fn note(rule: impl Into<String>, message: impl ToString) -> Finding {
        Finding::new(Severity::Note, rule, message)
    }

    /// The artifact could not be read as a binary: `gohook check` reports this as a per-file error, not as a policy
    /// verdict.
    pub fn unreadable(plugin: &str, error: impl ToString) -> Finding {
        Finding::error(format!("{plugin}/unreadable"), error)
    }

    /// How to fix it.
    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    pub fn at(mut self, location: Location) -> Finding {
        self.location = Some(location);
        self
    }
}

/// Logs through gohook's log, prefixed with the plugin's name (`GOHOOK_LOG=debug` shows debug lines).
pub fn log(level: LogLevel, message: impl AsRef<str>) {
    bindings::gohook::plugin::host::log(level, message.as_ref());
}

/// This plugin's `[plugins.NAME.settings]` from gohook.toml, deserialized into the plugin's own type.
pub fn settings<T: serde::de::DeserializeOwned>() -> Result<T, String> {
    serde_json::from_str(&bindings::gohook::plugin::host::settings())
        .map_err(|e| format!("invalid settings in gohook.toml: {e}"))
}
