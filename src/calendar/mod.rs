//! Working days in China: the public holidays and make-up working days (调休) the General Office of
//! the State Council publishes each year, and deadlines counted in working days in China Standard
//! Time (spec/objections.md §4).
//!
//! The calendar is data (`spec/calendar/cn-workdays.json`, format `consentry-workday-calendar/v1`),
//! embedded as the default and replaceable by a file at run time. A date is a working day when a
//! loaded year lists it under `workdays`; it is not when it falls in a listed holiday; otherwise it is
//! exactly when it is Monday to Friday. A date in a year that is not loaded is *unknown*, and every
//! computation that would need it fails with [`CalendarError::Missing`] instead of guessing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset, Weekday};

/// China Standard Time, UTC+8 (no daylight saving since 1991).
pub const CST: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The identifier of the file format.
pub const FORMAT: &str = "consentry-workday-calendar/v1";

/// The calendar shipped with this build (`spec/calendar/cn-workdays.json`).
pub const EMBEDDED: &str = include_str!("../../spec/calendar/cn-workdays.json");

/// Why a calendar could not be loaded or a question not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// The file is not a valid calendar; says where.
    #[error("invalid calendar: {0}")]
    Invalid(String),
    /// The answer needs a year the calendar does not have.
    #[error(
        "the working-day calendar has no data for {year} (loaded: {loaded}); load the official {year} holiday notice"
    )]
    Missing {
        /// The year needed.
        year: i32,
        /// The years loaded, e.g. `2024–2026`.
        loaded: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct File {
    format: String,
    jurisdiction: String,
    time_zone: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    years: Vec<YearFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    source: String,
    holidays: Vec<HolidayFile>,
    workdays: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    name: String,
    from: String,
    to: String,
}

/// What kind of day a date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// Monday to Friday, not a holiday.
    Workday,
    /// A weekend day moved to be a working day (调休上班).
    MakeUpWorkday,
    /// A public holiday (including the weekend days and moved days of its break).
    Holiday,
    /// Saturday or Sunday, not moved.
    Weekend,
}

impl DayKind {
    /// The kebab-case name: `workday`, `make-up-workday`, `holiday`, `weekend`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workday => "workday",
            Self::MakeUpWorkday => "make-up-workday",
            Self::Holiday => "holiday",
            Self::Weekend => "weekend",
        }
    }

    /// Whether people work that day.
    pub fn is_working(self) -> bool {
        matches!(self, Self::Workday | Self::MakeUpWorkday)
    }
}

/// A loaded calendar. Immutable; swap the whole value to replace it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    years: BTreeMap<i32, String>,
    holidays: BTreeMap<Date, String>,
    workdays: BTreeSet<Date>,
}

fn parse_date(s: &str, what: &str) -> Result<Date, CalendarError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt)
        .map_err(|_| CalendarError::Invalid(format!("{what}: {s:?} is not a YYYY-MM-DD date")))
}

impl WorkCalendar {
    /// The calendar shipped with this build.
    pub fn embedded() -> Result<Self, CalendarError> {
        Self::from_json(EMBEDDED.as_bytes())
    }

