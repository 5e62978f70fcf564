//! The process that runs gohook's wasm plugins, installed next to `gohook` (see `gohook::plugin_host_main`).
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(gohook::plugin_host_main(std::env::args_os().collect()))
}
