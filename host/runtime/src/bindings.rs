//! Host bindings generated from `wit/plugin.wit`.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "plugin",
    imports: { default: trappable },
    // Async exports: a call is a future that a timeout can drop, even while the plugin waits in a WASI poll.
    exports: { default: async },
    with: {
        "gohook:plugin/host.artifact": super::sandbox::ArtifactFile,
    },
});