    /// Parses and checks a calendar file: the format and time zone, each year listed once, every date
    /// valid and inside its year, holiday ranges ordered and disjoint, no make-up working day inside a
    /// holiday or on a weekday.
    pub fn from_json(bytes: &[u8]) -> Result<Self, CalendarError> {
        let file: File = serde_json::from_slice(bytes).map_err(|e| CalendarError::Invalid(e.to_string()))?;
        if file.format != FORMAT {
            return Err(CalendarError::Invalid(format!("format must be {FORMAT:?}")));
        }
        if file.jurisdiction != "CN" || file.time_zone != "+08:00" {
            return Err(CalendarError::Invalid(
                "jurisdiction must be \"CN\" and timeZone \"+08:00\"".into(),
            ));
        }
        let mut cal = Self {
            years: BTreeMap::new(),
            holidays: BTreeMap::new(),
            workdays: BTreeSet::new(),
        };
        for y in &file.years {
            if cal.years.insert(y.year, y.source.clone()).is_some() {
                return Err(CalendarError::Invalid(format!("year {} is listed twice", y.year)));
            }
            if y.source.trim().is_empty() {
                return Err(CalendarError::Invalid(format!(
                    "year {}: source is empty",
                    y.year
                )));
            }
            for h in &y.holidays {
                let what = format!("{} {}", y.year, h.name);
                let (from, to) = (parse_date(&h.from, &what)?, parse_date(&h.to, &what)?);
                if to < from || (to - from) > Duration::days(15) {
                    return Err(CalendarError::Invalid(format!(
                        "{what}: {} to {} is not a holiday range",
                        h.from, h.to
                    )));
                }
                let mut d = from;
                while d <= to {
                    if d.year() != y.year {
                        return Err(CalendarError::Invalid(format!(
                            "{what}: {d} is outside {}",
                            y.year
                        )));
                    }
                    if cal.holidays.insert(d, h.name.clone()).is_some() {
                        return Err(CalendarError::Invalid(format!("{what}: {d} is in two holidays")));
                    }
                    d = d
                        .next_day()
                        .ok_or_else(|| CalendarError::Invalid("date overflow".into()))?;
                }
            }
            for w in &y.workdays {
                let d = parse_date(w, &format!("{} workdays", y.year))?;
                // A notice may move a day of the neighbouring year (the 2019 notice moved 2018-12-29).
                if (d.year() - y.year).abs() > 1 {
                    return Err(CalendarError::Invalid(format!(
                        "{} workdays: {d} is too far from {}",
                        y.year, y.year
                    )));
                }
                if !is_weekend(d) {
                    return Err(CalendarError::Invalid(format!(
                        "{} workdays: {d} is a {}, not a weekend day",
                        y.year,
                        d.weekday()
                    )));
                }
                if !cal.workdays.insert(d) {
                    return Err(CalendarError::Invalid(format!(
                        "{} workdays: {d} is listed twice",
                        y.year
                    )));
                }
            }
        }
        if let Some(d) = cal.workdays.iter().find(|d| cal.holidays.contains_key(d)) {
            return Err(CalendarError::Invalid(format!(
                "{d} is both a holiday and a working day"
            )));
        }
        if cal.years.is_empty() {
            return Err(CalendarError::Invalid("no years".into()));
        }
        Ok(cal)
    }

    /// The years loaded and the notice each comes from.
    pub fn years(&self) -> impl Iterator<Item = (i32, &str)> {
        self.years.iter().map(|(y, s)| (*y, s.as_str()))
    }

    /// The loaded years as text, e.g. `2024–2026` or `2024, 2026`.
    pub fn loaded(&self) -> String {
        let ys: Vec<i32> = self.years.keys().copied().collect();
        let contiguous = ys.windows(2).all(|w| w[1] == w[0] + 1);
        match (ys.first(), ys.last()) {
            (Some(a), Some(b)) if contiguous && a != b => format!("{a}–{b}"),
            _ => ys.iter().map(i32::to_string).collect::<Vec<_>>().join(", "),
        }
    }

    /// What kind of day `d` is, or [`CalendarError::Missing`] when its year is not loaded.
    pub fn day(&self, d: Date) -> Result<DayKind, CalendarError> {
        if !self.years.contains_key(&d.year()) {
            return Err(CalendarError::Missing {
                year: d.year(),
                loaded: self.loaded(),
            });
        }
        Ok(if self.workdays.contains(&d) {
            DayKind::MakeUpWorkday
        } else if self.holidays.contains_key(&d) {
            DayKind::Holiday
        } else if is_weekend(d) {
            DayKind::Weekend
        } else {
            DayKind::Workday
        })
    }

    /// The name of the holiday `d` falls in, if any.
    pub fn holiday_name(&self, d: Date) -> Option<&str> {
        self.holidays.get(&d).map(String::as_str)
    }

    /// The `n`-th working day after `d` (`d` itself never counts, RFC-style "within n working days"
    /// of the day something happened). `n` = 0 returns `d`.
    pub fn add_working_days(&self, d: Date, n: u32) -> Result<Date, CalendarError> {
        let mut day = d;
        let mut left = n;
        while left > 0 {
            day = day
                .next_day()
                .ok_or_else(|| CalendarError::Invalid("date overflow".into()))?;
            if self.day(day)?.is_working() {
                left -= 1;
            }
        }
        Ok(day)
    }

    /// The deadline for something that must happen within `n` working days of `at`: the last instant
    /// (23:59:59.999 CST) of the `n`-th working day after `at`'s date in China Standard Time.
    pub fn deadline(&self, at: OffsetDateTime, n: u32) -> Result<Deadline, CalendarError> {
        let date = at.to_offset(CST).date();
        let last = self.add_working_days(date, n)?;
        let end = last
            .next_day()
            .ok_or_else(|| CalendarError::Invalid("date overflow".into()))?
            .with_time(Time::MIDNIGHT)
            .assume_offset(CST)
            - Duration::milliseconds(1);
        Ok(Deadline { date: last, end })
    }
}

