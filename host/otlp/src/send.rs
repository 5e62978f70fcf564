//! Sending traces: OTLP over HTTP, protobuf or JSON, in batches a collector takes with its default limits, retried
//! the way the OTLP specification says (429, 502, 503, 504, after `Retry-After` or a backoff) — and all of it within
//! one deadline, so that a slow, refusing or dead endpoint costs a build a bounded wait and nothing else.

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use prost::Message as _;

use crate::config::{Config, Protocol};
use crate::spans::Trace;

/// Spans per request: ~1 MB of protobuf for tool runs, well inside the collector's default 20 MiB request limit
/// (`confighttp`'s max_request_body_size) and the 4 MiB a gRPC hop behind it would take.
pub const SPANS_PER_REQUEST: usize = 2000;
/// How much of an error body is quoted.
const QUOTED: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{url} answered {status}{}", quote(.body))]
    Status { url: String, status: u16, body: String },
    #[error("cannot reach {url}: {why}")]
    Unreachable { url: String, why: String },
    #[error("{url} did not answer within {} ms (OTEL_EXPORTER_OTLP_TIMEOUT)", .timeout.as_millis())]
    TimedOut { url: String, timeout: Duration },
}

fn quote(body: &str) -> String {
    let body: String = body.chars().filter(|c| !c.is_control()).take(QUOTED).collect();
    if body.trim().is_empty() { String::new() } else { format!(": {}", body.trim()) }
}

/// What one trace cost to send.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub spans: usize,
    pub requests: usize,
    /// Spans the collector said it rejected (a partial success).
    pub rejected: u64,
    pub retries: usize,
}

pub struct Exporter {
    config: Config,
    agent: ureq::Agent,
}

impl Exporter {
    pub fn new(config: Config) -> Exporter {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(format!("gohook/{}", gohook_records::VERSION))
            .build()
            .into();
        Exporter { config, agent }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sends `trace` in batches of [`SPANS_PER_REQUEST`], each retried while the deadline allows; the first batch
    /// that cannot be sent ends it.
    pub fn send(&self, trace: &Trace, deadline: Instant) -> Result<Sent, SendError> {
        let mut sent = Sent::default();
        for chunk in trace.spans.chunks(SPANS_PER_REQUEST) {
            let request = ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: Some(trace.resource.clone()),
                    scope_spans: vec![ScopeSpans {
                        scope: Some(trace.scope.clone()),
                        spans: chunk.to_vec(),
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                }],
            };
            let (body, content_type) = match self.config.protocol {
                Protocol::Protobuf => (request.encode_to_vec(), "application/x-protobuf"),
                Protocol::Json => (serde_json::to_vec(&request).expect("OTLP messages serialize"), "application/json"),
            };
            let (rejected, retries) = self.post(&body, content_type, deadline)?;
            sent.spans += chunk.len();
            sent.requests += 1;
            sent.rejected += rejected;
            sent.retries += retries;
        }
        Ok(sent)
    }

    /// One request, retried on the statuses the OTLP specification calls retryable; the spans the collector
    /// rejected, and how many retries it took.
    fn post(&self, body: &[u8], content_type: &str, deadline: Instant) -> Result<(u64, usize), SendError> {
        let url = &self.config.traces_url;
        let mut backoff = Duration::from_millis(200);
        let mut retries = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(SendError::TimedOut { url: url.clone(), timeout: self.config.timeout });
            }
            let mut request = self.agent.post(url).header("Content-Type", content_type);
            for (key, value) in &self.config.headers {
                request = request.header(key, value);
            }
            let outcome = request.config().timeout_global(Some(remaining)).build().send(body);
            let mut response = match outcome {
                Ok(response) => response,
                Err(ureq::Error::Timeout(_)) => {
                    return Err(SendError::TimedOut { url: url.clone(), timeout: self.config.timeout });
                }
                Err(e) => return Err(SendError::Unreachable { url: url.clone(), why: e.to_string() }),
            };
            let status = response.status().as_u16();
            let answer = response.body_mut().with_config().limit(1 << 20).read_to_vec().unwrap_or_default();
            if (200..300).contains(&status) {
                return Ok((rejected_spans(&answer, self.config.protocol), retries));
            }
            let body = String::from_utf8_lossy(&answer).into_owned();
            if !matches!(status, 429 | 502 | 503 | 504) {
                return Err(SendError::Status { url: url.clone(), status, body });
            }
            // Retry-After says how long at least; the backoff keeps a `Retry-After: 0` from becoming a busy loop.
            let asked = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(Duration::ZERO, Duration::from_secs);
            let wait = asked.max(backoff);
            if Instant::now() + wait >= deadline {
                let body = format!("{}{}", body.trim(), retried(retries));
                return Err(SendError::Status { url: url.clone(), status, body });
            }
            tracing::debug!("{url} answered {status}; retrying in {} ms", wait.as_millis());
            std::thread::sleep(wait);
            backoff = (backoff * 2).min(Duration::from_secs(2));
            retries += 1;
        }
    }
}

fn retried(retries: usize) -> String {
    match retries {
        0 => String::new(),
        1 => " (retried once)".to_owned(),
        n => format!(" (retried {n} times)"),
    }
}

/// The spans a 2xx answer's partial success says were rejected (0 when it says nothing).
fn rejected_spans(answer: &[u8], protocol: Protocol) -> u64 {
    let response = match protocol {
        Protocol::Protobuf => ExportTraceServiceResponse::decode(answer).ok(),
        Protocol::Json => serde_json::from_slice::<ExportTraceServiceResponse>(answer).ok(),
    };
    let rejected = response.and_then(|r| r.partial_success).map_or(0, |p| p.rejected_spans.max(0) as u64);
    if rejected > 0 {
        tracing::warn!("the collector rejected {rejected} spans");
    }
    rejected
}
