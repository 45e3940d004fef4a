-- Credit evaluations the node issued as CreditEvaluation credentials (spec/evaluation.md). The
-- credential is kept whole (its proof included) so that it can be shown again and withdrawn; the
-- status bit at (status_list, status_index) of the revocation list withdraws it.
CREATE TABLE evaluations (
    id              TEXT PRIMARY KEY,
    enterprise_uscc TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    grant_id        TEXT NOT NULL,
    model_id        TEXT NOT NULL,
    model_version   BIGINT NOT NULL,
    grade           TEXT NOT NULL,
    score           BIGINT NOT NULL,
    status_list     BIGINT NOT NULL,
    status_index    BIGINT NOT NULL,
    issued_at       BIGINT NOT NULL,
    valid_until     BIGINT NOT NULL,
    withdrawn_at    BIGINT,
    log_index       BIGINT NOT NULL,
    credential      TEXT NOT NULL,
    UNIQUE (status_list, status_index)
);
CREATE INDEX evaluations_enterprise ON evaluations (enterprise_uscc, issued_at);
