//! Loan outcomes a bank reports back (the measures §10; `spec/loans.md`): the report a bank signs,
//! its checks, and the state machine of one loan.
//!
//! A report (`spec/loans.md` §2) names the bank's own report id and loan reference, the enterprise,
//! the grant and the node's release entries the bank relied on, and one event:
//! - `decision`: `approved` (amount, term, rate band, credit or secured, first loan or not) or
//!   `declined`;
//! - `disbursement`: an amount paid out (several tranches up to the approved amount);
//! - `repayment`: `on-time` (an amount repaid), `overdue` (days overdue), `settled` (the loan is
//!   closed) or `default`.
//!
//! Guarantees: [`LoanReport::check`] refuses, with every reason at once, what cannot be a report
//! (ids outside `[A-Za-z0-9._-]{1,64}`, amounts ≤ 0 or above [`MAX_AMOUNT_YUAN`], terms outside
//! 1–360 months, dates that are not calendar dates or lie after the day the node received it,
//! members a decision does not carry); [`LoanState::after`] refuses events out of order (anything
//! before an approval, anything after `declined`, `settled` or `default`, a disbursement beyond
//! the approved amount, a repayment beyond the balance, a date before the loan's last event).
//! Nothing here touches storage: the node applies the checked event in the transaction that logs
//! it.

use serde::{Deserialize, Serialize};
use time::Date;

/// The largest amount one report may carry, in yuan (10 亿元): a small-enterprise loan beyond it is
/// a mistake in units, not a loan.
pub const MAX_AMOUNT_YUAN: i64 = 1_000_000_000;
/// The longest term, in months.
pub const MAX_TERM_MONTHS: i64 = 360;
/// The most release entries one report may cite.
pub const MAX_RELEASES: usize = 64;
/// The longest overdue period one event may state, in days (ten years).
pub const MAX_OVERDUE_DAYS: i64 = 3650;

/// What the bank decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// The loan was granted.
    Approved,
    /// The application was declined.
    Declined,
}

/// How the loan is secured: a credit loan (信用贷款) or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Security {
    /// 信用贷款: no collateral or guarantee.
    Credit,
    /// Collateral or a guarantee.
    Secured,
}

/// The annual interest rate band, in percent (closed vocabulary; `spec/loans.md` §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RateBand {
    /// Below 3 %.
    #[serde(rename = "lt-3")]
    Below3,
    /// 3 % to below 4 %.
    #[serde(rename = "3-4")]
    From3To4,
    /// 4 % to below 5 %.
    #[serde(rename = "4-5")]
    From4To5,
    /// 5 % to below 6 %.
    #[serde(rename = "5-6")]
    From5To6,
    /// 6 % to below 8 %.
    #[serde(rename = "6-8")]
    From6To8,
    /// 8 % or more.
    #[serde(rename = "ge-8")]
    AtLeast8,
}

/// A repayment event's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Repayment {
    /// An instalment repaid on time (carries `amount`).
    OnTime,
    /// An instalment overdue (carries `overdueDays`).
    Overdue,
    /// The loan repaid in full and closed (an `amount` is the final payment).
    Settled,
    /// The loan in default (written off or handed to recovery).
    Default,
}

