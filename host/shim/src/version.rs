//! The answer to `tool -V=full`.
//!
//! go runs `<toolexec> <tool> -V=full` once per tool per go command and folds the answer into every action ID, so
//! the answer decides when go's build cache may be reused. For a release toolchain go uses the whole line; for a
//! devel toolchain only the content ID of the last field, which must start with `buildID=`
//! (cmd/go/internal/work/buildid.go). gohook therefore appends a `buildID=` field of its own whose content ID hashes
//! the tool's original line, gohook's identity and the policy fingerprint: any of them changing invalidates the cache
//! in both cases, and nothing else does.

use sha2::{Digest, Sha256};

use gohook_records::VERSION;

/// The tool's own `-V=full` output with gohook's suffix.
pub fn answer(tool_output: &[u8], policy_fingerprint: &str) -> String {
    let line = String::from_utf8_lossy(tool_output);
    let line = line.trim_end();
    let mut hash = Sha256::new();
    for part in [line, &gohook_identity(), policy_fingerprint] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let content_id = hex::encode(&hash.finalize()[..16]);
    format!("{line} +gohook@{} buildID=_/_/_/{content_id}\n", VERSION)
}

/// gohook's version; debug builds add their own executable's size and mtime, so that a rebuilt development gohook
/// is never mistaken for the one that filled the cache.
fn gohook_identity() -> String {
    let version = VERSION.to_owned();
    if !cfg!(debug_assertions) {
        return version;
    }
    let stat = std::env::current_exe().and_then(std::fs::metadata);
    match stat {
        Ok(meta) => {
            use std::os::unix::fs::MetadataExt;
            format!("{version}-dev-{}-{}.{}", meta.size(), meta.mtime(), meta.mtime_nsec())
        }
        Err(_) => format!("{version}-dev"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parse go applies to the answer (buildid.go toolID), to check that what we print stays acceptable.
    fn go_tool_id(line: &str, tool: &str) -> Option<String> {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 3 || f[0] != tool || f[1] != "version" {
            return None;
        }
        if f[2] == "devel" {
            let last = f[f.len() - 1].strip_prefix("buildID=")?;
            return Some(last.rsplit('/').next().unwrap().to_owned());
        }
        Some(line.trim().to_owned())
    }

    #[test]
    fn release_line_keeps_its_words_and_changes_with_the_policy() {
        let a = answer(b"compile version go1.26.8\n", "p1");
        assert!(a.starts_with("compile version go1.26.8 +gohook@"), "{a}");
        assert!(a.ends_with('\n') && a.lines().count() == 1);
        assert_ne!(go_tool_id(&a, "compile"), go_tool_id(&answer(b"compile version go1.26.8\n", "p2"), "compile"));
        assert_eq!(a, answer(b"compile version go1.26.8\n", "p1"));
    }

    #[test]
    fn devel_line_ends_in_a_build_id_that_changes_with_the_toolchain_and_policy() {
        let devel = |toolchain_id: &str, policy: &str| {
            let line = format!("compile version devel go1.27-abc X:none buildID=x/y/z/{toolchain_id}\n");
            go_tool_id(&answer(line.as_bytes(), policy), "compile").expect("go accepts the answer")
        };
        assert_ne!(devel("tc1", "p"), devel("tc2", "p"));
        assert_ne!(devel("tc1", "p"), devel("tc1", "q"));
        assert_eq!(devel("tc1", "p"), devel("tc1", "p"));
    }
}
