//! `consentry calendar …`: check a working-day calendar file, list day kinds, compute deadlines
//! (spec/objections.md §4). Uses the built-in calendar unless `--calendar FILE` is given.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::{CliError, CliResult, print_json};
use crate::calendar::{CalendarError, WorkCalendar, format_cst};
use crate::credential::datetime::parse_datetime_stamp;

#[derive(Debug, Args)]
pub(super) struct CalendarArgs {
    /// A calendar file (format consentry-workday-calendar/v1) instead of the built-in one.
    #[arg(long, global = true, env = "CONSENTRY_CALENDAR", value_name = "FILE")]
    calendar: Option<PathBuf>,
    #[command(subcommand)]
    command: CalendarCommand,
}

#[derive(Debug, Subcommand)]
enum CalendarCommand {
    /// Check the calendar and list the years it covers with their sources.
    Check,
    /// Print every date from FROM to UNTIL (inclusive, YYYY-MM-DD) with its kind, tab-separated.
    Days {
        /// First date.
        from: String,
        /// Last date.
        until: String,
    },
    /// The deadline N working days after an instant (default 2, the objection forwarding limit).
    Deadline {
        /// The instant, RFC 3339 (e.g. 2025-09-26T10:00:00+08:00).
        at: String,
        /// Working days.
        #[arg(long, default_value_t = 2)]
        days: u32,
    },
}

fn load(path: Option<&PathBuf>) -> Result<WorkCalendar, CliError> {
    let cal = match path {
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| CliError::usage(format!("{}: {e}", p.display())))?;
            WorkCalendar::from_json(&bytes)
        }
        None => WorkCalendar::embedded(),
    };
    cal.map_err(|e| CliError::Invalid(vec![("invalid-calendar".into(), e.to_string())]))
}

fn missing(e: CalendarError) -> CliError {
    let code = match e {
        CalendarError::Missing { .. } => "calendar-missing",
        _ => "invalid-calendar",
    };
    CliError::Invalid(vec![(code.into(), e.to_string())])
}

pub(super) fn run(args: CalendarArgs) -> CliResult {
    let cal = load(args.calendar.as_ref())?;
    match args.command {
        CalendarCommand::Check => {
            let years: Vec<_> = cal
                .years()
                .map(|(y, s)| json!({"year": y, "source": s}))
                .collect();
            print_json(&json!({"valid": true, "years": years}))
        }
        CalendarCommand::Days { from, until } => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            let parse = |s: &str| {
                time::Date::parse(s, &fmt)
                    .map_err(|_| CliError::usage(format!("{s:?} is not a YYYY-MM-DD date")))
            };
            let (mut d, last) = (parse(&from)?, parse(&until)?);
            if last < d || (last - d).whole_days() > 3660 {
                return Err(CliError::usage(
                    "UNTIL must be on or after FROM, at most ten years later",
                ));
            }
            while d <= last {
                let kind = cal.day(d).map_err(missing)?;
                outln!("{d}\t{}", kind.as_str());
                match d.next_day() {
                    Some(n) => d = n,
                    None => break,
                }
            }
            Ok(())
        }
        CalendarCommand::Deadline { at, days } => {
            let at = parse_datetime_stamp(&at).map_err(|e| CliError::usage(format!("AT: {e}")))?;
            let d = cal.deadline(at, days).map_err(missing)?;
            print_json(&json!({
                "from": format_cst(at),
                "workingDays": days,
                "deadlineDate": d.date.to_string(),
                "deadline": format_cst(d.end),
            }))
        }
    }
}
