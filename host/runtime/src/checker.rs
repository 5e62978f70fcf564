//! Running the configured plugins at one moment, and turning their answers into a [`Verdict`] under the policy:
//! rule overrides applied, plugin failures turned into findings that name the plugin, time per plugin measured.
//!
//! The wasm runtime starts only when a plugin subscribes to the moment; which plugins do is known from the
//! [`Catalog`] without starting anything.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use gohook_policy::{Catalog, Finding, MomentInput, OnFailure, PluginMeta, PluginSpec, Verdict, judge};
use gohook_records::{FindingLevel, NativeCode, PluginTime, RecordedFinding};

use crate::{CacheState, Loaded, MAX_FINDINGS, PluginFailure, Runtime, wasm_of};

/// A subscribed plugin's answer, with its metadata and how its native code was obtained.
struct Answered {
    findings: Vec<Finding>,
    /// Findings beyond what one call may return.
    dropped: usize,
    meta: PluginMeta,
    cache: NativeCode,
}

/// Runs plugins; starts the runtime at most once, and only if needed.
pub struct PluginRunner<'a> {
    specs: &'a [PluginSpec],
    catalog: Catalog,
    runtime: Option<Runtime>,
    /// Components loaded so far, by content id: a plugin asked at two moments is loaded once.
    loaded: HashMap<String, Loaded>,
}

impl<'a> PluginRunner<'a> {
    pub fn new(specs: &'a [PluginSpec], root: &Path) -> PluginRunner<'a> {
        PluginRunner { specs, catalog: Catalog::new(root), runtime: None, loaded: HashMap::new() }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Whether the runtime was started (tests and `gohook plugins` want to know).
    pub fn runtime_started(&self) -> bool {
        self.runtime.is_some()
    }

    pub fn run(&mut self, input: &MomentInput) -> Verdict {
        let mut verdict = Verdict::default();
        for spec in self.specs {
            let started = Instant::now();
            let outcome = self.run_one(spec, input);
            let ns = started.elapsed().as_nanos() as u64;
            match outcome {
                Ok(None) => {}
                Ok(Some(Answered { findings, dropped, meta, cache })) => {
                    verdict.findings.extend(judge(spec, &meta, self.specs, findings));
                    if dropped > 0 {
                        verdict.findings.push(RecordedFinding {
                            plugin: spec.name.clone(),
                            rule: "gohook/too-many-findings".to_owned(),
                            severity: FindingLevel::Warning,
                            message: format!(
                                "plugin {} returned {dropped} more findings, dropped (at most {MAX_FINDINGS} per call)",
                                spec.name
                            ),
                            help: None,
                        });
                    }
                    verdict.plugins.push(PluginTime { plugin: spec.name.clone(), version: meta.version, ns, cache });
                }
                Err(failure) => {
                    tracing::debug!("plugin {} failed: {failure}", spec.name);
                    verdict.findings.push(failure_finding(spec, &failure));
                    verdict.plugins.push(PluginTime {
                        plugin: spec.name.clone(),
                        version: String::new(),
                        ns,
                        cache: NativeCode::Failed,
                    });
                }
            }
        }
        verdict
    }

    /// The plugin's metadata, from the catalog or by asking it (and remembering the answer).
    pub fn metadata(&mut self, spec: &PluginSpec) -> Result<PluginMeta, PluginFailure> {
        let content_id = self.catalog.content_id(spec).map_err(|e| PluginFailure::Load(e.to_string()))?;
        if let Some(meta) = self.catalog.meta(&content_id) {
            return Ok(meta);
        }
        self.load(spec, &content_id)?;
        self.ask_metadata(spec, &content_id)
    }

    /// Whether the plugin's native code is in the compile cache.
    pub fn native_code_state(&mut self, spec: &PluginSpec) -> String {
        let Ok(content_id) = self.catalog.content_id(spec) else { return "-".to_owned() };
        match self.runtime() {
            Ok(runtime) => match runtime.cache().entry_path(runtime.engine(), &content_id) {
                Some(path) if path.is_file() => "cached".to_owned(),
                Some(_) => "not compiled".to_owned(),
                None => "no cache".to_owned(),
            },
            Err(_) => "-".to_owned(),
        }
    }

    /// Loads the plugin into `self.loaded` unless it is there.
    fn load(&mut self, spec: &PluginSpec, content_id: &str) -> Result<(), PluginFailure> {
        if !self.loaded.contains_key(content_id) {
            let loaded = self.runtime()?.load(content_id, || wasm_of(spec))?;
            self.loaded.insert(content_id.to_owned(), loaded);
        }
        Ok(())
    }

    fn ask_metadata(&mut self, spec: &PluginSpec, content_id: &str) -> Result<PluginMeta, PluginFailure> {
        let runtime = self.runtime.as_ref().expect("loaded plugins have a runtime");
        let loaded = &self.loaded[content_id];
        let metadata = runtime.metadata(loaded, &spec.name, spec.settings_json.clone(), spec.limits)?;
        self.catalog.remember(content_id, &metadata);
        Ok(metadata)
    }

    fn run_one(&mut self, spec: &PluginSpec, input: &MomentInput) -> Result<Option<Answered>, PluginFailure> {
        let content_id = self.catalog.content_id(spec).map_err(|e| PluginFailure::Load(e.to_string()))?;
        let known = self.catalog.meta(&content_id);
        if known.as_ref().is_some_and(|meta| !meta.subscribes(input.moment(), input.tool())) {
            return Ok(None);
        }
        self.load(spec, &content_id)?;
        let meta = match known {
            Some(meta) => meta,
            None => self.ask_metadata(spec, &content_id)?,
        };
        if !meta.subscribes(input.moment(), input.tool()) {
            return Ok(None);
        }
        let runtime = self.runtime.as_ref().expect("loaded plugins have a runtime");
        let loaded = &self.loaded[&content_id];
        let cache = match loaded.cache {
            CacheState::Hit => NativeCode::Hit,
            CacheState::Compiled => NativeCode::Compiled,
            CacheState::Uncached => NativeCode::Uncached,
        };
        let (findings, dropped) = runtime.moment(loaded, &spec.name, spec.settings_json.clone(), spec.limits, input)?;
        Ok(Some(Answered { findings, dropped, meta, cache }))
    }

    fn runtime(&mut self) -> Result<&Runtime, PluginFailure> {
        if self.runtime.is_none() {
            let runtime = Runtime::new(self.catalog.native_dir())
                .map_err(|e| PluginFailure::Load(format!("cannot start the wasm runtime: {e:#}")))?;
            tracing::debug!("wasm runtime started");
            self.runtime = Some(runtime);
        }
        Ok(self.runtime.as_ref().expect("just set"))
    }
}

fn failure_finding(spec: &PluginSpec, failure: &PluginFailure) -> RecordedFinding {
    let severity = match spec.on_failure {
        OnFailure::Error => FindingLevel::Error,
        OnFailure::Warn => FindingLevel::Warning,
    };
    let help = match failure {
        PluginFailure::Incompatible(_) => None,
        _ => Some(format!(
            "fix or remove the plugin ({}); on_failure = \"warn\" in [plugins.{}] lets builds pass meanwhile",
            spec.source.describe(),
            spec.name
        )),
    };
    RecordedFinding {
        plugin: spec.name.clone(),
        rule: "gohook/plugin-failed".to_owned(),
        severity,
        message: format!("plugin {} {failure}", spec.name),
        help,
    }
}