/// One event of a loan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LoanEvent {
    /// The credit decision on an application.
    #[serde(rename_all = "camelCase")]
    Decision {
        /// Approved or declined.
        decision: Decision,
        /// The approved amount, yuan (approved only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<i64>,
        /// The term in months (approved only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term_months: Option<i64>,
        /// The rate band (approved only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rate_band: Option<RateBand>,
        /// Credit or secured (approved only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        security: Option<Security>,
        /// Whether this is the enterprise's first loan from any bank (首贷), as the bank knows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_loan: Option<bool>,
        /// The day of the decision (`YYYY-MM-DD`).
        on: String,
    },
    /// Money paid out.
    #[serde(rename_all = "camelCase")]
    Disbursement {
        /// Yuan.
        amount: i64,
        /// The day (`YYYY-MM-DD`).
        on: String,
    },
    /// An approved loan withdrawn before anything was paid out (the enterprise did not draw it, or
    /// the bank cancelled it): the loan ends without a balance.
    #[serde(rename_all = "camelCase")]
    Cancellation {
        /// The day (`YYYY-MM-DD`).
        on: String,
    },
    /// A repayment event.
    #[serde(rename_all = "camelCase")]
    Repayment {
        /// On time, overdue, settled or default.
        status: Repayment,
        /// Yuan repaid (on time: required; settled: optional final payment; otherwise absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<i64>,
        /// Days overdue (overdue only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        overdue_days: Option<i64>,
        /// The day (`YYYY-MM-DD`).
        on: String,
    },
}

/// What a bank signs: the `report` claim of a `loan-report` signed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoanReport {
    /// The bank's id of this report, unique per bank.
    pub report_id: String,
    /// The bank's reference of the loan (or application), unique per bank.
    pub loan: String,
    /// The enterprise (USCC).
    pub enterprise: String,
    /// The grant the bank relied on.
    pub grant: String,
    /// The node's log indices of the releases under that grant the bank relied on.
    pub releases: Vec<u64>,
    /// What happened.
    pub event: LoanEvent,
}

/// One reason a report is refused (`code` is a stable problem reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Stable reason code.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
}

fn problem(code: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        code,
        message: message.into(),
    }
}

/// Whether `s` is a bank-chosen id: 1–64 of `A-Z a-z 0-9 . _ -`.
pub fn valid_ref(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Parses a `YYYY-MM-DD` day.
pub fn parse_day(s: &str) -> Option<Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &f).ok().filter(|_| s.len() == 10)
}

fn amount_ok(what: &str, a: i64, out: &mut Vec<Problem>) {
    if a <= 0 {
        out.push(problem(
            "invalid-amount",
            format!("{what}: {a} yuan is not a positive amount"),
        ));
    } else if a > MAX_AMOUNT_YUAN {
        out.push(problem(
            "invalid-amount",
            format!(
                "{what}: {a} yuan is above the {MAX_AMOUNT_YUAN} yuan a report may carry (units are yuan)"
            ),
        ));
    }
}

impl LoanEvent {
    /// The event's day, as written.
    pub fn on(&self) -> &str {
        match self {
            Self::Decision { on, .. }
            | Self::Disbursement { on, .. }
            | Self::Cancellation { on }
            | Self::Repayment { on, .. } => on,
        }
    }

    /// The stable name of what happened, used as the log entry's `decision`:
    /// `loan-approved`, `loan-declined`, `loan-disbursed`, `loan-repaid`, `loan-overdue`,
    /// `loan-settled`, `loan-default`, `loan-cancelled`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Decision {
                decision: Decision::Approved,
                ..
            } => "loan-approved",
            Self::Decision {
                decision: Decision::Declined,
                ..
            } => "loan-declined",
            Self::Disbursement { .. } => "loan-disbursed",
            Self::Cancellation { .. } => "loan-cancelled",
            Self::Repayment { status, .. } => match status {
                Repayment::OnTime => "loan-repaid",
                Repayment::Overdue => "loan-overdue",
                Repayment::Settled => "loan-settled",
                Repayment::Default => "loan-default",
            },
        }
    }
}

