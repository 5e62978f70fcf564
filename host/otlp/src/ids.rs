//! Trace and span ids derived from what was recorded, never random: exporting the same build twice gives the same
//! ids, so a backend sees the same spans again rather than a second build, and a parent derived from a CI run's ids
//! is the span the CI system's own exporter made.

use sha2::{Digest, Sha256};

use gohook_records::BuildTraceParent;

pub type TraceId = [u8; 16];
pub type SpanId = [u8; 8];

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The trace of a build that no parent put into one.
pub fn trace_of_build(build_id: &str) -> TraceId {
    sha256(&format!("gohook trace {build_id}"))[..16].try_into().expect("16 of 32 bytes")
}

/// The span named by `what` within build `build_id` (`go`, `run/PID/START`, `run/PID/START/phase/N`).
pub fn span(build_id: &str, what: &str) -> SpanId {
    sha256(&format!("gohook span {build_id}/{what}"))[..8].try_into().expect("8 of 32 bytes")
}

/// Where a build's root span hangs: a span of a trace that began before the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub trace_state: String,
    /// What the parent is, for the report: `TRACEPARENT`, or which span of a GitHub Actions run.
    pub source: String,
}

impl Parent {
    /// The parent the build's environment named: `TRACEPARENT` when it is valid, else the GitHub Actions run.
    pub fn of(recorded: &BuildTraceParent) -> Option<Parent> {
        if let Some((trace_id, span_id)) = parse_traceparent(&recorded.traceparent) {
            let trace_state = recorded.tracestate.clone();
            return Some(Parent { trace_id, span_id, trace_state, source: "TRACEPARENT".to_owned() });
        }
        if recorded.github_run_id.is_empty() {
            return None;
        }
        let attempt = if recorded.github_run_attempt.is_empty() { "1" } else { &recorded.github_run_attempt };
        Some(github_actions(&recorded.github_run_id, attempt, &recorded.github_check_run_id))
    }
}

/// A W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`): its trace and parent ids, unless it is malformed or an id
/// is all zeros (which the recommendation says to ignore). Versions after 00 may append fields; 00 may not.
pub fn parse_traceparent(text: &str) -> Option<(TraceId, SpanId)> {
    let parts: Vec<&str> = text.trim().split('-').collect();
    let [version, trace, span, flags, rest @ ..] = parts.as_slice() else { return None };
    let hex_of = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))).then_some(())
    };
    hex_of(version, 2)?;
    hex_of(flags, 2)?;
    if *version == "ff" || (*version == "00" && !rest.is_empty()) {
        return None;
    }
    hex_of(trace, 32)?;
    hex_of(span, 16)?;
    let trace_id: TraceId = hex::decode(trace).ok()?.try_into().ok()?;
    let span_id: SpanId = hex::decode(span).ok()?.try_into().ok()?;
    (trace_id != [0; 16] && span_id != [0; 8]).then_some((trace_id, span_id))
}

/// The spans the OpenTelemetry collector's GitHub receiver (`receiver/githubreceiver`, trace_event_handling.go)
/// makes of a workflow run, from the same inputs: the trace is the first 16 bytes of sha256("{run}{attempt}t"); the
/// job's span, with the check run id (the receiver's default since v0.151.0), bytes 8..16 of
/// sha256("{check run}-j"); without it, the workflow run's root span, bytes 8..16 of sha256("{run}{attempt}s").
pub fn github_actions(run_id: &str, attempt: &str, check_run_id: &str) -> Parent {
    let trace_id: TraceId = sha256(&format!("{run_id}{attempt}t"))[..16].try_into().expect("16 of 32 bytes");
    let (input, source) = if check_run_id.is_empty() {
        (format!("{run_id}{attempt}s"), format!("GitHub Actions run {run_id} attempt {attempt}"))
    } else {
        (format!("{check_run_id}-j"), format!("GitHub Actions job (check run {check_run_id}) of run {run_id}"))
    };
    let span_id: SpanId = sha256(&input)[8..16].try_into().expect("8 of 32 bytes");
    Parent { trace_id, span_id, trace_state: String::new(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_as_the_recommendation_spells_it() {
        let (trace, span) = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(hex::encode(trace), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex::encode(span), "00f067aa0ba902b7");
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
        assert!(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future").is_some());
    }

    #[test]
    fn ids_are_the_same_every_time_and_differ_between_builds() {
        assert_eq!(trace_of_build("b1"), trace_of_build("b1"));
        assert_ne!(trace_of_build("b1"), trace_of_build("b2"));
        assert_eq!(span("b1", "go"), span("b1", "go"));
        assert_ne!(span("b1", "go"), span("b1", "run/1/2"));
    }
}
