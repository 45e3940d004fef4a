DROP INDEX grants_submitted_at;
DROP INDEX grants_submitted_seq;
DROP INDEX grants_grantee_state;
DROP INDEX grants_state_seq;
DROP INDEX grants_grantee;
DROP INDEX grants_enterprise;
CREATE INDEX grants_enterprise ON grants (enterprise_uscc);
CREATE INDEX grants_grantee ON grants (grantee_uscc);

CREATE INDEX grant_parties_uscc ON grant_parties (uscc);
DROP INDEX grant_parties_uscc_role;
ALTER TABLE grant_parties DROP COLUMN submitted_seq;

DROP TABLE grant_categories;