impl LoanReport {
    /// Every reason the report is not well formed, given the day the node received it (`today`,
    /// China Standard Time); empty when it is.
    pub fn check(&self, today: Date) -> Vec<Problem> {
        let mut out = Vec::new();
        for (what, v) in [("reportId", &self.report_id), ("loan", &self.loan)] {
            if !valid_ref(v) {
                out.push(problem(
                    "invalid-report",
                    format!("{what}: 1–64 characters of A-Z a-z 0-9 . _ -"),
                ));
            }
        }
        if crate::ids::Uscc::parse(&self.enterprise).is_err() {
            out.push(problem(
                "invalid-uscc",
                format!(
                    "enterprise: {:?} is not a Unified Social Credit Code",
                    self.enterprise
                ),
            ));
        }
        if self.releases.is_empty() {
            out.push(problem(
                "invalid-report",
                "releases: cite the node's release entries under the grant that the report relied on",
            ));
        }
        if self.releases.len() > MAX_RELEASES {
            out.push(problem(
                "invalid-report",
                format!("releases: at most {MAX_RELEASES}"),
            ));
        }
        let mut sorted = self.releases.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != self.releases.len() {
            out.push(problem("invalid-report", "releases: an index is listed twice"));
        }
        match parse_day(self.event.on()) {
            None => out.push(problem(
                "invalid-date",
                format!("event.on: {:?} is not a YYYY-MM-DD date", self.event.on()),
            )),
            Some(d) if d > today => out.push(problem(
                "invalid-date",
                format!("event.on: {d} is after today ({today})"),
            )),
            Some(_) => {}
        }
        match &self.event {
            LoanEvent::Decision {
                decision: Decision::Approved,
                amount,
                term_months,
                rate_band,
                security,
                first_loan,
                ..
            } => {
                match amount {
                    Some(a) => amount_ok("event.amount", *a, &mut out),
                    None => out.push(problem(
                        "invalid-report",
                        "event.amount: an approval states the amount",
                    )),
                }
                match term_months {
                    Some(t) if (1..=MAX_TERM_MONTHS).contains(t) => {}
                    Some(t) => out.push(problem(
                        "invalid-report",
                        format!("event.termMonths: {t} is outside 1–{MAX_TERM_MONTHS}"),
                    )),
                    None => out.push(problem(
                        "invalid-report",
                        "event.termMonths: an approval states the term",
                    )),
                }
                for (name, missing) in [
                    ("rateBand", rate_band.is_none()),
                    ("security", security.is_none()),
                    ("firstLoan", first_loan.is_none()),
                ] {
                    if missing {
                        out.push(problem(
                            "invalid-report",
                            format!("event.{name}: an approval states it"),
                        ));
                    }
                }
            }
            LoanEvent::Decision {
                decision: Decision::Declined,
                amount,
                term_months,
                rate_band,
                security,
                first_loan,
                ..
            } => {
                if amount.is_some()
                    || term_months.is_some()
                    || rate_band.is_some()
                    || security.is_some()
                    || first_loan.is_some()
                {
                    out.push(problem(
                        "invalid-report",
                        "event: a declined application carries no loan terms",
                    ));
                }
            }
            LoanEvent::Disbursement { amount, .. } => amount_ok("event.amount", *amount, &mut out),
            LoanEvent::Cancellation { .. } => {}
            LoanEvent::Repayment {
                status,
                amount,
                overdue_days,
                ..
            } => {
                match (status, amount) {
                    (Repayment::OnTime, Some(a)) | (Repayment::Settled, Some(a)) => {
                        amount_ok("event.amount", *a, &mut out);
                    }
                    (Repayment::OnTime, None) => out.push(problem(
                        "invalid-report",
                        "event.amount: an on-time repayment states the amount",
                    )),
                    (Repayment::Overdue | Repayment::Default, Some(_)) => out.push(problem(
                        "invalid-report",
                        "event.amount: only on-time and settled repayments carry an amount",
                    )),
                    _ => {}
                }
                match (status, overdue_days) {
                    (Repayment::Overdue, Some(d)) if (1..=MAX_OVERDUE_DAYS).contains(d) => {}
                    (Repayment::Overdue, Some(d)) => out.push(problem(
                        "invalid-report",
                        format!("event.overdueDays: {d} is outside 1–{MAX_OVERDUE_DAYS}"),
                    )),
                    (Repayment::Overdue, None) => out.push(problem(
                        "invalid-report",
                        "event.overdueDays: an overdue event states the days",
                    )),
                    (_, Some(_)) => out.push(problem(
                        "invalid-report",
                        "event.overdueDays: only an overdue event carries it",
                    )),
                    _ => {}
                }
            }
        }
        out
    }
}

