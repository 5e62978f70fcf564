//! Guest SDK for gohook policy plugins.
//!
//! The plugin contract (`wit/`), its bindings and the inspection helpers land with the plugin runtime; this crate
//! exists now so that the workspace already has the shape plugin authors will depend on.
