//! How the shim and `gohook-commands` talk: both sides' messages and their framing, in one place.
//!
//! The shim starts `gohook-commands` [`MOMENT_SERVER`] `POLICY_FILE` with its stdin, stdout and stderr piped, the first
//! time a plugin of the policy subscribes to a moment of its tool run. Per moment it writes one [`MomentInput`] as a
//! JSON line and reads one [`Verdict`] as a JSON line; closing stdin ends the host. The host loads the policy once, so
//! the second moment of a tool run (after the tool, when the first was before it) finds its plugins loaded. Anything
//! the host cannot answer ends it with a message on stderr, which the shim quotes.

use std::io::{self, BufRead, Write};

use crate::moment::MomentInput;
use crate::verdict::Verdict;

/// The hidden first argument that makes `gohook-commands` a moment server: it answers the shim's moments for a policy
/// (running its plugins) instead of running a command.
pub const MOMENT_SERVER: &str = "__moment";

/// Why a message could not be exchanged.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("the other side closed the pipe")]
    Closed,
    #[error("not a message of this gohook version ({0})")]
    Malformed(#[from] serde_json::Error),
}

/// The shim's side: one moment out.
pub fn write_moment(to: &mut impl Write, moment: &MomentInput) -> io::Result<()> {
    write_line(to, moment)
}

/// The host's side: the next moment, or `None` when the shim closed the pipe.
pub fn read_moment(from: &mut impl BufRead) -> Result<Option<MomentInput>, ProtocolError> {
    match read_line(from) {
        Err(ProtocolError::Closed) => Ok(None),
        other => other.map(Some),
    }
}

/// The host's side: one verdict back.
pub fn write_verdict(to: &mut impl Write, verdict: &Verdict) -> io::Result<()> {
    write_line(to, verdict)
}

/// The shim's side: the verdict of the moment it wrote.
pub fn read_verdict(from: &mut impl BufRead) -> Result<Verdict, ProtocolError> {
    read_line(from)
}

fn write_line(to: &mut impl Write, message: &impl serde::Serialize) -> io::Result<()> {
    let mut line = serde_json::to_vec(message).expect("gohook's messages serialize");
    line.push(b'\n');
    to.write_all(&line)?;
    to.flush()
}

fn read_line<T: serde::de::DeserializeOwned>(from: &mut impl BufRead) -> Result<T, ProtocolError> {
    let mut line = String::new();
    if from.read_line(&mut line)? == 0 {
        return Err(ProtocolError::Closed);
    }
    Ok(serde_json::from_str(&line)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gohook_records::{FindingLevel, RecordedFinding};

    #[test]
    fn a_moment_and_its_verdict_cross_the_pipe_unchanged() {
        let moment = MomentInput::Check("/bin/app".into());
        let mut pipe = Vec::new();
        write_moment(&mut pipe, &moment).unwrap();
        assert_eq!(pipe.iter().filter(|&&b| b == b'\n').count(), 1, "one line per message");
        let read = read_moment(&mut pipe.as_slice()).unwrap().unwrap();
        assert_eq!(read.moment(), moment.moment());
        assert!(read_moment(&mut &b""[..]).unwrap().is_none(), "a closed pipe ends the host");

        let finding = RecordedFinding {
            plugin: "p".into(),
            rule: "p/r".into(),
            severity: FindingLevel::Error,
            message: "m".into(),
            help: None,
        };
        let verdict = Verdict { findings: vec![finding], plugins: Vec::new() };
        let mut pipe = Vec::new();
        write_verdict(&mut pipe, &verdict).unwrap();
        assert_eq!(read_verdict(&mut pipe.as_slice()).unwrap().findings, verdict.findings);
        assert!(matches!(read_verdict(&mut &b"nonsense\n"[..]), Err(ProtocolError::Malformed(_))));
        assert!(matches!(read_verdict(&mut &b""[..]), Err(ProtocolError::Closed)));
    }
}