/// Where a loan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoanState {
    /// Approved, nothing paid out yet.
    Approved,
    /// Declined (final).
    Declined,
    /// Paid out, being repaid.
    Disbursed,
    /// An instalment is overdue.
    Overdue,
    /// Repaid in full (final).
    Settled,
    /// In default (final).
    Defaulted,
    /// Approved, then withdrawn before anything was paid out (final).
    Cancelled,
}

impl LoanState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Disbursed => "disbursed",
            Self::Overdue => "overdue",
            Self::Settled => "settled",
            Self::Defaulted => "defaulted",
            Self::Cancelled => "cancelled",
        }
    }

    /// The state a stored spelling names.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Approved,
            Self::Declined,
            Self::Disbursed,
            Self::Overdue,
            Self::Settled,
            Self::Defaulted,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Whether no further event may follow.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Declined | Self::Settled | Self::Defaulted | Self::Cancelled
        )
    }
}

/// A loan's figures as the node keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loan {
    /// Where it stands.
    pub state: LoanState,
    /// The approved amount (0 if declined).
    pub approved: i64,
    /// Paid out so far.
    pub disbursed: i64,
    /// Outstanding: paid out minus repaid.
    pub balance: i64,
    /// The day of its last event.
    pub last_on: Date,
}

/// What one event changes, for the statistics (`spec/loans.md` §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delta {
    /// Yuan paid out by this event.
    pub disbursed: i64,
    /// Yuan repaid by this event (a settlement repays the whole balance).
    pub repaid: i64,
    /// Yuan left outstanding by a default.
    pub defaulted: i64,
}

/// What loan events add up to, for the figures (`spec/loans.md` §4): the one definition the
/// rollups, the figures and the monthly bulletin all use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Decisions reported (applications).
    pub applications: i64,
    /// Approvals.
    pub approvals: i64,
    /// Yuan approved.
    pub approved_amount: i64,
    /// Approvals of credit loans (信用贷款).
    pub credit_approvals: i64,
    /// Yuan approved as credit loans.
    pub credit_amount: i64,
    /// Approvals that were the enterprise's first loan (首贷).
    pub first_loans: i64,
    /// Yuan paid out.
    pub disbursed: i64,
    /// Yuan repaid (a settlement repays the whole balance).
    pub repaid: i64,
    /// Overdue events.
    pub overdue_events: i64,
    /// Loans that went into default.
    pub defaults: i64,
    /// Yuan outstanding when loans defaulted.
    pub defaulted: i64,
}

