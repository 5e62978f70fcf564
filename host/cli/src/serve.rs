//! The moment server's side of the moment protocol (`gohook_policy::protocol`): the shim starts `gohook-commands
//! __moment POLICY` when a plugin subscribes to a moment of its tool run; [`serve`] loads the policy once and answers
//! moments until its stdin closes. Logs go where the shim's go (never stderr, which go would cache with a compile's
//! output).

use std::io::Write;
use std::path::Path;

use gohook_policy::{PluginSpec, Policy};
use gohook_policy::{ProtocolError, read_moment, write_verdict};
use gohook_process::{EXIT_USAGE, env, logging};
use gohook_records::Store;
use gohook_runtime::PluginRunner;

pub fn serve(policy: &Path) -> u8 {
    let store = Store::locate();
    let log = env::log_file().unwrap_or_else(|| store.root().join("gohook.log"));
    logging::init(logging::Target::File(Some(log)));
    let specs = match Policy::load(Some(policy)).and_then(|policy| PluginSpec::from_policy(&policy)) {
        Ok(specs) => specs,
        Err(e) => {
            eprintln!("gohook-commands: {e}");
            return EXIT_USAGE;
        }
    };
    // One checker for all moments: each plugin is loaded once.
    let mut checker = PluginRunner::new(&specs, store.root());
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    loop {
        let input = match read_moment(&mut stdin) {
            Ok(Some(input)) => input,
            Ok(None) => return 0,
            Err(e @ (ProtocolError::Malformed(_) | ProtocolError::Io(_) | ProtocolError::Closed)) => {
                eprintln!("gohook-commands: {e}");
                return EXIT_USAGE;
            }
        };
        if write_verdict(&mut stdout, &checker.run(&input)).and_then(|()| stdout.flush()).is_err() {
            return EXIT_USAGE;
        }
    }
}
