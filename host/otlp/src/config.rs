//! Where and how builds are sent: the OpenTelemetry exporter variables, over gohook.toml's `[export.otlp]`.
//!
//! The variables are the specification's (`OTEL_EXPORTER_OTLP_*`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_SDK_DISABLED`), so a CI runner already set up for other OpenTelemetry tools sends gohook's builds to the
//! same place; each one wins over the table's setting, a traces-specific one over the general one.

use std::time::Duration;

use gohook_policy::OtlpSettings;

/// How long one export may take, when neither `OTEL_EXPORTER_OTLP_TIMEOUT` nor `timeout_ms` says: short, because
/// `gohook build` waits for it (the specification's 10 s would hold every build behind a dead collector).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The exporter's settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where trace requests are POSTed (`…/v1/traces`).
    pub traces_url: String,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub protocol: Protocol,
    pub service_name: String,
    /// From `OTEL_RESOURCE_ATTRIBUTES` and the table, `service.name` left out (it is [`Config::service_name`]).
    pub resource_attributes: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf`: what every collector takes, and the smallest.
    Protobuf,
    /// `http/json`.
    Json,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{from} = {value:?} is not an http:// or https:// URL")]
    Endpoint { from: String, value: String },
    #[error(
        "{from} = {value:?}: gohook sends OTLP over HTTP; use http/protobuf (or http/json) and the collector's HTTP \
         port (4318 by default) instead of its gRPC port"
    )]
    Protocol { from: String, value: String },
    #[error("{from} = {value:?}: expected a whole number of milliseconds")]
    Timeout { from: String, value: String },
    #[error("{from}: {entry:?} is not key=value (entries are separated by commas, values may be %-encoded)")]
    List { from: String, entry: String },
}

const TABLE: &str = "[export.otlp]";

impl Config {
    /// The exporter configured by this process's environment over `table`; `None` when no endpoint is configured
    /// or `OTEL_SDK_DISABLED=true`. An `endpoint` given on the command line wins over both, as a base URL like
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, and is asked for even when the SDK is disabled.
    pub fn from_env(table: Option<&OtlpSettings>, endpoint: Option<&str>) -> Result<Option<Config>, ConfigError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        match endpoint {
            Some(endpoint) => Config::resolve(table, |name| match name {
                "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.to_owned()),
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" | "OTEL_SDK_DISABLED" => None,
                _ => env(name),
            }),
            None => Config::resolve(table, env),
        }
    }

    /// [`Config::from_env`] with the variables read through `var` (tests give their own).
    pub fn resolve(
        table: Option<&OtlpSettings>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Config>, ConfigError> {
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        let empty = OtlpSettings::default();
        let table = table.unwrap_or(&empty);
        // The traces endpoint is taken as is; the general one is a base that traces go under.
        let endpoint = [
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT".to_owned(), var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), false),
            ("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), var("OTEL_EXPORTER_OTLP_ENDPOINT"), true),
            (format!("{TABLE} traces_endpoint"), table.traces_endpoint.clone(), false),
            (format!("{TABLE} endpoint"), table.endpoint.clone(), true),
        ]
        .into_iter()
        .find_map(|(from, value, base)| value.map(|v| (from, v.trim().to_owned(), base)));
        let Some((from, value, base)) = endpoint else {
            return Ok(None);
        };
        if !(value.starts_with("http://") || value.starts_with("https://")) {
            return Err(ConfigError::Endpoint { from, value });
        }
        let traces_url = if base { format!("{}/v1/traces", value.trim_end_matches('/')) } else { value };

        let signal = |general: &str| {
            let traces = general.replacen("OTEL_EXPORTER_OTLP_", "OTEL_EXPORTER_OTLP_TRACES_", 1);
            var(&traces).map(|v| (traces, v)).or_else(|| var(general).map(|v| (general.to_owned(), v)))
        };

        let mut headers: Vec<(String, String)> = table.headers.clone().into_iter().collect();
        if let Some((from, list)) = signal("OTEL_EXPORTER_OTLP_HEADERS") {
            for (key, value) in key_values(&from, &list)? {
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
                headers.push((key, value));
            }
        }

        let timeout = match signal("OTEL_EXPORTER_OTLP_TIMEOUT") {
            Some((from, value)) => {
                let ms = value.trim().parse::<u64>().map_err(|_| ConfigError::Timeout { from, value })?;
                Duration::from_millis(ms)
            }
            None => table.timeout_ms.map_or(DEFAULT_TIMEOUT, Duration::from_millis),
        };

        let protocol = match signal("OTEL_EXPORTER_OTLP_PROTOCOL")
            .or_else(|| table.protocol.clone().map(|p| (format!("{TABLE} protocol"), p)))
        {
            None => Protocol::Protobuf,
            Some((_, value)) if value.trim() == "http/protobuf" => Protocol::Protobuf,
            Some((_, value)) if value.trim() == "http/json" => Protocol::Json,
            Some((from, value)) => return Err(ConfigError::Protocol { from, value }),
        };

        let mut resource_attributes: Vec<(String, String)> = table.resource_attributes.clone().into_iter().collect();
        if let Some(list) = var("OTEL_RESOURCE_ATTRIBUTES") {
            for (key, value) in key_values("OTEL_RESOURCE_ATTRIBUTES", &list)? {
                resource_attributes.retain(|(k, _)| *k != key);
                resource_attributes.push((key, value));
            }
        }
        let named_in_attributes = resource_attributes.iter().find(|(k, _)| k == "service.name").map(|(_, v)| v.clone());
        resource_attributes.retain(|(k, _)| k != "service.name");
        let service_name = var("OTEL_SERVICE_NAME")
            .or(named_in_attributes)
            .or_else(|| table.service_name.clone())
            .unwrap_or_else(|| "gohook".to_owned());

        Ok(Some(Config { traces_url, headers, timeout, protocol, service_name, resource_attributes }))
    }
}

/// `key=value,key2=value2`, values percent-decoded: the W3C baggage form the specification gives the header and
/// resource-attribute variables.
fn key_values(from: &str, list: &str) -> Result<Vec<(String, String)>, ConfigError> {
    list.split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_owned(), percent_decode(value.trim()))),
            _ => Err(ConfigError::List { from: from.to_owned(), entry: entry.to_owned() }),
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(vars: &[(&str, &str)], table: Option<&OtlpSettings>) -> Result<Option<Config>, ConfigError> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::resolve(table, |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn nothing_configured_means_no_export() {
        assert_eq!(resolve(&[], None), Ok(None));
        assert_eq!(resolve(&[("OTEL_SERVICE_NAME", "x")], None), Ok(None));
    }

    #[test]
    fn the_general_endpoint_is_a_base_and_the_traces_one_is_taken_as_is() {
        let config = resolve(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")], None).unwrap().unwrap();
        assert_eq!(config.traces_url, "http://collector:4318/v1/traces");
        assert_eq!(config.protocol, Protocol::Protobuf);
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
        assert_eq!(config.service_name, "gohook");
        let config = resolve(
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://traces.example.com/otlp"),
            ],
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.traces_url, "https://traces.example.com/otlp");
    }

    #[test]
    fn variables_win_over_the_table() {
        let table = OtlpSettings {
            endpoint: Some("http://table:4318".into()),
            headers: [("x-api-key".to_owned(), "table".to_owned()), ("x-team".to_owned(), "go".to_owned())].into(),
            timeout_ms: Some(2000),
            protocol: Some("http/json".into()),
            service_name: Some("from-table".into()),
            resource_attributes: [("deployment.environment".to_owned(), "ci".to_owned())].into(),
            ..Default::default()
        };
        let config = resolve(&[], Some(&table)).unwrap().unwrap();
        assert_eq!(config.traces_url, "http://table:4318/v1/traces");
        assert_eq!(config.protocol, Protocol::Json);
        assert_eq!(config.timeout, Duration::from_millis(2000));
        assert_eq!(config.service_name, "from-table");

        let config = resolve(
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "X-Api-Key=s%20ecret,other=1"),
                ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "750"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "9000"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("OTEL_RESOURCE_ATTRIBUTES", "service.name=builds,deployment.environment=prod"),
            ],
            Some(&table),
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.traces_url, "http://env:4318/v1/traces");
        assert_eq!(
            config.headers,
            [
                ("x-team".to_owned(), "go".to_owned()),
                ("X-Api-Key".into(), "s ecret".into()),
                ("other".into(), "1".into())
            ]
        );
        assert_eq!(config.timeout, Duration::from_millis(750));
        assert_eq!(config.protocol, Protocol::Protobuf);
        assert_eq!(config.service_name, "builds");
        assert_eq!(config.resource_attributes, [("deployment.environment".to_owned(), "prod".to_owned())]);
        let named =
            resolve(&[("OTEL_SERVICE_NAME", "svc"), ("OTEL_RESOURCE_ATTRIBUTES", "service.name=x")], Some(&table));
        assert_eq!(named.unwrap().unwrap().service_name, "svc");
    }

    #[test]
    fn disabled_and_bad_settings() {
        assert_eq!(
            resolve(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_SDK_DISABLED", "TRUE")], None),
            Ok(None)
        );
        let err = resolve(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "OTEL_EXPORTER_OTLP_ENDPOINT = \"collector:4318\" is not an http:// or https:// URL"
        );
        let err =
            resolve(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")], None)
                .unwrap_err();
        assert!(err.to_string().starts_with("OTEL_EXPORTER_OTLP_PROTOCOL = \"grpc\": gohook sends OTLP over HTTP"));
        let err = resolve(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"), ("OTEL_EXPORTER_OTLP_TIMEOUT", "5s")], None)
            .unwrap_err();
        assert_eq!(err, ConfigError::Timeout { from: "OTEL_EXPORTER_OTLP_TIMEOUT".into(), value: "5s".into() });
        let err =
            resolve(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"), ("OTEL_EXPORTER_OTLP_HEADERS", "novalue")], None)
                .unwrap_err();
        assert_eq!(err, ConfigError::List { from: "OTEL_EXPORTER_OTLP_HEADERS".into(), entry: "novalue".into() });
    }
}
