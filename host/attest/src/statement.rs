//! The in-toto Statement v1 and the two predicates gohook writes, as their specifications spell the JSON:
//! <https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md>,
//! <https://slsa.dev/spec/v1.0/provenance> and
//! <https://github.com/in-toto/attestation/blob/main/spec/predicates/test-result.md>.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PROVENANCE_TYPE: &str = "https://slsa.dev/provenance/v1";
pub const TEST_RESULT_TYPE: &str = "https://in-toto.io/attestation/test-result/v0.1";
/// DSSE's payload type for an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// One statement: what it is about (`subject`) and what it says (`predicate`, of `predicate_type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<ResourceDescriptor>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: serde_json::Value,
}

impl Statement {
    pub fn new(subject: ResourceDescriptor, predicate_type: &str, predicate: serde_json::Value) -> Statement {
        Statement {
            statement_type: STATEMENT_TYPE.to_owned(),
            subject: vec![subject],
            predicate_type: predicate_type.to_owned(),
            predicate,
        }
    }
}

/// in-toto's ResourceDescriptor: a file, module, tool or commit, by name, URI and/or digests.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uri: String,
    /// Algorithm → lowercase hex (or, for `dirHash1`, go.sum's base64 `h1:` hash without its prefix).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, serde_json::Value>,
}

impl ResourceDescriptor {
    pub fn file(name: &str, sha256: &str) -> ResourceDescriptor {
        ResourceDescriptor { name: name.to_owned(), digest: digest("sha256", sha256), ..Default::default() }
    }

    pub fn sha256(&self) -> Option<&str> {
        self.digest.get("sha256").map(String::as_str)
    }

    pub fn annotated(mut self, key: &str, value: impl Into<serde_json::Value>) -> ResourceDescriptor {
        self.annotations.insert(key.to_owned(), value.into());
        self
    }
}

pub fn digest(algorithm: &str, value: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(algorithm.to_owned(), value.to_owned())])
}

/// SLSA provenance v1's predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    pub build_definition: BuildDefinition,
    pub run_details: RunDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    pub build_type: String,
    pub external_parameters: serde_json::Value,
    pub internal_parameters: serde_json::Value,
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    pub builder: Builder,
    pub metadata: BuildMetadata,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Builder {
    pub id: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildMetadata {
    pub invocation_id: String,
    /// RFC 3339, UTC.
    pub started_on: String,
    pub finished_on: String,
}

/// in-toto's test-result v0.1 predicate: the policy's verdict on the subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// `PASSED`, `WARNED` or `FAILED`.
    pub result: String,
    pub configuration: Vec<ResourceDescriptor>,
    #[serde(default)]
    pub passed_tests: Vec<String>,
    #[serde(default)]
    pub warned_tests: Vec<String>,
    #[serde(default)]
    pub failed_tests: Vec<String>,
}
