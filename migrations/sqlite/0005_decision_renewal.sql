-- An approval past its expiry may be renewed on the same revision: the expired decision is voided
-- and a new one recorded with the next renewal number, so the database still allows one live
-- decision per approver, revision and renewal. SQLite cannot change a table constraint in place:
-- the table is rebuilt (nothing references it).
CREATE TABLE approval_decisions_next (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id          INTEGER NOT NULL,
    revision         INTEGER NOT NULL,
    content_hash     TEXT    NOT NULL,
    approver_id      INTEGER NOT NULL REFERENCES users (id),
    group_id         INTEGER REFERENCES approval_groups (id),
    decision         TEXT    NOT NULL CHECK (decision IN ('approve', 'reject')),
    reason           TEXT    NOT NULL DEFAULT '',
    plan_author_id   INTEGER NOT NULL,
    change_author_id INTEGER NOT NULL,
    request_key      TEXT    NOT NULL,
    decided_at       TEXT    NOT NULL,
    voided_at        TEXT,
    void_reason      TEXT,
    renewal          INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (plan_id, revision) REFERENCES approval_requests (plan_id, revision),
    CONSTRAINT approval_decisions_four_eyes CHECK (approver_id <> plan_author_id AND approver_id <> change_author_id),
    CONSTRAINT approval_decisions_reject_reason CHECK (decision = 'approve' OR length(reason) > 0),
    CONSTRAINT approval_decisions_plan_id_key UNIQUE (plan_id, revision, approver_id, renewal),
    CONSTRAINT approval_decisions_request_key_key UNIQUE (request_key)
);
INSERT INTO approval_decisions_next (id, plan_id, revision, content_hash, approver_id, group_id, decision, reason,
    plan_author_id, change_author_id, request_key, decided_at, voided_at, void_reason)
SELECT id, plan_id, revision, content_hash, approver_id, group_id, decision, reason,
    plan_author_id, change_author_id, request_key, decided_at, voided_at, void_reason
FROM approval_decisions;
DROP TABLE approval_decisions;
ALTER TABLE approval_decisions_next RENAME TO approval_decisions;
CREATE INDEX approval_decisions_approver_idx ON approval_decisions (approver_id, decided_at);
