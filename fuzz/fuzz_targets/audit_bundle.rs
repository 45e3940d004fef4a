//! Evidence bundles (spec/access-log.md §7.3) through the offline auditor, in memory and streamed:
//! both must reach the same verdict.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let opts = consentry::log::audit::AuditOptions::new(now);
    let a = consentry::log::audit::audit_bundle(data, opts.clone(), &mut |_| {});
    let b = consentry::log::audit::audit_reader(std::io::Cursor::new(data), opts, &mut |_| {});
    if let (Ok(a), Ok(b)) = (a, b) {
        assert_eq!((a.valid, a.entries), (b.valid, b.entries), "in-memory and streamed audits disagree");
    }
});
