//! The policy's verdict on one binary as an in-toto test-result statement: every rule of the plugins that ran,
//! passed, warned or failed, and the configuration that judged it (gohook.toml and each plugin, by digest).

use crate::statement::{ResourceDescriptor, Statement, TEST_RESULT_TYPE, TestResult};

/// What the checks said about the binary.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    pub subject: ResourceDescriptor,
    /// Every rule id (`plugin/rule`) the plugins that ran can report.
    pub rules: Vec<String>,
    pub warned: Vec<String>,
    pub failed: Vec<String>,
    /// gohook.toml and the plugins, by digest.
    pub configuration: Vec<ResourceDescriptor>,
}

impl Verdict {
    pub fn result(&self) -> &'static str {
        if !self.failed.is_empty() {
            "FAILED"
        } else if !self.warned.is_empty() {
            "WARNED"
        } else {
            "PASSED"
        }
    }

    pub fn statement(&self) -> Statement {
        let mut failed = self.failed.clone();
        failed.sort();
        failed.dedup();
        let mut warned: Vec<String> = self.warned.iter().filter(|r| !failed.contains(r)).cloned().collect();
        warned.sort();
        warned.dedup();
        let mut passed: Vec<String> =
            self.rules.iter().filter(|r| !failed.contains(r) && !warned.contains(r)).cloned().collect();
        passed.sort();
        passed.dedup();
        let result = TestResult {
            result: self.result().to_owned(),
            configuration: self.configuration.clone(),
            passed_tests: passed,
            warned_tests: warned,
            failed_tests: failed,
        };
        Statement::new(self.subject.clone(), TEST_RESULT_TYPE, serde_json::to_value(result).expect("plain data"))
    }
}