impl Counts {
    /// What one accepted `event` adds, given what it changed (`delta`, from [`LoanState::after`]).
    pub fn of(event: &LoanEvent, delta: &Delta) -> Self {
        let mut c = Self::default();
        match event {
            LoanEvent::Decision {
                decision,
                amount,
                security,
                first_loan,
                ..
            } => {
                c.applications = 1;
                if *decision == Decision::Approved {
                    let a = amount.unwrap_or(0);
                    c.approvals = 1;
                    c.approved_amount = a;
                    if *security == Some(Security::Credit) {
                        c.credit_approvals = 1;
                        c.credit_amount = a;
                    }
                    c.first_loans = i64::from(*first_loan == Some(true));
                }
            }
            LoanEvent::Disbursement { .. } => c.disbursed = delta.disbursed,
            LoanEvent::Cancellation { .. } => {}
            LoanEvent::Repayment { status, .. } => {
                c.repaid = delta.repaid;
                match status {
                    Repayment::Overdue => c.overdue_events = 1,
                    Repayment::Default => {
                        c.defaults = 1;
                        c.defaulted = delta.defaulted;
                    }
                    Repayment::OnTime | Repayment::Settled => {}
                }
            }
        }
        c
    }

    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &Self) {
        self.applications += other.applications;
        self.approvals += other.approvals;
        self.approved_amount += other.approved_amount;
        self.credit_approvals += other.credit_approvals;
        self.credit_amount += other.credit_amount;
        self.first_loans += other.first_loans;
        self.disbursed += other.disbursed;
        self.repaid += other.repaid;
        self.overdue_events += other.overdue_events;
        self.defaults += other.defaults;
        self.defaulted += other.defaulted;
    }

    /// What these events leave outstanding: paid out minus repaid.
    pub fn outstanding(&self) -> i64 {
        self.disbursed - self.repaid
    }

    /// The credit-loan share of approved amounts in basis points (1/10,000), rounded half up;
    /// `None` when nothing was approved. Exact integer arithmetic, so every reader gets the same.
    pub fn credit_share_bp(&self) -> Option<i64> {
        (self.approved_amount > 0).then(|| {
            let bp = (i128::from(self.credit_amount) * 10_000 + i128::from(self.approved_amount) / 2)
                / i128::from(self.approved_amount);
            i64::try_from(bp).unwrap_or(i64::MAX)
        })
    }
}

fn out_of_order(m: impl Into<String>) -> Problem {
    problem("loan-event-out-of-order", m)
}

