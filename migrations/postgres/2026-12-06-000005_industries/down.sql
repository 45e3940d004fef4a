-- Lossy by design: the industries stated by registrations and imports, and the loans' industry
-- sections, are dropped with their tables and columns (rollups are summed back over industry).
-- Back to rollups without industry: the industries of a key are added up.
CREATE TABLE stats_loans_old AS
SELECT month, region, platform, bank, SUM(applications)::BIGINT AS applications,
    SUM(approvals)::BIGINT AS approvals, SUM(approved_amount)::BIGINT AS approved_amount,
    SUM(credit_approvals)::BIGINT AS credit_approvals, SUM(credit_amount)::BIGINT AS credit_amount,
    SUM(first_loans)::BIGINT AS first_loans, SUM(disbursed)::BIGINT AS disbursed,
    SUM(repaid)::BIGINT AS repaid, SUM(overdue_events)::BIGINT AS overdue_events,
    SUM(defaults)::BIGINT AS defaults, SUM(defaulted)::BIGINT AS defaulted
FROM stats_loans GROUP BY month, region, platform, bank;
DROP TABLE stats_loans;
ALTER TABLE stats_loans_old RENAME TO stats_loans;
ALTER TABLE stats_loans ALTER COLUMN month SET NOT NULL, ALTER COLUMN region SET NOT NULL,
    ALTER COLUMN platform SET NOT NULL, ALTER COLUMN bank SET NOT NULL,
    ALTER COLUMN applications SET NOT NULL, ALTER COLUMN approvals SET NOT NULL,
    ALTER COLUMN approved_amount SET NOT NULL, ALTER COLUMN credit_approvals SET NOT NULL,
    ALTER COLUMN credit_amount SET NOT NULL, ALTER COLUMN first_loans SET NOT NULL,
    ALTER COLUMN disbursed SET NOT NULL, ALTER COLUMN repaid SET NOT NULL,
    ALTER COLUMN overdue_events SET NOT NULL, ALTER COLUMN defaults SET NOT NULL,
    ALTER COLUMN defaulted SET NOT NULL;
ALTER TABLE stats_loans ADD PRIMARY KEY (month, region, platform, bank);

ALTER TABLE loans DROP COLUMN industry;
ALTER TABLE feed_subscriptions DROP COLUMN industries;
DROP TABLE enterprise_industries;
