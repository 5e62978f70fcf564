//! Host bindings generated from `wit/plugin.wit`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    imports: { default: trappable },
    with: {
        "gohook:plugin/host.artifact": super::sandbox::ArtifactFile,
    },
});
