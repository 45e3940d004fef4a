-- Regulators' grant search (GET /v1/grants filters and cursor paging, spec/openapi.yaml listGrants;
-- storage::grants::search). Each filter is served by an index listing its grants in log order:
-- the parties a grant names and the categories it covers carry the log index of its submission.
-- Grants stored before this migration get their categories when the node next starts
-- (node::grants::backfill_categories, from the stored signed bytes).
CREATE TABLE grant_categories (
    grant_id        TEXT NOT NULL REFERENCES grants (id),
    category        TEXT NOT NULL,
    submitted_seq   BIGINT NOT NULL,
    PRIMARY KEY (grant_id, category)
);
CREATE INDEX grant_categories_category ON grant_categories (category, submitted_seq);

ALTER TABLE grant_parties ADD COLUMN submitted_seq BIGINT NOT NULL DEFAULT 0;
UPDATE grant_parties SET submitted_seq = (SELECT g.submitted_seq FROM grants g WHERE g.id = grant_parties.grant_id);
CREATE INDEX grant_parties_uscc_role ON grant_parties (uscc, role, submitted_seq);
DROP INDEX grant_parties_uscc;

DROP INDEX grants_enterprise;
DROP INDEX grants_grantee;
CREATE INDEX grants_enterprise ON grants (enterprise_uscc, submitted_seq);
CREATE INDEX grants_grantee ON grants (grantee_uscc, submitted_seq);
CREATE INDEX grants_state_seq ON grants (state, submitted_seq);
-- A platform's grants in one state (the oversight's commonest pair).
CREATE INDEX grants_grantee_state ON grants (grantee_uscc, state, submitted_seq);
CREATE INDEX grants_submitted_seq ON grants (submitted_seq);
CREATE INDEX grants_submitted_at ON grants (submitted_at, submitted_seq);
