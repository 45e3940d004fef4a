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

-- Departments go with their role (lossy).
DELETE FROM portal_sessions WHERE participant_id IN (SELECT id FROM participants WHERE role = 'department');
DELETE FROM issued_credentials WHERE participant_id IN (SELECT id FROM participants WHERE role = 'department');
DELETE FROM participant_keys WHERE participant_id IN (SELECT id FROM participants WHERE role = 'department');
DELETE FROM participants WHERE role = 'department';
ALTER TABLE participants DROP CONSTRAINT participants_role_check;
ALTER TABLE participants ADD CONSTRAINT participants_role_check CHECK (role IN ('node', 'platform', 'bank', 'regulator', 'enterprise'));
