DROP TABLE bulletins;
DROP TABLE stats_loans;
DROP TABLE loan_reports;
DROP TABLE loans;
