//! The least a Rust wrapper can do: spawn its argv and wait. The floor gohook's per-invocation cost is compared to.
fn main() {
    let mut args = std::env::args_os().skip(1);
    let program = args.next().expect("usage: spawn-floor PROGRAM [ARGS…]");
    let status = std::process::Command::new(program).args(args).status().expect("spawn");
    std::process::exit(status.code().unwrap_or(1));
}
