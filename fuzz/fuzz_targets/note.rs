//! C2SP signed notes: a parsed note prints back to the bytes it came from.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = consentry::log::note::Note::parse(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = consentry::log::note::VerifierKey::parse(text);
    }
});
