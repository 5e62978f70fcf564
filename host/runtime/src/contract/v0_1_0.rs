//! Contract 0.1.0 (`wit/since_v0.1.0/`), frozen: its bindings, the host functions its plugins import, and its types
//! converted to and from gohook's own at this edge.

use wasmtime::Store;
use wasmtime::component::{HasSelf, Linker, Resource};

use gohook_policy::{Finding, Moment, MomentInput, PluginInvocation, PluginMeta, Probe, RuleMeta, SettingMeta};
use gohook_records::FindingLevel;

use crate::sandbox::{self, ArtifactFile, Sandbox};
use crate::{Answer, Call};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/since_v0.1.0",
        world: "plugin",
        imports: { default: trappable },
        // Async exports: a call is a future that a timeout can drop, even while the plugin waits in a WASI poll.
        exports: { default: async },
        with: {
            "gohook:plugin/host.artifact": crate::sandbox::ArtifactFile,
        },
    });
}

use bindings::Plugin;
pub use bindings::PluginPre;
use bindings::gohook::plugin::host::{self, LogLevel};
use bindings::gohook::plugin::types as wit;

pub fn add_to_linker(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    Plugin::add_to_linker::<Sandbox, HasSelf<Sandbox>>(linker, |s| s)
}

pub async fn call(pre: &PluginPre<Sandbox>, store: &mut Store<Sandbox>, call: Call<'_>) -> wasmtime::Result<Answer> {
    let plugin = pre.instantiate_async(&mut *store).await?;
    let findings = match call {
        Call::Metadata => return Ok(Answer::Metadata(metadata(plugin.call_metadata(&mut *store).await?))),
        Call::Moment(MomentInput::Probe(probe)) => plugin.call_on_probe(&mut *store, &wit_probe(probe)).await?,
        Call::Moment(MomentInput::BeforeTool(invocation)) => {
            plugin.call_before_tool(&mut *store, &wit_invocation(invocation)).await?
        }
        Call::Moment(MomentInput::AfterTool { invocation, exit_code, output }) => {
            let artifact = match output.clone().map(ArtifactFile::open) {
                Some(Ok(file)) => Some(store.data_mut().hand_over(file)?),
                // A tool that failed may have left no output: the plugin sees none.
                Some(Err(_)) | None => None,
            };
            plugin.call_after_tool(&mut *store, &wit_invocation(invocation), *exit_code, artifact).await?
        }
        Call::Moment(MomentInput::Check(path)) => {
            let file = ArtifactFile::open(path.clone())
                .map_err(|e| wasmtime::format_err!("cannot open {}: {e}", path.display()))?;
            let artifact = store.data_mut().hand_over(file)?;
            plugin.call_check(&mut *store, artifact).await?
        }
    };
    Ok(Answer::Findings(findings.into_iter().map(finding).collect()))
}

fn wit_probe(probe: &Probe) -> wit::Probe {
    wit::Probe {
        tool: probe.tool.clone(),
        goos: probe.goos.clone(),
        goarch: probe.goarch.clone(),
        env: probe.env.clone(),
    }
}

fn wit_invocation(invocation: &PluginInvocation) -> wit::Invocation {
    wit::Invocation {
        tool: invocation.tool.clone(),
        stage: invocation.stage.clone(),
        import_path: invocation.import_path.clone(),
        goos: invocation.goos.clone(),
        goarch: invocation.goarch.clone(),
        args: invocation.args.clone(),
        output: invocation.output.clone(),
    }
}

fn moment(moment: wit::Moment) -> Moment {
    match moment {
        wit::Moment::Probe => Moment::Probe,
        wit::Moment::BeforeTool => Moment::BeforeTool,
        wit::Moment::AfterTool => Moment::AfterTool,
        wit::Moment::Check => Moment::Check,
    }
}

fn finding(finding: wit::Finding) -> Finding {
    Finding {
        rule: finding.rule,
        severity: match finding.severity {
            wit::Severity::Error => FindingLevel::Error,
            wit::Severity::Warning => FindingLevel::Warning,
            wit::Severity::Note => FindingLevel::Note,
        },
        message: finding.message,
        help: finding.help,
    }
}

fn metadata(m: wit::Metadata) -> PluginMeta {
    PluginMeta {
        name: m.name,
        version: m.version,
        moments: m.moments.into_iter().map(|x| moment(x).name().to_owned()).collect(),
        tools: m.tools,
        settings: m.settings.into_iter().map(|s| SettingMeta { name: s.name, description: s.description }).collect(),
        rules: m.rules.into_iter().map(|r| RuleMeta { id: r.id, summary: r.summary, help: r.help }).collect(),
    }
}

impl wit::Host for Sandbox {}

impl host::Host for Sandbox {
    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        let level = match level {
            LogLevel::Trace => sandbox::LogLevel::Trace,
            LogLevel::Debug => sandbox::LogLevel::Debug,
            LogLevel::Info => sandbox::LogLevel::Info,
            LogLevel::Warn => sandbox::LogLevel::Warn,
            LogLevel::Error => sandbox::LogLevel::Error,
        };
        Sandbox::log(self, level, &message);
        Ok(())
    }

    fn settings(&mut self) -> wasmtime::Result<String> {
        Ok(self.settings_json().to_owned())
    }
}

impl host::HostArtifact for Sandbox {
    fn path(&mut self, artifact: Resource<ArtifactFile>) -> wasmtime::Result<String> {
        Ok(self.artifact(&artifact)?.path.display().to_string())
    }

    fn size(&mut self, artifact: Resource<ArtifactFile>) -> wasmtime::Result<u64> {
        Ok(self.artifact(&artifact)?.size())
    }

    fn read(
        &mut self,
        artifact: Resource<ArtifactFile>,
        offset: u64,
        len: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        let answer = self.artifact(&artifact)?.read(offset, len);
        if let Ok(bytes) = &answer {
            self.reads.calls += 1;
            self.reads.bytes += bytes.len() as u64;
        }
        Ok(answer)
    }

    fn drop(&mut self, artifact: Resource<ArtifactFile>) -> wasmtime::Result<()> {
        self.release(artifact)
    }
}
