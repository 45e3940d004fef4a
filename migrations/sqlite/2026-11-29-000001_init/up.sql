-- Participants: the node itself, financing platforms, banks (registered by their platform),
-- regulators and enterprises. A participant is named by (uscc, role).
CREATE TABLE participants (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    uscc            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('node', 'platform', 'bank', 'regulator', 'enterprise')),
    name            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'active', 'suspended', 'removed', 'rejected')),
    platform_uscc   TEXT,
    endpoint        TEXT,
    evidence        TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (uscc, role)
);

-- Every key a participant has held, with the interval it was valid in (key rotation keeps them all).
CREATE TABLE participant_keys (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    participant_id  BIGINT NOT NULL REFERENCES participants (id),
    did             TEXT NOT NULL UNIQUE,
    valid_from      BIGINT NOT NULL,
    valid_until     BIGINT
);
CREATE INDEX participant_keys_participant ON participant_keys (participant_id);

-- Credentials the node issued (enterprise identity credentials).
CREATE TABLE issued_credentials (
    id              TEXT PRIMARY KEY,
    participant_id  BIGINT NOT NULL REFERENCES participants (id),
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    issued_at       BIGINT NOT NULL
);

-- Agents (经办人) an enterprise lets sign on its behalf, by a delegation signed with its key.
CREATE TABLE delegations (
    id              TEXT PRIMARY KEY,
    enterprise_id   BIGINT NOT NULL REFERENCES participants (id),
    agent_did       TEXT NOT NULL,
    agent_name      TEXT NOT NULL,
    scope           TEXT NOT NULL,
    body            TEXT NOT NULL,
    valid_from      BIGINT NOT NULL,
    valid_until     BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX delegations_agent ON delegations (agent_did);

-- Grants as submitted: the exact signed bytes, and what the node needs to find and judge them.
CREATE TABLE grants (
    id              TEXT PRIMARY KEY,
    sha256          TEXT NOT NULL,
    body            BLOB NOT NULL,
    envelope        TEXT NOT NULL,
    enterprise_uscc TEXT NOT NULL,
    grantee_uscc    TEXT NOT NULL,
    signer_did      TEXT NOT NULL,
    delegation_id   TEXT,
    status_list     BIGINT NOT NULL,
    status_index    BIGINT NOT NULL,
    valid_from      BIGINT NOT NULL,
    valid_until     BIGINT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'revoked')),
    submitted_at    BIGINT NOT NULL,
    submitted_seq   BIGINT NOT NULL,
    UNIQUE (status_list, status_index)
);
CREATE INDEX grants_enterprise ON grants (enterprise_uscc);
CREATE INDEX grants_grantee ON grants (grantee_uscc);

-- Everyone a grant names, for "grants naming X" (cascades, a bank's view).
CREATE TABLE grant_parties (
    grant_id        TEXT NOT NULL REFERENCES grants (id),
    uscc            TEXT NOT NULL,
    role            TEXT NOT NULL,
    PRIMARY KEY (grant_id, uscc)
);
CREATE INDEX grant_parties_uscc ON grant_parties (uscc);

-- Revocations, suspensions and resumptions, with the signed request kept as evidence.
CREATE TABLE grant_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    grant_id        TEXT NOT NULL REFERENCES grants (id),
    action          TEXT NOT NULL CHECK (action IN ('revoke', 'suspend', 'resume')),
    actor           TEXT NOT NULL,
    evidence        TEXT NOT NULL,
    at              BIGINT NOT NULL,
    log_seq         BIGINT NOT NULL
);
CREATE INDEX grant_events_grant ON grant_events (grant_id);

-- Releases counted per grant and rate period.
CREATE TABLE grant_usage (
    grant_id        TEXT NOT NULL,
    period          TEXT NOT NULL,
    used            BIGINT NOT NULL,
    PRIMARY KEY (grant_id, period)
);

-- Bitstring status lists (one row per list and purpose) and their slots.
CREATE TABLE status_lists (
    list_no         BIGINT NOT NULL,
    purpose         TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    bits            BLOB NOT NULL,
    version         BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (list_no, purpose)
);
CREATE TABLE status_slots (
    list_no         BIGINT NOT NULL,
    idx             BIGINT NOT NULL,
    enterprise_uscc TEXT NOT NULL,
    grant_id        TEXT,
    allocated_at    BIGINT NOT NULL,
    PRIMARY KEY (list_no, idx)
);

