//! Loan reports (spec/loans.md §2: the `report` claim a bank signs) and risk-rule files
//! (spec/loans.md §7), both read from outside: either refused with an error, or they hold their
//! rules; never a panic. A report that parses and passes its checks replays through the state
//! machine without breaking its invariants (balance never negative, never above what was paid out).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(report) = serde_json::from_str::<consentry::loan::LoanReport>(text) {
        let today = consentry::loan::parse_day("2026-12-06").unwrap_or(time::Date::MIN);
        if report.check(today).is_empty() {
            let day = consentry::loan::parse_day(report.event.on()).unwrap_or(today);
            assert!(day <= today);
            let first = consentry::loan::LoanState::after(None, &report.event, day);
            if let Ok((loan, delta)) = first {
                assert!(loan.balance >= 0 && loan.balance <= loan.disbursed);
                let c = consentry::loan::Counts::of(&report.event, &delta);
                assert!(c.approved_amount <= consentry::loan::MAX_AMOUNT_YUAN);
                // The same event again never leaves a negative balance either.
                if let Ok((again, _)) = consentry::loan::LoanState::after(Some(&loan), &report.event, day) {
                    assert!(again.balance >= 0 && again.balance <= again.disbursed);
                }
            }
        }
    }
    if let Ok(rules) = consentry::risk::Rules::from_json(text) {
        // Whatever the rules, a hit never carries a field value.
        let fields = serde_json::json!({"status": "listed", "arrearsBalance": 987654.25});
        for r in &rules.rules {
            for h in rules.hits(&r.category, "2026-12-06", &fields) {
                let t = serde_json::to_string(&h).unwrap_or_default();
                assert!(!t.contains("987654"));
            }
        }
    }
});
