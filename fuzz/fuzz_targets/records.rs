//! The record decoder on arbitrary bytes: it must count what it cannot read and never panic; whatever it does
//! decode must encode back to a frame that decodes to the same record.
#![no_main]

use gohook_records::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = decode(data);
    for record in &decoded.records {
        assert_eq!(decode(&encode(record)).records, std::slice::from_ref(record));
    }
});
