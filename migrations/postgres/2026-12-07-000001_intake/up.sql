-- Signed data intake (spec/intake.md): providing departments bound to their catalog provider, the
-- batches they sign, and on every record its content id, its batch and its version. Records held
-- before this migration keep a null content id and batch (their content id is computed when a batch
-- touches their key, spec/intake.md §5); they are version 1 and current.
-- Participants gain the role `department` (a providing department, spec/intake.md §2).
ALTER TABLE participants DROP CONSTRAINT participants_role_check;
ALTER TABLE participants ADD CONSTRAINT participants_role_check CHECK (role IN ('node', 'platform', 'bank', 'regulator', 'enterprise', 'department'));

CREATE TABLE department_providers (
    participant_id  BIGINT PRIMARY KEY,
    provider        TEXT NOT NULL
);

CREATE TABLE intake_batches (
    id              BIGSERIAL PRIMARY KEY,
    batch_id        TEXT NOT NULL UNIQUE,
    provider        TEXT NOT NULL,
    submitter_uscc  TEXT NOT NULL,
    submitter_role  TEXT NOT NULL,
    signer_did      TEXT NOT NULL,
    reference       TEXT,
    records         BIGINT NOT NULL,
    new_records     BIGINT NOT NULL,
    new_versions    BIGINT NOT NULL,
    already_held    BIGINT NOT NULL,
    evidence        TEXT NOT NULL,
    log_index       BIGINT NOT NULL,
    received_at     BIGINT NOT NULL
);
CREATE INDEX intake_batches_submitter ON intake_batches (submitter_uscc, id);

ALTER TABLE data_records ADD COLUMN content_id TEXT;
ALTER TABLE data_records ADD COLUMN batch_id TEXT;
ALTER TABLE data_records ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE data_records ADD COLUMN superseded_by TEXT;
ALTER TABLE data_records ADD COLUMN superseded_at BIGINT;
CREATE INDEX data_records_batch ON data_records (batch_id);
