-- A Unified Social Credit Code names one legal entity, and so one participant (spec/security.md §3.1).
-- Until now (uscc, role) was unique, so one code could be registered once per role and a platform
-- could register another participant's code as a bank (issue #9). If this fails, the database holds
-- a code under two roles: resolve those rows by hand (keep the genuine one) before upgrading.
CREATE UNIQUE INDEX participants_one_per_uscc ON participants (uscc);

-- Rotation, recovery, suspension and removal end every session of the participant at once.
CREATE INDEX portal_sessions_participant ON portal_sessions (participant_id, ended_at);
