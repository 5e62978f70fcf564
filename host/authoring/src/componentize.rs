//! A Go plugin is built by the standard toolchain as a WASI preview 1 reactor (`GOOS=wasip1 GOARCH=wasm
//! -buildmode=c-shared`, `//go:wasmexport` functions shaped by the canonical ABI). Two steps make it a component
//! gohook loads: embed the contract's world (so the exports and imports get their WIT types), and adapt WASI preview 1
//! to preview 2 with the reactor adapter wasmtime publishes for its own version (carried in gohook's binary).

use wit_component::{ComponentEncoder, StringEncoding, embed_component_metadata};
use wit_parser::Resolve;

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

#[derive(Debug, thiserror::Error)]
pub enum ComponentizeError {
    #[error("the plugin contract does not parse: {0:#}")]
    Contract(anyhow_error::Error),
    #[error("the module does not fit the gohook:plugin world: {0:#}")]
    Module(anyhow_error::Error),
}

/// `wit-component` reports with `anyhow`; kept behind this crate's own error.
mod anyhow_error {
    pub type Error = Box<dyn std::error::Error + Send + Sync>;
}

/// The component for `module`, a core wasm module exporting the `plugin` world of `wit` by the canonical ABI's names.
pub fn componentize(module: &[u8], wit: &str) -> Result<Vec<u8>, ComponentizeError> {
    let contract = |e: anyhow::Error| ComponentizeError::Contract(e.into());
    let mut resolve = Resolve::default();
    let package = resolve.push_str("plugin.wit", wit).map_err(contract)?;
    let world = resolve.select_world(&[package], Some("plugin")).map_err(contract)?;
    let mut module = module.to_vec();
    let fit = |e: anyhow::Error| ComponentizeError::Module(e.into());
    embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8).map_err(fit)?;
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .map_err(fit)?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER)
        .map_err(fit)?
        .encode()
        .map_err(fit)
}
