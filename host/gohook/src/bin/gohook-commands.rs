//! `gohook-commands`: gohook's commands, its reports and its wasm plugins (`gohook_cli`). `gohook` hands it every
//! command line that is not a tool run, and the shim starts it for the plugin moments of a tool run.
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(gohook_cli::main(std::env::args_os().collect()))
}
