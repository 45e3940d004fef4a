-- Loan outcomes banks report back through their platforms (spec/loans.md): one row per loan (the
-- bank's reference), one row per accepted report (the signed request kept as evidence, with the
-- log entry that recorded it), and the monthly rollups the statistics read (spec/loans.md §4),
-- all written in the transaction that appends the report's log entry.
CREATE TABLE loans (
    id              BIGSERIAL PRIMARY KEY,
    bank_uscc       TEXT NOT NULL,
    loan_ref        TEXT NOT NULL,
    enterprise_uscc TEXT NOT NULL,
    platform_uscc   TEXT NOT NULL,
    region          TEXT NOT NULL,
    state           TEXT NOT NULL,
    approved_amount BIGINT NOT NULL,
    disbursed       BIGINT NOT NULL,
    balance         BIGINT NOT NULL,
    term_months     BIGINT,
    rate_band       TEXT,
    security        TEXT,
    first_loan      BOOLEAN,
    last_on         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (bank_uscc, loan_ref)
);
CREATE INDEX loans_enterprise ON loans (enterprise_uscc);

CREATE TABLE loan_reports (
    id              BIGSERIAL PRIMARY KEY,
    bank_uscc       TEXT NOT NULL,
    report_id       TEXT NOT NULL,
    loan_id         BIGINT NOT NULL REFERENCES loans (id),
    outcome         TEXT NOT NULL,
    event_on        TEXT NOT NULL,
    report          TEXT NOT NULL,
    evidence        TEXT NOT NULL,
    log_index       BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (bank_uscc, report_id)
);
CREATE INDEX loan_reports_loan ON loan_reports (loan_id, id);

-- Per month of the event (China Standard Time, YYYY-MM), 设区市 of the enterprise, platform, bank.
CREATE TABLE stats_loans (
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

-- The monthly bulletins (spec/loans.md §6): one per month, its JCS bytes as signed, the node's
-- Ed25519 signature over them, and the CSV of the same figures.
CREATE TABLE bulletins (
    month        TEXT PRIMARY KEY,
    log_size     BIGINT NOT NULL,
    content      TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    signature    TEXT NOT NULL,
    signer       TEXT NOT NULL,
    csv          TEXT NOT NULL,
    generated_at BIGINT NOT NULL
);

-- Post-loan risk alerts (spec/loans.md §7): one row per (new record, bank, platform, rule), sent under a live
-- post-loan-management grant or refused because the grant no longer holds; the log entry recorded it.
CREATE TABLE risk_alerts (
    id              BIGSERIAL PRIMARY KEY,
    public_id       TEXT NOT NULL UNIQUE,
    enterprise_uscc TEXT NOT NULL,
    bank_uscc       TEXT NOT NULL,
    platform_uscc   TEXT NOT NULL,
    grant_id        TEXT NOT NULL,
    record_id       BIGINT NOT NULL,
    rule            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    category        TEXT NOT NULL,
    record_date     TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    body            TEXT NOT NULL,
    log_index       BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (record_id, bank_uscc, platform_uscc, rule)
);
CREATE INDEX risk_alerts_bank ON risk_alerts (bank_uscc, id);
CREATE INDEX risk_alerts_enterprise ON risk_alerts (enterprise_uscc, id);
-- How far each reader of new data records (the risk sweep, the public push) has read them.
CREATE TABLE record_cursors (
    reader      TEXT PRIMARY KEY,
    last_record BIGINT NOT NULL
);

-- Batch push of public information (spec/loans.md §9): banks' subscriptions by region and public
-- category, and the batches pushed (each enterprise in a batch has its own release entry).
CREATE TABLE feed_subscriptions (
    id          BIGSERIAL PRIMARY KEY,
    public_id   TEXT NOT NULL UNIQUE,
    bank_uscc   TEXT NOT NULL,
    regions     TEXT NOT NULL,
    categories  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);
CREATE INDEX feed_subscriptions_bank ON feed_subscriptions (bank_uscc);

CREATE TABLE feed_batches (
    id              BIGSERIAL PRIMARY KEY,
    public_id       TEXT NOT NULL UNIQUE,
    bank_uscc       TEXT NOT NULL,
    subscription_id BIGINT NOT NULL REFERENCES feed_subscriptions (id),
    enterprises     BIGINT NOT NULL,
    records         BIGINT NOT NULL,
    first_index     BIGINT NOT NULL,
    last_index      BIGINT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX feed_batches_bank ON feed_batches (bank_uscc, id);

-- The 设区市 a platform declares it covers (spec/loans.md §8), set when it is admitted.
CREATE TABLE platform_regions (
    platform_uscc TEXT NOT NULL,
    region        TEXT NOT NULL,
    PRIMARY KEY (platform_uscc, region)
);

-- Which records each subscription was pushed (written in the batch's transaction): a record is
-- pushed to a subscription once, whichever process or round gets to it.
CREATE TABLE feed_pushed (
    subscription_id BIGINT NOT NULL,
    record_id       BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, record_id)
);
