-- Consent requests (spec/consent-requests.md): a platform or bank asks an enterprise for a grant.
-- `seq` orders them (the list cursor); `id` (creq-<uuid>) names them. The requester and its role
-- come from the authenticated caller. `terms` is the requested credentialSubject (JSON), the window
-- in ms. `state` moves once from pending to signed, declined, withdrawn or expired; `grant_id` is
-- the grant that answered it, written in the grant's own transaction.
CREATE TABLE consent_requests (
    seq             BIGSERIAL PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    requester_uscc  TEXT NOT NULL,
    requester_role  TEXT NOT NULL,
    enterprise_uscc TEXT NOT NULL,
    terms           TEXT NOT NULL,
    valid_from      BIGINT NOT NULL,
    valid_until     BIGINT NOT NULL,
    message         TEXT NOT NULL,
    state           TEXT NOT NULL,
    grant_id        TEXT,
    decline_reason  TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    answered_at     BIGINT
);
CREATE INDEX consent_requests_enterprise ON consent_requests (enterprise_uscc, seq);
CREATE INDEX consent_requests_requester ON consent_requests (requester_uscc, seq);
CREATE INDEX consent_requests_pending ON consent_requests (state, expires_at);
