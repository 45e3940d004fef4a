//! Working-day calendar files (format consentry-workday-calendar/v1).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cal) = consentry::calendar::WorkCalendar::from_json(data) {
        let _ = cal.loaded();
    }
});
