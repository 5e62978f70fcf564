//! `gohook.toml` parsing on arbitrary text: a policy or an error, never a panic.
#![no_main]

use gohook_policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(policy) = Policy::parse(text, std::path::Path::new("/fuzz/gohook.toml"))
    {
        // Every configured plugin keyed, as the shim keys a tool all of them run at.
        let names: Vec<String> = policy.plugins.keys().cloned().collect();
        let keyed: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "content-id")).collect();
        let _ = gohook_policy::fingerprint(&policy.keyed_digests(&keyed));
    }
});
