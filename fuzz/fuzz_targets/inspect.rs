//! Whole-file inspection of arbitrary bytes, as the built-in checks do it: every helper of `gohook_sdk::inspect` and
//! `gohook_sdk::hardening`.
#![no_main]

use gohook_sdk::inspect::{Binary, Bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = Bytes { name: "fuzz", data };
    let Ok(binary) = Binary::open(&source) else { return };
    let _ = binary.images();
    let _ = binary.section_names();
    let _ = binary.symbol_tables();
    let _ = binary.dwarf_sections();
    let _ = binary.facts();
    let _ = binary.build_info();
    let _ = binary.embedded_executables();
    let _ = binary.hardening();
    let _ = binary.compiled_c();
});
