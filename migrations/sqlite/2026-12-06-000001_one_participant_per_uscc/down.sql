DROP INDEX portal_sessions_participant;
DROP INDEX participants_one_per_uscc;