-- Client-assertion ids seen, so none is accepted twice (kept until they expire).
CREATE TABLE seen_jti (
    jti             TEXT PRIMARY KEY,
    issuer          TEXT NOT NULL,
    expires_at      BIGINT NOT NULL
);

-- Authorization-letter versions published at run time (the built-in ones come with the catalog).
CREATE TABLE letters (
    id              TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    version         BIGINT NOT NULL,
    body            TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    published_at    BIGINT NOT NULL
);

-- The data the node holds (DataSource), imported from the providing departments.
CREATE TABLE data_records (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    uscc            TEXT NOT NULL,
    category        TEXT NOT NULL,
    record_date     TEXT NOT NULL,
    body            TEXT NOT NULL,
    provider        TEXT NOT NULL,
    imported_at     BIGINT NOT NULL
);
CREATE INDEX data_records_lookup ON data_records (uscc, category, record_date);

-- The access log: one row of state, the leaves (with columns to query by), the erasable salted
-- records, the Merkle tree's complete-subtree hashes, and the per-grant / per-subject chain heads.
CREATE TABLE log_state (
    id              SMALLINT PRIMARY KEY CHECK (id = 1),
    size            BIGINT NOT NULL,
    frontier        BLOB NOT NULL,
    last_time       BIGINT NOT NULL
);
CREATE TABLE log_leaves (
    seq             BIGINT PRIMARY KEY,
    leaf            BLOB NOT NULL,
    kind            SMALLINT NOT NULL,
    time            BIGINT NOT NULL,
    enterprise_uscc TEXT,
    grant_id        TEXT,
    caller_uscc     TEXT,
    platform_uscc   TEXT,
    bank_uscc       TEXT,
    categories      TEXT,
    decision        TEXT
);
CREATE INDEX log_leaves_enterprise ON log_leaves (enterprise_uscc, seq);
CREATE INDEX log_leaves_grant ON log_leaves (grant_id, seq);
CREATE INDEX log_leaves_platform ON log_leaves (platform_uscc, seq);
CREATE INDEX log_leaves_bank ON log_leaves (bank_uscc, seq);
CREATE INDEX log_leaves_time ON log_leaves (time);
CREATE TABLE log_records (
    seq             BIGINT PRIMARY KEY,
    salt            BLOB,
    record          TEXT
);
CREATE TABLE log_nodes (
    level           SMALLINT NOT NULL,
    idx             BIGINT NOT NULL,
    hash            BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE log_heads (
    chain           BLOB PRIMARY KEY,
    seq             BIGINT NOT NULL
);
CREATE TABLE checkpoints (
    size            BIGINT PRIMARY KEY,
    note            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

-- Settings shared by every process on this database (the node's DID, the log origin).
CREATE TABLE settings (
    name            TEXT PRIMARY KEY,
    value           TEXT NOT NULL
);

INSERT INTO log_state (id, size, frontier, last_time) VALUES (1, 0, X'', 0);

-- Notices for participants (for example: a grant suspended because its platform was removed).
CREATE TABLE notices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    uscc            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX notices_uscc ON notices (uscc, id);

-- Portal sessions: only the SHA-256 of the cookie's token is stored.
CREATE TABLE portal_sessions (
    token_sha256    TEXT PRIMARY KEY,
    participant_id  BIGINT NOT NULL REFERENCES participants (id),
    did             TEXT NOT NULL,
    csrf            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    ended_at        BIGINT
);

-- Objections (异议申诉, spec/objections.md): one row per objection, its signed steps, and the data
-- corrections it caused.
CREATE TABLE objections (
    id              TEXT PRIMARY KEY,
    enterprise_uscc TEXT NOT NULL,
    target_kind     TEXT NOT NULL CHECK (target_kind IN ('data', 'access')),
    target_ref      TEXT NOT NULL,
    reason          TEXT NOT NULL,
    attachments     TEXT NOT NULL,
    filing          TEXT NOT NULL,
    filing_sha256   TEXT NOT NULL UNIQUE,
    received_by     TEXT NOT NULL,
    received_role   TEXT NOT NULL CHECK (received_role IN ('node', 'platform')),
    filed_at        BIGINT NOT NULL,
    received_at     BIGINT NOT NULL,
    deadline_at     BIGINT,
    forwarded_at    BIGINT,
    state           TEXT NOT NULL CHECK (state IN ('received', 'forwarded', 'under-review', 'corrected', 'rejected')),
    overdue_flagged_at BIGINT,
    calendar_flagged_at BIGINT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX objections_enterprise ON objections (enterprise_uscc, received_at);
CREATE INDEX objections_state ON objections (state, deadline_at);
CREATE INDEX objections_receiver ON objections (received_by, state);
CREATE TABLE objection_steps (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    objection_id    TEXT NOT NULL REFERENCES objections (id),
    step            TEXT NOT NULL CHECK (step IN ('received', 'forwarded', 'under-review', 'corrected', 'rejected')),
    actor_uscc      TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    actor_did       TEXT NOT NULL,
    statement       TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    prev_sha256     TEXT,
    at              BIGINT NOT NULL,
    log_seq         BIGINT NOT NULL
);
CREATE INDEX objection_steps_objection ON objection_steps (objection_id, id);
CREATE TABLE data_corrections (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id       BIGINT NOT NULL,
    objection_id    TEXT NOT NULL REFERENCES objections (id),
    old_body        TEXT NOT NULL,
    new_body        TEXT NOT NULL,
    at              BIGINT NOT NULL,
    log_seq         BIGINT NOT NULL
);
CREATE INDEX data_corrections_record ON data_corrections (record_id);

-- Monitoring statistics (spec/statistics.md): rollups kept in the same transactions as the rows they
-- count, so that no figure scans the access log or the grants table. `day` is the China Standard Time
-- (UTC+8) day number: floor((ms + 28800000) / 86400000). '' stands for "none" in platform and bank.
CREATE TABLE stats_access (
    day             BIGINT NOT NULL,
    kind            SMALLINT NOT NULL,
    platform        TEXT NOT NULL,
    bank            TEXT NOT NULL,
    entries         BIGINT NOT NULL,
    PRIMARY KEY (day, kind, platform, bank)
);
CREATE INDEX stats_access_platform ON stats_access (platform, day);
CREATE INDEX stats_access_bank ON stats_access (bank, day);
CREATE TABLE stats_access_category (
    day             BIGINT NOT NULL,
    kind            SMALLINT NOT NULL,
    platform        TEXT NOT NULL,
    bank            TEXT NOT NULL,
    category        TEXT NOT NULL,
    entries         BIGINT NOT NULL,
    PRIMARY KEY (day, kind, platform, bank, category)
);
CREATE INDEX stats_access_category_platform ON stats_access_category (platform, day);
CREATE INDEX stats_access_category_bank ON stats_access_category (bank, day);
CREATE TABLE stats_grants (
    state           TEXT NOT NULL,
    until_day       BIGINT NOT NULL,
    grants          BIGINT NOT NULL,
    PRIMARY KEY (state, until_day)
);
CREATE INDEX grants_valid_until ON grants (valid_until, state);
CREATE TABLE stats_participants (
    role            TEXT NOT NULL,
    state           TEXT NOT NULL,
    participants    BIGINT NOT NULL,
    PRIMARY KEY (role, state)
);

-- Notifications (spec/notifications.md): participants' webhook endpoints and the durable outbox of
-- signed deliveries, one row per event and endpoint, delivered strictly in `seq` order per endpoint.
-- An endpoint's `next_attempt_at` is when its oldest pending delivery is due (NULL: nothing pending);
-- `lease_owner`/`lease_until` name the node process delivering to it (several may share the database).
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id       TEXT NOT NULL UNIQUE,
    owner_uscc      TEXT NOT NULL,
    owner_role      TEXT NOT NULL,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    description     TEXT,
    state           TEXT NOT NULL CHECK (state IN ('active', 'deleted')),
    next_seq        BIGINT NOT NULL,
    next_attempt_at BIGINT,
    lease_owner     TEXT,
    lease_until     BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner_uscc, state);
CREATE INDEX webhook_endpoints_due ON webhook_endpoints (next_attempt_at);
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     BIGINT NOT NULL REFERENCES webhook_endpoints (id),
    seq             BIGINT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'cancelled')),
    attempts        BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_attempt_at BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    delivered_at    BIGINT,
    UNIQUE (endpoint_id, seq)
);
CREATE INDEX webhook_outbox_endpoint ON webhook_outbox (endpoint_id, state, seq);
