-- A change may have several plans over time (a new one after an aborted or withdrawn plan; the
-- old one stays in the change's history), but only one open plan at a time. SQLite cannot drop
-- the old inline UNIQUE (change_id), so the table is rebuilt (migrations run with foreign keys
-- off and are checked afterwards: see `migrate_sqlite`).
CREATE TABLE plans_rebuilt (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id        INTEGER      NOT NULL REFERENCES changes (id),
    author_id        INTEGER      NOT NULL REFERENCES users (id),
    status           TEXT        NOT NULL CHECK (status IN ('draft', 'in_review', 'rejected', 'signed_off', 'scheduled',
                                                            'executing', 'halted', 'rolled_back', 'aborted', 'withdrawn')),
    current_revision INTEGER     NOT NULL,
    created_at       TEXT        NOT NULL,
    updated_at       TEXT        NOT NULL
);
INSERT INTO plans_rebuilt (id, change_id, author_id, status, current_revision, created_at, updated_at)
    SELECT id, change_id, author_id, status, current_revision, created_at, updated_at FROM plans;
DROP TABLE plans;
ALTER TABLE plans_rebuilt RENAME TO plans;
CREATE INDEX plans_status_idx ON plans (status, updated_at, id);
CREATE INDEX plans_change_idx ON plans (change_id, id);
CREATE UNIQUE INDEX plans_one_open_per_change ON plans (change_id) WHERE status NOT IN ('aborted', 'withdrawn');
-- Why a plan was withdrawn.
ALTER TABLE plans ADD COLUMN end_reason TEXT;

-- A change closed without a rollback ("fixed forward"): why, and where the fix is.
ALTER TABLE changes ADD COLUMN close_reason TEXT;
ALTER TABLE changes ADD COLUMN close_link TEXT;
