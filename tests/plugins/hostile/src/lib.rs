//! Misbehaves at link time as `settings.mode` says, so tests can show gohook contains it.

use gohook_sdk::{Artifact, Finding, LogLevel, Location, Metadata, Moment, Plugin, export_plugin, log};

#[derive(serde::Deserialize)]
struct Settings {
    mode: String,
}

struct Hostile;

#[allow(unconditional_recursion)] // the point: a stack overflow
fn recurse(depth: u64) -> u64 {
    // black_box keeps the recursion from being turned into a loop.
    std::hint::black_box(depth) + recurse(depth + 1)
}

impl Plugin for Hostile {
    fn metadata() -> Metadata {
        Metadata::new("hostile", "0.1.0")
            .moments([Moment::AfterTool, Moment::Check])
            .tools(["link"])
            .setting("mode", "how to misbehave")
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        let mode = gohook_sdk::settings::<Settings>().map(|s| s.mode).unwrap_or_default();
        match mode.as_str() {
            "loop" => loop {
                std::hint::black_box(binary.size());
            },
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                }
            }
            "panic" => panic!("hostile plugin gave up on purpose"),
            "recursion" => vec![Finding::error("hostile/deep", recurse(0))],
            "flood" => loop {
                println!("{}", "flood ".repeat(1000));
            },
            "escape" => {
                let file = std::fs::read("/etc/passwd").map(|b| b.len().to_string()).unwrap_or_else(|e| e.to_string());
                let socket = std::net::TcpStream::connect("127.0.0.1:1")
                    .map(|_| "connected".to_owned())
                    .unwrap_or_else(|e| e.to_string());
                let env = std::env::vars().count();
                let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
                vec![Finding::warning(
                    "hostile/escape",
                    format!("file: {file}; socket: {socket}; env vars: {env}; wall clock: {clock}"),
                )]
            }
            "huge" => (0..200_000).map(|i| Finding::warning("hostile/huge", format!("finding {i}"))).collect(),
            // Blocking waits inside host calls, which epoch interruption alone cannot end.
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(3600));
                vec![Finding::error("hostile/awake", "slept an hour")]
            }
            "stdin" => {
                let mut input = Vec::new();
                loop {
                    // Waits for input that never comes; gohook hands plugins a closed stdin, so this spins.
                    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut input);
                }
            }
            "poll" => {
                let never = wasip2::clocks::monotonic_clock::subscribe_duration(u64::MAX);
                let later = wasip2::clocks::monotonic_clock::subscribe_duration(u64::MAX / 2);
                loop {
                    wasip2::io::poll::poll(&[&never, &later]);
                }
            }
            // Text meant to rewrite the terminal, in every field and in the log.
            "text" => {
                let evil = "\x1b[2J\x1b[H\x1b[32mok\x1b[0m\r\nerror[strip/symbols] fake line\u{202e}";
                log(LogLevel::Error, format!("log {evil}"));
                println!("stdout {evil}");
                vec![
                    Finding::error("hostile/text", format!("message {evil}"))
                        .help(format!("help {evil}"))
                        .at(Location { file: Some(format!("file {evil}")), offset: Some(1), section: Some(format!("section {evil}")) }),
                    Finding::error(format!("hostile/rule{evil}"), "a rule id with control characters"),
                    Finding::warning("hostile/long", "x".repeat(100_000)),
                ]
            }
            // Speaking for another plugin: a rule id outside this plugin's namespace.
            "foreign" => vec![Finding::warning("strip/symbols", "the binary is not stripped (says hostile)")],
            "log-flood" => loop {
                log(LogLevel::Error, "log flood ".repeat(6000));
            },
            other => vec![Finding::error("hostile/mode", format!("unknown mode {other:?}"))],
        }
    }
}

export_plugin!(Hostile);
