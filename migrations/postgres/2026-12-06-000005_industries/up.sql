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

-- The rollups gain the borrower's industry section in their key. Rows kept so far are unclassified.
ALTER TABLE stats_loans ADD COLUMN industry TEXT NOT NULL DEFAULT 'unclassified';
ALTER TABLE stats_loans DROP CONSTRAINT stats_loans_pkey;
ALTER TABLE stats_loans ADD PRIMARY KEY (month, region, industry, platform, bank);
