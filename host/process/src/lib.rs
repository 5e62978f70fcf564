//! What every gohook process shares: the environment contract ([`env`]: every `GOHOOK_*` variable), the two
//! executables and how each finds the other ([`executables`]), exit codes, logging and signal forwarding.
//!
//! The bottom of the house: it depends on no other gohook crate, and the shim, the records, the policy and the
//! commands all build on it.

pub mod env;
pub mod executables;
pub mod logging;
pub mod signals;

/// Exit status of a usage or I/O error of gohook's own (1 is kept for "what was checked failed").
pub const EXIT_USAGE: u8 = 2;
