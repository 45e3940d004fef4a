//! Verifiable credentials in either envelope (eddsa-jcs-2022 Data Integrity JSON, or VC-JWT), and
//! grants: the whole verifier on outside bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let _ = consentry::credential::verify(data, now);
});
