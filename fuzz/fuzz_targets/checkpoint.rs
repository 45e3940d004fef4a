//! C2SP checkpoint bodies (origin, size, root hash, extension lines).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = consentry::log::checkpoint::Checkpoint::parse_body(text);
    }
});
