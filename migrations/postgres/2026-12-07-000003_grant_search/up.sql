-- Regulators' grant search (GET /v1/grants filters and cursor paging, spec/openapi.yaml listGrants):
-- the categories each grant covers, and indexes that serve each filter newest first. Grants stored
-- before this migration get their categories when the node next starts (storage::grants::
-- backfill_categories, from the stored signed bytes).
CREATE TABLE grant_categories (
    grant_id        TEXT NOT NULL REFERENCES grants (id),
    category        TEXT NOT NULL,
    PRIMARY KEY (grant_id, category)
);
CREATE INDEX grant_categories_category ON grant_categories (category, grant_id);

DROP INDEX grants_enterprise;
DROP INDEX grants_grantee;
CREATE INDEX grants_enterprise ON grants (enterprise_uscc, submitted_seq);
CREATE INDEX grants_grantee ON grants (grantee_uscc, submitted_seq);
CREATE INDEX grants_state_seq ON grants (state, submitted_seq);
CREATE INDEX grants_submitted_seq ON grants (submitted_seq);
CREATE INDEX grants_submitted_at ON grants (submitted_at);
CREATE INDEX grant_parties_uscc_role ON grant_parties (uscc, role, grant_id);
DROP INDEX grant_parties_uscc;
