//! C2SP tlog-proof receipts.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = consentry::log::tlog_proof::TlogProof::parse(data);
});