/// A deadline: the last working day and its last instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// The last working day (CST date).
    pub date: Date,
    /// Its last millisecond, 23:59:59.999 CST.
    pub end: OffsetDateTime,
}

/// An instant in China Standard Time, RFC 3339 with milliseconds: `2025-09-29T23:59:59.999+08:00`.
pub fn format_cst(t: OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+08:00"
    );
    t.to_offset(CST).format(&fmt).unwrap_or_default()
}

/// The calendar a running service uses: the built-in one, or a file that is re-read when it
/// changes ([`SharedCalendar::reload_if_changed`]), so a new year's notice is loaded without a
/// rebuild or a restart. A file that fails to parse is reported and the previous calendar kept.
#[derive(Debug)]
pub struct SharedCalendar {
    current: RwLock<Arc<WorkCalendar>>,
    path: Option<PathBuf>,
    modified: Mutex<Option<SystemTime>>,
}

impl SharedCalendar {
    /// Loads `path`, or the built-in calendar when `None`. Fails when the file is unreadable or invalid.
    pub fn open(path: Option<PathBuf>) -> Result<Self, CalendarError> {
        let (cal, modified) = match &path {
            None => (WorkCalendar::embedded()?, None),
            Some(p) => read_file(p)?,
        };
        Ok(Self {
            current: RwLock::new(Arc::new(cal)),
            path,
            modified: Mutex::new(modified),
        })
    }

