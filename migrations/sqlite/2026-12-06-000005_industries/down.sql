-- Lossy by design: the industries stated by registrations and imports, and the loans' industry
-- sections, are dropped with their tables and columns (rollups are summed back over industry).
-- Back to rollups without industry: the industries of a key are added up.
CREATE TABLE stats_loans_old (
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
    PRIMARY KEY (month, region, platform, bank)
);
INSERT INTO stats_loans_old
SELECT month, region, platform, bank, SUM(applications), SUM(approvals), SUM(approved_amount),
    SUM(credit_approvals), SUM(credit_amount), SUM(first_loans), SUM(disbursed), SUM(repaid),
    SUM(overdue_events), SUM(defaults), SUM(defaulted)
FROM stats_loans GROUP BY month, region, platform, bank;
DROP TABLE stats_loans;
ALTER TABLE stats_loans_old RENAME TO stats_loans;

ALTER TABLE loans DROP COLUMN industry;
ALTER TABLE feed_subscriptions DROP COLUMN industries;
DROP TABLE enterprise_industries;
