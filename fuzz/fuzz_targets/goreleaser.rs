//! The goreleaser config reader and matrix expansion on arbitrary text: targets or an error, never a panic.
#![no_main]

use gohook_goreleaser::matrix_from_str;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = matrix_from_str(text);
    }
});