    /// The calendar now.
    pub fn get(&self) -> Arc<WorkCalendar> {
        match self.current.read() {
            Ok(c) => Arc::clone(&c),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// Where the calendar comes from: the file, or `built-in`.
    pub fn origin(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "built-in".to_owned(), |p| p.display().to_string())
    }

    /// Re-reads the file if its modification time changed. `Ok(true)` when a new calendar is now in
    /// use; an invalid file leaves the current calendar in place and is returned as the error.
    pub fn reload_if_changed(&self) -> Result<bool, CalendarError> {
        let Some(path) = &self.path else {
            return Ok(false);
        };
        let stamp = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let Ok(mut last) = self.modified.lock() else {
            return Ok(false);
        };
        if stamp.is_some() && stamp == *last {
            return Ok(false);
        }
        *last = stamp;
        let (cal, _) = read_file(path)?;
        if *self.get() == cal {
            return Ok(false);
        }
        if let Ok(mut cur) = self.current.write() {
            *cur = Arc::new(cal);
        }
        Ok(true)
    }
}

fn read_file(path: &PathBuf) -> Result<(WorkCalendar, Option<SystemTime>), CalendarError> {
    let bytes =
        std::fs::read(path).map_err(|e| CalendarError::Invalid(format!("{}: {e}", path.display())))?;
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let cal = WorkCalendar::from_json(&bytes)
        .map_err(|e| CalendarError::Invalid(format!("{}: {e}", path.display())))?;
    Ok((cal, modified))
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::{date, datetime};

    fn cal() -> WorkCalendar {
        WorkCalendar::embedded().unwrap()
    }

    #[test]
    fn embedded_calendar_loads_with_its_years() {
        let c = cal();
        assert_eq!(
            c.years().map(|(y, _)| y).collect::<Vec<_>>(),
            vec![2024, 2025, 2026]
        );
        assert_eq!(c.loaded(), "2024–2026");
    }

    #[test]
    fn day_kinds_follow_the_notices() {
        let c = cal();
        assert_eq!(c.day(date!(2025 - 09 - 28)).unwrap(), DayKind::MakeUpWorkday); // Sunday, 调休上班
        assert_eq!(c.day(date!(2025 - 10 - 08)).unwrap(), DayKind::Holiday); // Wednesday
        assert_eq!(c.day(date!(2025 - 10 - 11)).unwrap(), DayKind::MakeUpWorkday); // Saturday
        assert_eq!(c.day(date!(2025 - 10 - 12)).unwrap(), DayKind::Weekend);
        assert_eq!(c.day(date!(2025 - 10 - 13)).unwrap(), DayKind::Workday);
        assert_eq!(c.day(date!(2024 - 02 - 18)).unwrap(), DayKind::MakeUpWorkday);
        assert_eq!(c.day(date!(2026 - 02 - 23)).unwrap(), DayKind::Holiday); // Monday
        assert_eq!(
            c.holiday_name(date!(2026 - 02 - 23)),
            Some("春节 Spring Festival")
        );
    }

    #[test]
    fn friday_before_national_day_2025_counts_the_sunday_make_up_day() {
        // Filed Friday 26 Sep 2025: Sat 27 rest, Sun 28 works (1), Mon 29 works (2).
        let d = cal().deadline(datetime!(2025-09-26 10:00 +08:00), 2).unwrap();
        assert_eq!(d.date, date!(2025 - 09 - 29));
        assert_eq!(d.end, datetime!(2025-09-29 23:59:59.999 +08:00));
    }

    #[test]
    fn filed_on_the_eve_of_the_holiday_waits_for_the_week_to_end() {
        // Filed Tue 30 Sep 2025: 1–8 Oct off, Thu 9 (1), Fri 10 (2).
        let d = cal().deadline(datetime!(2025-09-30 16:00 +08:00), 2).unwrap();
        assert_eq!(d.date, date!(2025 - 10 - 10));
        // Filed Thu 9 Oct: Fri 10 (1), Sat 11 is a make-up working day (2).
        let d = cal().deadline(datetime!(2025-10-09 09:00 +08:00), 2).unwrap();
        assert_eq!(d.date, date!(2025 - 10 - 11));
    }

    #[test]
    fn the_date_is_taken_in_china_standard_time() {
        // 17:00 UTC on Thursday 25 Sep 2025 is already Friday 26 Sep in Beijing.
        let d = cal().deadline(datetime!(2025-09-25 17:00 UTC), 2).unwrap();
        assert_eq!(d.date, date!(2025 - 09 - 29));
        // 15:59 UTC is still Thursday: Fri 26 (1), Sun 28 make-up day (2).
        let d = cal().deadline(datetime!(2025-09-25 15:59 UTC), 2).unwrap();
        assert_eq!(d.date, date!(2025 - 09 - 28));
    }

    #[test]
    fn spring_festival_2026_and_its_make_up_saturdays() {
        // Filed Fri 13 Feb 2026: Sat 14 works (1), 15–23 off, Tue 24 (2).
        let d = cal().deadline(datetime!(2026-02-13 12:00 +08:00), 2).unwrap();
        assert_eq!(d.date, date!(2026 - 02 - 24));
    }

    #[test]
    fn a_missing_year_is_an_error_not_a_guess() {
        // Wed 30 Dec 2026: Thu 31 (1), then 2027 which no loaded notice covers.
        let e = cal().deadline(datetime!(2026-12-30 10:00 +08:00), 2).unwrap_err();
        assert_eq!(
            e,
            CalendarError::Missing {
                year: 2027,
                loaded: "2024–2026".into()
            }
        );
        assert!(e.to_string().contains("no data for 2027"));
        // 2023 is not loaded either.
        assert!(matches!(
            cal().day(date!(2023 - 12 - 29)),
            Err(CalendarError::Missing { year: 2023, .. })
        ));
        // A deadline wholly inside the loaded years still works on 29 Dec 2026.
        let d = cal().deadline(datetime!(2026-12-28 10:00 +08:00), 2).unwrap();
        assert_eq!(d.date, date!(2026 - 12 - 30));
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let ok = r#"{"format":"consentry-workday-calendar/v1","jurisdiction":"CN","timeZone":"+08:00","years":[{"year":2027,"source":"test","holidays":[{"name":"x","from":"2027-01-01","to":"2027-01-01"}],"workdays":[]}]}"#;
        assert!(WorkCalendar::from_json(ok.as_bytes()).is_ok());
        let cases = [
            (ok.replace("v1", "v2"), "format"),
            (ok.replace("+08:00", "+00:00"), "timeZone"),
            (
                ok.replace("\"2027-01-01\",\"to\"", "\"2027-02-30\",\"to\""),
                "not a YYYY-MM-DD",
            ),
            (
                ok.replace("\"to\":\"2027-01-01\"", "\"to\":\"2026-12-31\""),
                "not a holiday range",
            ),
            (
                ok.replace("\"workdays\":[]", "\"workdays\":[\"2027-01-04\"]"),
                "not a weekend day",
            ),
            (
                ok.replace("\"workdays\":[]", "\"workdays\":[\"2027-01-02\",\"2027-01-02\"]"),
                "twice",
            ),
            (ok.replace("\"year\":2027", "\"year\":2026"), "outside 2026"),
            (
                ok.replace("\"source\":\"test\"", "\"source\":\"test\",\"extra\":1"),
                "unknown field",
            ),
        ];
        for (json, want) in cases {
            let e = WorkCalendar::from_json(json.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
    }
}
