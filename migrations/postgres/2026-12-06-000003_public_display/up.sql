-- The enterprise's consent to show its current credit evaluation publicly through the 苏信码
-- (spec/evaluation.md §6): one row per enterprise, the latest signed request kept as evidence, and
-- the evaluation the consent covers (the one current when it was given).
CREATE TABLE public_displays (
    enterprise_uscc TEXT PRIMARY KEY,
    authorized      BOOLEAN NOT NULL,
    evaluation_id   TEXT,
    changed_at      BIGINT NOT NULL,
    evidence        TEXT NOT NULL,
    log_index       BIGINT NOT NULL
);