impl LoanState {
    /// The loan after `event`, given the loan so far (`None`: no event yet), with what it changed;
    /// or why the event cannot follow. `day` is the event's day, already checked.
    pub fn after(before: Option<&Loan>, event: &LoanEvent, day: Date) -> Result<(Loan, Delta), Problem> {
        let Some(l) = before else {
            return match event {
                LoanEvent::Decision { decision, amount, .. } => {
                    let approved = *decision == Decision::Approved;
                    Ok((
                        Loan {
                            state: if approved {
                                LoanState::Approved
                            } else {
                                LoanState::Declined
                            },
                            approved: if approved { amount.unwrap_or(0) } else { 0 },
                            disbursed: 0,
                            balance: 0,
                            last_on: day,
                        },
                        Delta::default(),
                    ))
                }
                _ => Err(out_of_order(
                    "the loan has no decision yet: report the approval first",
                )),
            };
        };
        if l.state.is_final() {
            return Err(out_of_order(format!(
                "the loan is {}: nothing may follow",
                l.state.as_str()
            )));
        }
        if day < l.last_on {
            return Err(out_of_order(format!(
                "event.on: {day} is before the loan's last event ({})",
                l.last_on
            )));
        }
        let mut next = Loan { last_on: day, ..*l };
        let mut delta = Delta::default();
        match event {
            LoanEvent::Decision { .. } => {
                return Err(out_of_order("the loan already has its decision"));
            }
            LoanEvent::Disbursement { amount, .. } => {
                if l.disbursed + amount > l.approved {
                    return Err(out_of_order(format!(
                        "disbursing {amount} yuan would pay out {} of the {} approved",
                        l.disbursed + amount,
                        l.approved
                    )));
                }
                next.disbursed += amount;
                next.balance += amount;
                if l.state == LoanState::Approved {
                    next.state = LoanState::Disbursed;
                }
                delta.disbursed = *amount;
            }
            LoanEvent::Cancellation { .. } => {
                if l.state != LoanState::Approved || l.disbursed > 0 {
                    return Err(out_of_order(
                        "only an approved loan with nothing paid out can be cancelled",
                    ));
                }
                next.state = LoanState::Cancelled;
            }
            LoanEvent::Repayment { status, amount, .. } => {
                if l.state == LoanState::Approved {
                    return Err(out_of_order(
                        "nothing has been paid out yet: report the disbursement first",
                    ));
                }
                let paid = amount.unwrap_or(0);
                if paid > l.balance {
                    return Err(out_of_order(format!(
                        "a repayment of {paid} yuan is more than the {} outstanding",
                        l.balance
                    )));
                }
                match status {
                    Repayment::OnTime => {
                        next.balance -= paid;
                        next.state = LoanState::Disbursed;
                        delta.repaid = paid;
                    }
                    Repayment::Overdue => next.state = LoanState::Overdue,
                    Repayment::Settled => {
                        delta.repaid = l.balance;
                        next.balance = 0;
                        next.state = LoanState::Settled;
                    }
                    Repayment::Default => {
                        delta.defaulted = l.balance;
                        next.state = LoanState::Defaulted;
                    }
                }
            }
        }
        Ok((next, delta))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn day(s: &str) -> Date {
        parse_day(s).unwrap()
    }

    fn report(event: serde_json::Value) -> LoanReport {
        serde_json::from_value(json!({
            "reportId": "r-1", "loan": "L-1", "enterprise": "91320100MA1MX3XA9M",
            "grant": "urn:uuid:00000000-0000-4000-8000-000000000000", "releases": [3], "event": event
        }))
        .unwrap()
    }

    fn approve(amount: i64) -> serde_json::Value {
        json!({"type": "decision", "decision": "approved", "amount": amount, "termMonths": 12,
               "rateBand": "3-4", "security": "credit", "firstLoan": true, "on": "2026-11-02"})
    }

    #[test]
    fn a_well_formed_approval_passes_and_round_trips() {
        let r = report(approve(500_000));
        let problems = r.check(day("2026-12-06"));
        assert!(problems.is_empty(), "{problems:?}");
        let back: LoanReport = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert_eq!(r.event.outcome(), "loan-approved");
    }

    #[test]
    fn unknown_members_and_unknown_words_are_refused_by_the_parser() {
        let mut v = approve(1);
        v["rateBand"] = json!("cheap");
        assert!(serde_json::from_value::<LoanEvent>(v).is_err());
        let mut v = approve(1);
        v["type"] = json!("gift");
        assert!(serde_json::from_value::<LoanEvent>(v).is_err());
        let r = json!({"reportId": "a", "loan": "b", "enterprise": "x", "grant": "g", "releases": [], "event": approve(1), "extra": 1});
        assert!(serde_json::from_value::<LoanReport>(r).is_err());
        // Inside the event too: a misspelt member is refused, not dropped.
        let mut v = approve(1);
        v["termMonth"] = json!(12);
        assert!(serde_json::from_value::<LoanEvent>(v).is_err());
        assert!(serde_json::from_value::<LoanEvent>(approve(1)).is_ok());
    }

    #[test]
    fn bad_amounts_dates_and_ids_are_each_named() {
        let codes = |r: &LoanReport| -> Vec<&'static str> {
            r.check(day("2026-12-06")).into_iter().map(|p| p.code).collect()
        };
        assert!(codes(&report(approve(-5))).contains(&"invalid-amount"));
        assert!(codes(&report(approve(0))).contains(&"invalid-amount"));
        assert!(codes(&report(approve(MAX_AMOUNT_YUAN + 1))).contains(&"invalid-amount"));
        let mut v = approve(10);
        v["on"] = json!("2026-12-07");
        assert!(codes(&report(v)).contains(&"invalid-date"));
        let mut v = approve(10);
        v["on"] = json!("2026-02-30");
        assert!(codes(&report(v)).contains(&"invalid-date"));
        let mut r = report(approve(10));
        r.report_id = "has space".into();
        r.releases = vec![];
        let c = codes(&r);
        assert_eq!(c, ["invalid-report", "invalid-report"], "{c:?}");
        let r = report(json!({"type": "decision", "decision": "declined", "amount": 5, "on": "2026-11-02"}));
        assert!(codes(&r).contains(&"invalid-report"));
        let r = report(json!({"type": "repayment", "status": "overdue", "on": "2026-11-02"}));
        assert!(codes(&r).contains(&"invalid-report"));
        let r = report(
            json!({"type": "repayment", "status": "on-time", "amount": 5, "overdueDays": 3, "on": "2026-11-02"}),
        );
        assert!(codes(&r).contains(&"invalid-report"));
    }

