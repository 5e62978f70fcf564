//! `gohook report --format pprof`: a build as a pprof profile, so `go tool pprof -top`, `-http` and `-flame` show
//! where it went, in the tool every Go developer reads.
//!
//! Each tool run is one sample, with three values — wall time, CPU time (ns) and peak RSS (bytes) — and a stack
//! `build → stage → package` (leaf last in the view, first in the sample), labelled `package` and `tool`, so
//! `-tagfocus=package=…` works. The default sample type is wall time: `-top` lists the packages that took longest.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use prost::Message;

use crate::commands::report::BuildRecords;

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

/// The gzipped profile of one build's tool runs (probes left out: they are not the build's work).
pub fn render(build: &BuildRecords) -> Vec<u8> {
    let mut strings = Strings::default();
    let mut frames = Frames::default();
    let sample_type = [("wall", "nanoseconds"), ("cpu", "nanoseconds"), ("peak_rss", "bytes")]
        .map(|(kind, unit)| proto::ValueType { r#type: strings.id(kind), unit: strings.id(unit) })
        .to_vec();
    let root = format!("build {}", build.id);
    let (package_key, tool_key) = (strings.id("package"), strings.id("tool"));
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
        let value = vec![run.duration_ns as i64, (run.user_ns + run.sys_ns) as i64, run.max_rss_bytes as i64];
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
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(&profile.encode_to_vec());
    gz.finish().unwrap_or_default()
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
}
