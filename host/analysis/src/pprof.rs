//! `gohook report --format pprof`: a build as a pprof profile, so `go tool pprof -top`, `-http` and `-flame` show
//! where it went, in the tool every Go developer reads.
//!
//! Each tool run is one sample, with three values — wall time, CPU time (ns) and peak RSS (bytes) — and a stack
//! `build → stage → package` (leaf last in the view, first in the sample), labelled `package` and `tool`, so
//! `-tagfocus=package=…` works. The default sample type is wall time: `-top` lists the packages that took longest.
//! With `--phases` a run's time is split into one sample per compiler or linker phase, on the same stack and
//! labelled `phase`, so `-top` still ranks packages while `-tags` and `-tagfocus=phase=be:compilefuncs` show the
//! split.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use prost::Message;

use crate::model::BuildRecords;

/// The messages of pprof's `profile.proto` (github.com/google/pprof/proto/profile.proto), field for field.
mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Profile {
        #[prost(message, repeated, tag = "1")]
        pub sample_type: Vec<ValueType>,
        #[prost(message, repeated, tag = "2")]
        pub sample: Vec<Sample>,
        #[prost(message, repeated, tag = "3")]
        pub mapping: Vec<Mapping>,
        #[prost(message, repeated, tag = "4")]
        pub location: Vec<Location>,
        #[prost(message, repeated, tag = "5")]
        pub function: Vec<Function>,
        #[prost(string, repeated, tag = "6")]
        pub string_table: Vec<String>,
        #[prost(int64, tag = "7")]
        pub drop_frames: i64,
        #[prost(int64, tag = "8")]
        pub keep_frames: i64,
        #[prost(int64, tag = "9")]
        pub time_nanos: i64,
        #[prost(int64, tag = "10")]
        pub duration_nanos: i64,
        #[prost(message, optional, tag = "11")]
        pub period_type: Option<ValueType>,
        #[prost(int64, tag = "12")]
        pub period: i64,
        #[prost(int64, repeated, tag = "13")]
        pub comment: Vec<i64>,
        #[prost(int64, tag = "14")]
        pub default_sample_type: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueType {
        #[prost(int64, tag = "1")]
        pub r#type: i64,
        #[prost(int64, tag = "2")]
        pub unit: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(uint64, repeated, tag = "1")]
        pub location_id: Vec<u64>,
        #[prost(int64, repeated, tag = "2")]
        pub value: Vec<i64>,
        #[prost(message, repeated, tag = "3")]
        pub label: Vec<Label>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Label {
        #[prost(int64, tag = "1")]
        pub key: i64,
        #[prost(int64, tag = "2")]
        pub str: i64,
        #[prost(int64, tag = "3")]
        pub num: i64,
        #[prost(int64, tag = "4")]
        pub num_unit: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Mapping {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(uint64, tag = "2")]
        pub memory_start: u64,
        #[prost(uint64, tag = "3")]
        pub memory_limit: u64,
        #[prost(uint64, tag = "4")]
        pub file_offset: u64,
        #[prost(int64, tag = "5")]
        pub filename: i64,
        #[prost(int64, tag = "6")]
        pub build_id: i64,
        #[prost(bool, tag = "7")]
        pub has_functions: bool,
        #[prost(bool, tag = "8")]
        pub has_filenames: bool,
        #[prost(bool, tag = "9")]
        pub has_line_numbers: bool,
        #[prost(bool, tag = "10")]
        pub has_inline_frames: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Location {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(uint64, tag = "2")]
        pub mapping_id: u64,
        #[prost(uint64, tag = "3")]
        pub address: u64,
        #[prost(message, repeated, tag = "4")]
        pub line: Vec<Line>,
        #[prost(bool, tag = "5")]
        pub is_folded: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Line {
        #[prost(uint64, tag = "1")]
        pub function_id: u64,
        #[prost(int64, tag = "2")]
        pub line: i64,
        #[prost(int64, tag = "3")]
        pub column: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Function {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(int64, tag = "2")]
        pub name: i64,
        #[prost(int64, tag = "3")]
        pub system_name: i64,
        #[prost(int64, tag = "4")]
        pub filename: i64,
        #[prost(int64, tag = "5")]
        pub start_line: i64,
    }
}

/// pprof's string table: index 0 is the empty string, every other string once.
#[derive(Default)]
struct Strings {
    index: BTreeMap<String, i64>,
    table: Vec<String>,
}

impl Strings {
    fn id(&mut self, text: &str) -> i64 {
        if self.table.is_empty() {
            self.table.push(String::new());
            self.index.insert(String::new(), 0);
        }
        if let Some(&id) = self.index.get(text) {
            return id;
        }
        let id = self.table.len() as i64;
        self.table.push(text.to_owned());
        self.index.insert(text.to_owned(), id);
        id
    }
}

/// One function (and its one location) per frame name.
#[derive(Default)]
struct Frames {
    ids: BTreeMap<String, u64>,
    functions: Vec<proto::Function>,
    locations: Vec<proto::Location>,
}

impl Frames {
    fn id(&mut self, name: &str, strings: &mut Strings) -> u64 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.functions.len() as u64 + 1;
        let name_id = strings.id(name);
        self.functions.push(proto::Function { id, name: name_id, system_name: name_id, ..Default::default() });
        self.locations.push(proto::Location {
            id,
            mapping_id: 1,
            line: vec![proto::Line { function_id: id, ..Default::default() }],
            ..Default::default()
        });
        self.ids.insert(name.to_owned(), id);
        id
    }
}

