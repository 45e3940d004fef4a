//! XML Schema `dateTimeStamp` values as VC Data Model 2.0 uses them (§4.9 "Validity Period"), read
//! into [`OffsetDateTime`] and written back in the one form this crate emits: `YYYY-MM-DDTHH:MM:SSZ`.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A date-time that is not an XML Schema `dateTimeStamp` this crate accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a dateTimeStamp (YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)): {reason}")]
pub struct DateTimeError {
    /// The text that was refused.
    pub value: String,
    /// Why.
    pub reason: &'static str,
}

/// Parses an XML Schema `dateTimeStamp` (a date-time with a mandatory time zone).
///
/// Accepts exactly the VC Data Model 2.0 §4.9 pattern, minus `24:00:00` (which no clock shows):
/// upper-case `T` and `Z`, four-digit years, optional fractional seconds, offsets within ±14:00.
pub fn parse_datetime_stamp(value: &str) -> Result<OffsetDateTime, DateTimeError> {
    let err = |reason| DateTimeError {
        value: value.to_owned(),
        reason,
    };
    let bytes = value.as_bytes();
    if bytes.len() < 20 || bytes.get(10) != Some(&b'T') {
        return Err(err("expected YYYY-MM-DDThh:mm:ss with an upper-case T"));
    }
    if value.ends_with('z') {
        return Err(err("the UTC designator must be an upper-case Z"));
    }
    let has_zone = value.ends_with('Z') || matches!(bytes.get(bytes.len() - 6), Some(b'+' | b'-'));
    if !has_zone {
        return Err(err("a time zone (Z or ±hh:mm) is required"));
    }
    let parsed = OffsetDateTime::parse(value, &Rfc3339).map_err(|_| err("not a valid date-time"))?;
    if parsed.offset().whole_hours().abs() > 14 {
        return Err(err("time-zone offset beyond ±14:00"));
    }
    Ok(parsed)
}

/// Formats an instant as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds), the form vc-di-eddsa's test
/// vectors use for `created` and this crate uses everywhere it writes a date-time.
pub fn format_utc_seconds(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_vcdm_forms() {
        for ok in [
            "2023-01-01T00:00:00Z",
            "2023-01-01T08:00:00+08:00",
            "2023-06-30T23:59:59.123-05:00",
        ] {
            assert!(parse_datetime_stamp(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_what_the_pattern_refuses() {
        for bad in [
            "2023-01-01",
            "2023-01-01T00:00:00",
            "2023-01-01t00:00:00Z",
            "2023-01-01T00:00:00z",
            "2023-02-30T00:00:00Z",
            "2023-01-01 00:00:00Z",
            "2023-01-01T25:00:00Z",
        ] {
            assert!(parse_datetime_stamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_whole_seconds_in_utc() {
        let t = parse_datetime_stamp("2023-02-25T07:36:38.9+08:00").unwrap();
        assert_eq!(format_utc_seconds(t), "2023-02-24T23:36:38Z");
    }
}
