-- Industries (GB/T 4754, spec/industries.md): each enterprise's industry as given at registration
-- or by a providing department's import, subscriptions by industry, and the industry section as a
-- dimension of the loan rollups (spec/loans.md §4, §8, §9). `unclassified` is "not classified".
CREATE TABLE enterprise_industries (
    uscc       TEXT PRIMARY KEY,
    industry   TEXT NOT NULL,
    source     TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

ALTER TABLE feed_subscriptions ADD COLUMN industries TEXT NOT NULL DEFAULT '';
ALTER TABLE loans ADD COLUMN industry TEXT NOT NULL DEFAULT 'unclassified';

-- The rollups gain the borrower's industry section in their key (a new table: SQLite cannot alter
-- a primary key). Rows kept so far are unclassified.
CREATE TABLE stats_loans_new (
    month            TEXT NOT NULL,
    region           TEXT NOT NULL,
    platform         TEXT NOT NULL,
    bank             TEXT NOT NULL,
    applications     BIGINT NOT NULL,
    approvals        BIGINT NOT NULL,
    approved_amount  BIGINT NOT NULL,
    credit_approvals BIGINT NOT NULL,
    credit_amount    BIGINT NOT NULL,
    first_loans      BIGINT NOT NULL,
    disbursed        BIGINT NOT NULL,
    repaid           BIGINT NOT NULL,
    overdue_events   BIGINT NOT NULL,
    defaults         BIGINT NOT NULL,
    defaulted        BIGINT NOT NULL,
    industry         TEXT NOT NULL DEFAULT 'unclassified',
    PRIMARY KEY (month, region, industry, platform, bank)
);
INSERT INTO stats_loans_new (month, region, platform, bank, applications, approvals, approved_amount,
    credit_approvals, credit_amount, first_loans, disbursed, repaid, overdue_events, defaults, defaulted, industry)
SELECT month, region, platform, bank, applications, approvals, approved_amount, credit_approvals,
    credit_amount, first_loans, disbursed, repaid, overdue_events, defaults, defaulted, 'unclassified'
FROM stats_loans;
DROP TABLE stats_loans;
ALTER TABLE stats_loans_new RENAME TO stats_loans;