/// The gzipped profile of one build's tool runs (probes left out: they are not the build's work). A run that reported
/// its phases (`--phases`) gets one sample per phase, labelled with it, and one for the time outside them (labelled
/// `outside phases`); phase samples carry wall time only (the tools time phases on the clock).
pub fn render(build: &BuildRecords) -> Vec<u8> {
    let mut strings = Strings::default();
    let mut frames = Frames::default();
    let sample_type = [("wall", "nanoseconds"), ("cpu", "nanoseconds"), ("peak_rss", "bytes")]
        .map(|(kind, unit)| proto::ValueType { r#type: strings.id(kind), unit: strings.id(unit) })
        .to_vec();
    let root = format!("build {}", build.id);
    let (package_key, tool_key, phase_key) = (strings.id("package"), strings.id("tool"), strings.id("phase"));
    let reports = build.self_reports();
    let mut samples = Vec::new();
    for run in build.work() {
        let package = if run.package.is_empty() { "(no package)" } else { &run.package };
        // Leaf first: package, then stage, then the build.
        let location_id = vec![
            frames.id(package, &mut strings),
            frames.id(run.stage.name(), &mut strings),
            frames.id(&root, &mut strings),
        ];
        let label = vec![
            proto::Label { key: package_key, str: strings.id(package), ..Default::default() },
            proto::Label { key: tool_key, str: strings.id(&run.tool), ..Default::default() },
        ];
        let phases = BuildRecords::phases_of(&reports, run);
        let mut phase_label = |name: &str| proto::Label { key: phase_key, str: strings.id(name), ..Default::default() };
        for phase in phases {
            let mut label = label.clone();
            label.push(phase_label(&phase.name));
            let value = vec![phase.ns as i64, 0, 0];
            samples.push(proto::Sample { location_id: location_id.clone(), value, label });
        }
        let mut label = label;
        if !phases.is_empty() {
            label.push(phase_label("outside phases"));
        }
        let outside_phases = run.duration_ns.saturating_sub(phases.iter().map(|p| p.ns).sum());
        let value = vec![outside_phases as i64, (run.user_ns + run.sys_ns) as i64, run.max_rss_bytes as i64];
        samples.push(proto::Sample { location_id, value, label });
    }
    let mapping = proto::Mapping { id: 1, filename: strings.id("gohook"), has_functions: true, ..Default::default() };
    let profile = proto::Profile {
        default_sample_type: sample_type[0].r#type,
        sample_type,
        sample: samples,
        mapping: vec![mapping],
        location: frames.locations,
        function: frames.functions,
        time_nanos: build.start_unix_ns() as i64,
        duration_nanos: build.end_unix_ns().saturating_sub(build.start_unix_ns()) as i64,
        string_table: strings.table,
        ..Default::default()
    };
    gzip(&profile)
}

fn gzip(profile: &proto::Profile) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(&profile.encode_to_vec());
    gz.finish().unwrap_or_default()
}

/// One tool run's own CPU profile (`-cpuprofile`, gzipped as runtime/pprof writes it) and what it worked on.
pub struct ToolProfile {
    pub package: String,
    pub tool: String,
    pub bytes: Vec<u8>,
}

/// The merged profile.
pub struct Merged {
    pub gzipped: Vec<u8>,
    /// Profiles that could not be read, with why.
    pub skipped: Vec<String>,
}

/// Merges tool CPU profiles into one, with `package` and `tool` labels on every sample (`-tagfocus=package=…`).
/// Functions, locations and mappings that are the same in several profiles (the same compiler binary) are kept once.
pub fn merge(profiles: &[ToolProfile]) -> Merged {
    let mut merged = Merger::default();
    let mut skipped = Vec::new();
    for tool in profiles {
        let mut raw = Vec::new();
        let decoded = GzDecoder::new(tool.bytes.as_slice())
            .read_to_end(&mut raw)
            .map_err(|e| e.to_string())
            .and_then(|_| proto::Profile::decode(raw.as_slice()).map_err(|e| e.to_string()));
        if let Err(e) =
            decoded.map_err(|e| format!("{} of {}: {e}", tool.tool, tool.package)).and_then(|p| merged.add(&p, tool))
        {
            skipped.push(e);
        }
    }
    Merged { gzipped: gzip(&merged.finish()), skipped }
}

/// A location is the same when its mapping, address and (function, line) frames are.
type LocationKey = (u64, u64, Vec<(u64, i64)>);

#[derive(Default)]
struct Merger {
    strings: Strings,
    profile: proto::Profile,
    mappings: HashMap<(i64, i64, u64, u64, u64), u64>,
    functions: HashMap<(i64, i64, i64, i64), u64>,
    locations: HashMap<LocationKey, u64>,
}

impl Merger {
    fn add(&mut self, from: &proto::Profile, tool: &ToolProfile) -> Result<(), String> {
        let text = |id: i64| from.string_table.get(id as usize).map_or("", String::as_str);
        let types: Vec<(&str, &str)> = from.sample_type.iter().map(|t| (text(t.r#type), text(t.unit))).collect();
        if self.profile.sample_type.is_empty() {
            self.profile.sample_type = from
                .sample_type
                .iter()
                .map(|t| proto::ValueType {
                    r#type: self.strings.id(text(t.r#type)),
                    unit: self.strings.id(text(t.unit)),
                })
                .collect();
            self.profile.period_type = from.period_type.as_ref().map(|t| proto::ValueType {
                r#type: self.strings.id(text(t.r#type)),
                unit: self.strings.id(text(t.unit)),
            });
            self.profile.period = from.period;
            self.profile.time_nanos = from.time_nanos;
        } else {
            let ours: Vec<(&str, &str)> = self
                .profile
                .sample_type
                .iter()
                .map(|t| (self.strings.table[t.r#type as usize].as_str(), self.strings.table[t.unit as usize].as_str()))
                .collect();
            if ours != types {
                return Err(format!("{} of {}: sample types {types:?}, not {ours:?}", tool.tool, tool.package));
            }
            self.profile.time_nanos = self.profile.time_nanos.min(from.time_nanos);
        }
        self.profile.duration_nanos += from.duration_nanos;

        let mut mapping_ids = HashMap::new();
        for m in &from.mapping {
            let key = (
                self.strings.id(text(m.filename)),
                self.strings.id(text(m.build_id)),
                m.memory_start,
                m.memory_limit,
                m.file_offset,
            );
            let next = self.mappings.len() as u64 + 1;
            let id = *self.mappings.entry(key).or_insert_with(|| {
                self.profile.mapping.push(proto::Mapping { id: next, filename: key.0, build_id: key.1, ..m.clone() });
                next
            });
            mapping_ids.insert(m.id, id);
        }
        let mut function_ids = HashMap::new();
        for f in &from.function {
            let key = (
                self.strings.id(text(f.name)),
                self.strings.id(text(f.system_name)),
                self.strings.id(text(f.filename)),
                f.start_line,
            );
            let next = self.functions.len() as u64 + 1;
            let id = *self.functions.entry(key).or_insert_with(|| {
                self.profile.function.push(proto::Function {
                    id: next,
                    name: key.0,
                    system_name: key.1,
                    filename: key.2,
                    start_line: key.3,
                });
                next
            });
            function_ids.insert(f.id, id);
        }
        let mut location_ids = HashMap::new();
        for l in &from.location {
            let mapping_id = mapping_ids.get(&l.mapping_id).copied().unwrap_or(0);
            let lines: Vec<proto::Line> = l
                .line
                .iter()
                .map(|line| proto::Line {
                    function_id: function_ids.get(&line.function_id).copied().unwrap_or(0),
                    ..*line
                })
                .collect();
            let key = (mapping_id, l.address, lines.iter().map(|line| (line.function_id, line.line)).collect());
            let next = self.locations.len() as u64 + 1;
            let id = *self.locations.entry(key).or_insert_with(|| {
                self.profile.location.push(proto::Location {
                    id: next,
                    mapping_id,
                    address: l.address,
                    line: lines,
                    is_folded: l.is_folded,
                });
                next
            });
            location_ids.insert(l.id, id);
        }
        let labels = [
            proto::Label { key: self.strings.id("package"), str: self.strings.id(&tool.package), ..Default::default() },
            proto::Label { key: self.strings.id("tool"), str: self.strings.id(&tool.tool), ..Default::default() },
        ];
        for sample in &from.sample {
            let mut label: Vec<proto::Label> = sample
                .label
                .iter()
                .map(|l| proto::Label {
                    key: self.strings.id(text(l.key)),
                    str: if l.str == 0 { 0 } else { self.strings.id(text(l.str)) },
                    num_unit: if l.num_unit == 0 { 0 } else { self.strings.id(text(l.num_unit)) },
                    num: l.num,
                })
                .collect();
            label.extend(labels.iter().cloned());
            self.profile.sample.push(proto::Sample {
                location_id: sample.location_id.iter().map(|id| location_ids.get(id).copied().unwrap_or(0)).collect(),
                value: sample.value.clone(),
                label,
            });
        }
        Ok(())
    }

    fn finish(mut self) -> proto::Profile {
        self.strings.id("");
        self.profile.string_table = self.strings.table;
        self.profile
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_table_starts_empty_and_holds_each_string_once() {
        let mut strings = Strings::default();
        assert_eq!(strings.id("wall"), 1);
        assert_eq!(strings.id("cpu"), 2);
        assert_eq!(strings.id("wall"), 1);
        assert_eq!(strings.table, ["", "wall", "cpu"]);
    }

    /// A CPU profile as runtime/pprof writes it: one sample (count, nanoseconds) of the stack main → `leaf`. Index 1
    /// of its string table is `leaf`, so one index names different functions in different profiles, as in real ones.
    fn tool_profile(package: &str, leaf: &str, address: u64, nanos: i64) -> ToolProfile {
        let table: Vec<String> =
            ["", leaf, "samples", "count", "cpu", "nanoseconds", "main", "/usr/lib/go/pkg/tool/compile"]
                .map(String::from)
                .to_vec();
        let function = |id: u64, name: i64| proto::Function { id, name, system_name: name, ..Default::default() };
        let location = |id: u64, function_id: u64, address: u64| proto::Location {
            id,
            mapping_id: 1,
            address,
            line: vec![proto::Line { function_id, line: 10 * id as i64, column: 0 }],
            is_folded: false,
        };
        let profile = proto::Profile {
            sample_type: vec![proto::ValueType { r#type: 2, unit: 3 }, proto::ValueType { r#type: 4, unit: 5 }],
            sample: vec![proto::Sample { location_id: vec![2, 1], value: vec![1, nanos], label: Vec::new() }],
            mapping: vec![proto::Mapping { id: 1, memory_start: 0x400000, filename: 7, ..Default::default() }],
            location: vec![location(1, 1, 0x401000), location(2, 2, address)],
            function: vec![function(1, 6), function(2, 1)],
            string_table: table,
            period_type: Some(proto::ValueType { r#type: 4, unit: 5 }),
            period: 10_000_000,
            duration_nanos: 1_000,
            ..Default::default()
        };
        ToolProfile { package: package.into(), tool: "compile".into(), bytes: gzip(&profile) }
    }

    #[test]
    fn merged_profiles_share_the_same_code_and_label_each_sample_with_its_package() {
        let a = tool_profile("example.com/a", "ssa.Compile", 0x402000, 30_000_000);
        let b = tool_profile("example.com/b", "ssa.Compile", 0x402000, 20_000_000);
        let c = tool_profile("example.com/c", "gc.Main", 0x403000, 10_000_000);
        let broken = ToolProfile { package: "example.com/d".into(), tool: "link".into(), bytes: b"not gzip".to_vec() };
        let merged = merge(&[a, b, c, broken]);
        assert_eq!(merged.skipped.len(), 1, "{:?}", merged.skipped);
        assert!(merged.skipped[0].starts_with("link of example.com/d: "), "{:?}", merged.skipped);

        let mut raw = Vec::new();
        GzDecoder::new(merged.gzipped.as_slice()).read_to_end(&mut raw).unwrap();
        let profile = proto::Profile::decode(raw.as_slice()).unwrap();
        let text = |id: i64| profile.string_table[id as usize].as_str();
        assert_eq!(text(0), "");
        let types: Vec<(&str, &str)> = profile.sample_type.iter().map(|t| (text(t.r#type), text(t.unit))).collect();
        assert_eq!(types, [("samples", "count"), ("cpu", "nanoseconds")]);
        assert_eq!((profile.period, profile.duration_nanos), (10_000_000, 3_000));
        // One mapping (the same compiler binary), main once, ssa.Compile once (a and b), gc.Main: 3 functions, and
        // one location per distinct address.
        assert_eq!(profile.mapping.len(), 1);
        let names: Vec<&str> = profile.function.iter().map(|f| text(f.name)).collect();
        assert_eq!(names, ["main", "ssa.Compile", "gc.Main"]);
        assert_eq!(profile.location.len(), 3);
        // Every sample keeps its value and its stack, and says whose it is.
        let samples: Vec<(String, i64, Vec<&str>)> = profile
            .sample
            .iter()
            .map(|s| {
                let package = s.label.iter().find(|l| text(l.key) == "package").map(|l| text(l.str)).unwrap();
                let stack = s
                    .location_id
                    .iter()
                    .map(|id| {
                        let location = &profile.location[*id as usize - 1];
                        text(profile.function[location.line[0].function_id as usize - 1].name)
                    })
                    .collect();
                (package.to_owned(), s.value[1], stack)
            })
            .collect();
        assert_eq!(
            samples,
            [
                ("example.com/a".to_owned(), 30_000_000, vec!["ssa.Compile", "main"]),
                ("example.com/b".to_owned(), 20_000_000, vec!["ssa.Compile", "main"]),
                ("example.com/c".to_owned(), 10_000_000, vec!["gc.Main", "main"]),
            ]
        );
        assert!(
            profile.sample.iter().all(|s| s.label.iter().any(|l| text(l.key) == "tool" && text(l.str) == "compile"))
        );
    }
}
