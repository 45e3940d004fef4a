//! Entry bundles and hash tiles as served by a log (length-prefixed entries; 32-byte hashes).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = consentry::log::tiles::parse_bundle(data);
    for width in [1u16, 7, 256] {
        if let Some(h) = consentry::log::tiles::decode_hashes(data, width) {
            assert_eq!(h.len(), usize::from(width));
        }
    }
});
