-- The access log's key history (spec/access-log.md §5.5; storage::log_keys): one signed key record
-- per row, seq 0 the genesis, append-only. The node writes the genesis at its first start after
-- this migration; `consentry admin rotate-key` appends the others.
CREATE TABLE log_keys (
    seq         BIGINT PRIMARY KEY,
    note        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
