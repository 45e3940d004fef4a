DROP TABLE risk_cursor;
DROP TABLE risk_alerts;
DROP TABLE bulletins;
DROP TABLE stats_loans;
DROP TABLE loan_reports;
DROP TABLE loans;
