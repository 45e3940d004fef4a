-- Lossy by design: batches, department bindings and superseded versions are dropped (the rows of
-- every version stay, as plain records, as before the migration).
DROP INDEX data_records_batch;
ALTER TABLE data_records DROP COLUMN superseded_at;
ALTER TABLE data_records DROP COLUMN superseded_by;
ALTER TABLE data_records DROP COLUMN version;
ALTER TABLE data_records DROP COLUMN batch_id;
ALTER TABLE data_records DROP COLUMN content_id;
DROP INDEX intake_batches_submitter;
DROP TABLE intake_batches;
DROP TABLE department_providers;

-- Departments go with their role (lossy), then the table is rebuilt with the old CHECK.
PRAGMA defer_foreign_keys = ON;
DELETE FROM portal_sessions WHERE participant_id IN (SELECT id FROM participants WHERE role = 'department');
DELETE FROM issued_credentials WHERE participant_id IN (SELECT id FROM participants WHERE role = 'department');
DELETE FROM participant_keys WHERE participant_id IN (SELECT id FROM participants WHERE role = 'department');
DELETE FROM participants WHERE role = 'department';
CREATE TABLE participants_old (
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
INSERT INTO participants_old (id, uscc, role, name, state, platform_uscc, endpoint, evidence, created_at, updated_at)
SELECT id, uscc, role, name, state, platform_uscc, endpoint, evidence, created_at, updated_at FROM participants;
DROP TABLE participants;
ALTER TABLE participants_old RENAME TO participants;
CREATE UNIQUE INDEX participants_one_per_uscc ON participants (uscc);
