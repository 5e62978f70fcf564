//! A real Jaeger (v2, built on the OpenTelemetry collector) for the export tests: `tools/test` installs it into
//! `target/go-tools`; each test starts its own on loopback ports picked free, with in-memory storage, an OTLP/HTTP
//! receiver and the query API, and reads traces back through that API as a user's dashboard would.

use std::io::Read as _;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::go_tool;

pub struct Jaeger {
    child: Child,
    /// Where OTLP goes: the value for OTEL_EXPORTER_OTLP_ENDPOINT.
    pub otlp_endpoint: String,
    query: String,
    _dir: tempfile::TempDir,
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Jaeger {
    /// A Jaeger listening on loopback only, ready (its health check answers).
    pub fn start() -> Jaeger {
        let binary = go_tool("jaeger");
        let dir = tempfile::tempdir().unwrap();
        let [otlp, query, grpc, health] = [free_port(), free_port(), free_port(), free_port()];
        let config = format!(
            "service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:{health}
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:{query}
    grpc:
      endpoint: 127.0.0.1:{grpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{otlp}
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
"
        );
        let config_path = dir.path().join("jaeger.yaml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("jaeger.log")).unwrap();
        let child = Command::new(&binary)
            .arg("--config")
            .arg(format!("file:{}", config_path.display()))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", binary.display()));
        let mut jaeger = Jaeger {
            child,
            otlp_endpoint: format!("http://127.0.0.1:{otlp}"),
            query: format!("http://127.0.0.1:{query}"),
            _dir: dir,
        };
        jaeger.wait_ready(&format!("http://127.0.0.1:{health}/status"));
        jaeger
    }

    fn wait_ready(&mut self, health: &str) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("jaeger exited ({status}) before it was ready: {}", self.log());
            }
            if ureq::get(health).call().is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(90), "jaeger not ready in 90 s: {}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(self._dir.path().join("jaeger.log")) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// GET on the query API: its JSON.
    pub fn query(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.query);
        let mut response = ureq::get(&url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let body = response.body_mut().with_config().limit(1 << 30).read_to_vec().unwrap();
        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e})"))
    }

    /// Every trace of `service`, as the query API gives them (`data`), once it holds `spans` spans in all — the
    /// collector stores what it received a moment after it answered.
    pub fn traces(&self, service: &str, spans: usize) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let found = self.query(&format!("/api/traces?service={service}&limit=1000&lookback=48h"));
            let traces = found["data"].as_array().cloned().unwrap_or_default();
            let count: usize = traces.iter().map(|t| t["spans"].as_array().map_or(0, Vec::len)).sum();
            if count >= spans || started.elapsed() > Duration::from_secs(30) {
                return traces;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Jaeger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A span's tag (`key`) as Jaeger shows it.
pub fn tag<'a>(tags: &'a Value, key: &str) -> Option<&'a Value> {
    tags.as_array()?.iter().find(|t| t["key"] == key).map(|t| &t["value"])
}

/// `sha256sum` of `text`, hex: the GitHub receiver's ids computed by a tool other than gohook.
pub fn sha256_hex(text: &str) -> String {
    use std::io::Write as _;
    let mut child =
        Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("sha256sum runs");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}