    #[test]
    fn the_state_machine_follows_a_loan_and_refuses_what_is_out_of_order() {
        let ev = |v: serde_json::Value| serde_json::from_value::<LoanEvent>(v).unwrap();
        let d = day("2026-11-02");
        // Nothing before a decision.
        let pay = ev(json!({"type": "disbursement", "amount": 100, "on": "2026-11-03"}));
        assert_eq!(
            LoanState::after(None, &pay, d).unwrap_err().code,
            "loan-event-out-of-order"
        );
        let (l, _) = LoanState::after(None, &ev(approve(1000)), d).unwrap();
        assert_eq!((l.state, l.approved, l.balance), (LoanState::Approved, 1000, 0));
        // A repayment before any disbursement, a second decision, an earlier date: refused.
        let repay = ev(json!({"type": "repayment", "status": "on-time", "amount": 10, "on": "2026-11-04"}));
        assert!(LoanState::after(Some(&l), &repay, day("2026-11-04")).is_err());
        assert!(LoanState::after(Some(&l), &ev(approve(5)), d).is_err());
        assert!(LoanState::after(Some(&l), &pay, day("2026-11-01")).is_err());
        let (l, delta) = LoanState::after(Some(&l), &pay, day("2026-11-03")).unwrap();
        assert_eq!(
            (l.state, l.balance, delta.disbursed),
            (LoanState::Disbursed, 100, 100)
        );
        // Beyond the approved amount.
        let big = ev(json!({"type": "disbursement", "amount": 901, "on": "2026-11-03"}));
        assert!(LoanState::after(Some(&l), &big, day("2026-11-03")).is_err());
        let (l, delta) = LoanState::after(Some(&l), &repay, day("2026-11-04")).unwrap();
        assert_eq!((l.balance, delta.repaid), (90, 10));
        let late =
            ev(json!({"type": "repayment", "status": "overdue", "overdueDays": 5, "on": "2026-11-20"}));
        let (l, _) = LoanState::after(Some(&l), &late, day("2026-11-20")).unwrap();
        assert_eq!(l.state, LoanState::Overdue);
        let settle = ev(json!({"type": "repayment", "status": "settled", "on": "2026-11-30"}));
        let (l, delta) = LoanState::after(Some(&l), &settle, day("2026-11-30")).unwrap();
        assert_eq!((l.state, l.balance, delta.repaid), (LoanState::Settled, 0, 90));
        // Nothing after the end.
        assert!(LoanState::after(Some(&l), &repay, day("2026-12-01")).is_err());
        // An approval never drawn can be cancelled; nothing follows; a drawn loan cannot be.
        let (fresh, _) = LoanState::after(None, &ev(approve(1000)), d).unwrap();
        let cancel = ev(json!({"type": "cancellation", "on": "2026-11-05"}));
        let (c, _) = LoanState::after(Some(&fresh), &cancel, day("2026-11-05")).unwrap();
        assert_eq!((c.state, c.balance), (LoanState::Cancelled, 0));
        assert!(LoanState::after(Some(&c), &pay, day("2026-11-06")).is_err());
        let (drawn, _) = LoanState::after(Some(&fresh), &pay, day("2026-11-05")).unwrap();
        assert!(LoanState::after(Some(&drawn), &cancel, day("2026-11-05")).is_err());
        for s in [
            "approved",
            "declined",
            "disbursed",
            "overdue",
            "settled",
            "defaulted",
            "cancelled",
        ] {
            assert_eq!(LoanState::parse(s).unwrap().as_str(), s);
        }
        assert!(LoanState::parse("Approved").is_none());
    }
}
