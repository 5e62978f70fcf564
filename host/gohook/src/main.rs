fn main() -> std::process::ExitCode {
    gohook::main(std::env::args_os().collect())
}
