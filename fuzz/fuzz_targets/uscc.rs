//! Unified Social Credit Codes (GB 32100-2015): an accepted code prints back as given.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(code) = consentry::ids::Uscc::parse(text) {
        assert_eq!(code.as_str(), text);
    }
});
