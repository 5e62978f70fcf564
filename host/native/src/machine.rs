//! What this machine runs natively, asked of the kernel rather than of this process (which may itself be an
//! x86-64 build running under Rosetta, where `uname -m` says `x86_64` on an Apple Silicon Mac).

use serde::Serialize;

use crate::platform::{Platform, goarch_of_uname};

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// The platform the machine runs natively.
    pub platform: Platform,
    /// How that was found: `uname -m x86_64`, `hw.optional.arm64=1`, or `declared with --host`.
    pub source: String,
    /// This very process is translated (macOS: `sysctl.proc_translated=1`, i.e. Rosetta).
    pub translated: bool,
    /// Foreign executables this machine would run through an emulator rather than refuse (Linux binfmt_misc
    /// entries such as `qemu-x86_64` or `rosetta`): a foreign go there runs, slowly, without an error.
    pub emulators: Vec<String>,
    /// The x86-64 microarchitecture level this CPU supports (1 to 4, go's GOAMD64=v1…v4), where it can be told
    /// (Linux on x86-64, from /proc/cpuinfo).
    pub amd64_level: Option<u8>,
}

impl Machine {
    /// The machine as its kernel describes it.
    pub fn detect() -> Machine {
        let (platform, source) = native_platform();
        let amd64_level = (platform.goarch == "amd64").then(cpu_amd64_level).flatten();
        Machine { platform, source, translated: translated(), emulators: emulators(), amd64_level }
    }

    /// A machine declared by the user (or a test): no process of this one is translated on it.
    pub fn declared(platform: Platform) -> Machine {
        Machine {
            platform,
            source: "declared with --host".to_owned(),
            translated: false,
            emulators: Vec::new(),
            amd64_level: None,
        }
    }
}

fn uname_machine() -> String {
    // SAFETY: uname fills the struct it is given; its fields are NUL-terminated.
    unsafe {
        let mut name: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut name) != 0 {
            return String::new();
        }
        std::ffi::CStr::from_ptr(name.machine.as_ptr()).to_string_lossy().into_owned()
    }
}

#[cfg(target_os = "macos")]
fn native_platform() -> (Platform, String) {
    // hw.optional.arm64 is 1 on Apple Silicon, also for a translated process; absent on Intel Macs.
    if sysctl_flag("hw.optional.arm64") == Some(true) {
        return (Platform::new("darwin", "arm64"), "hw.optional.arm64=1".to_owned());
    }
    let machine = uname_machine();
    let goarch = goarch_of_uname(&machine).unwrap_or("amd64");
    (Platform::new("darwin", goarch), format!("uname -m {machine}"))
}

#[cfg(not(target_os = "macos"))]
fn native_platform() -> (Platform, String) {
    let machine = uname_machine();
    let goarch = goarch_of_uname(&machine).map_or_else(|| machine.clone(), str::to_owned);
    (Platform::new(std::env::consts::OS, &goarch), format!("uname -m {machine}"))
}

#[cfg(target_os = "macos")]
fn translated() -> bool {
    sysctl_flag("sysctl.proc_translated") == Some(true)
}

#[cfg(not(target_os = "macos"))]
fn translated() -> bool {
    false
}

/// An integer sysctl read as a flag; `None` when the name does not exist on this machine.
#[cfg(target_os = "macos")]
fn sysctl_flag(name: &str) -> Option<bool> {
    let name = std::ffi::CString::new(name).ok()?;
    let mut value: libc::c_int = 0;
    let mut size = std::mem::size_of::<libc::c_int>();
    // SAFETY: value and size describe a buffer of the size sysctl is told.
    let status = unsafe {
        libc::sysctlbyname(name.as_ptr(), (&mut value as *mut libc::c_int).cast(), &mut size, std::ptr::null_mut(), 0)
    };
    (status == 0).then_some(value != 0)
}

/// binfmt_misc handlers that are enabled (Linux); none elsewhere.
fn emulators() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc/sys/fs/binfmt_misc") else { return Vec::new() };
    let mut found: Vec<String> = entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            name != "register" && name != "status"
        })
        .filter(|entry| std::fs::read_to_string(entry.path()).is_ok_and(|text| text.starts_with("enabled")))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    found
}

fn cpu_amd64_level() -> Option<u8> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let flags = cpuinfo.lines().find_map(|line| line.strip_prefix("flags")?.split_once(':').map(|(_, f)| f))?;
    Some(amd64_level(flags))
}

/// The highest x86-64 psABI level (go's GOAMD64) whose features are all among `flags` (/proc/cpuinfo's names).
pub fn amd64_level(flags: &str) -> u8 {
    let has: std::collections::HashSet<&str> = flags.split_whitespace().collect();
    // lzcnt shows as abm, and SSE3 as pni, in /proc/cpuinfo.
    let levels: [&[&str]; 3] = [
        &["cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"],
        &["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"],
        &["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"],
    ];
    1 + levels.iter().take_while(|features| features.iter().all(|f| has.contains(f))).count() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amd64_levels_follow_the_psabi_feature_sets() {
        let v2 = "fpu cx16 lahf_lm popcnt pni sse4_1 sse4_2 ssse3";
        let v3 = format!("{v2} avx avx2 bmi1 bmi2 f16c fma abm movbe xsave");
        assert_eq!(amd64_level("fpu sse2"), 1);
        assert_eq!(amd64_level(v2), 2);
        assert_eq!(amd64_level(&v3), 3);
        assert_eq!(amd64_level(&format!("{v3} avx512f avx512bw avx512cd avx512dq avx512vl")), 4);
        // AVX-512 without the v3 set is still v2.
        assert_eq!(amd64_level(&format!("{v2} avx512f avx512bw avx512cd avx512dq avx512vl")), 2);
    }
}
