//! `@file` argument expansion, as go's tools do it: the input is split into the argument list and the contents of
//! one response file; expansion gives arguments or an error, never a panic.
#![no_main]

use gohook_shim::expand_args;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (args, file) = text.split_once('\0').unwrap_or((&text, ""));
    let args: Vec<String> = args.split('\n').map(str::to_owned).collect();
    let _ = expand_args(&args, |_| Ok(file.to_owned()));
});
