-- An abort undoes what the job did: a job is `aborting` while the worker unpauses the DAGs it
-- paused and stops its in-flight runs, each as a step of kind `undo` that names the step it
-- undoes (`undoes`, a position). SQLite cannot change a CHECK, so both tables are rebuilt
-- (migrations run with foreign keys off; ids are kept, so references stay valid).
CREATE TABLE executions_rebuilt (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sign_off_id INTEGER      NOT NULL REFERENCES sign_offs (id),
    plan_id     INTEGER      NOT NULL REFERENCES plans (id),
    status      TEXT        NOT NULL
                CHECK (status IN ('scheduled', 'running', 'halted', 'succeeded', 'aborting', 'aborted')),
    run_after   TEXT       ,
    created_at  TEXT        NOT NULL,
    updated_at  TEXT        NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    started_at  TEXT,
    finished_at TEXT,
    reason      TEXT NOT NULL DEFAULT '',
    CONSTRAINT executions_sign_off_id_key UNIQUE (sign_off_id)
);
INSERT INTO executions_rebuilt SELECT id, sign_off_id, plan_id, status, run_after, created_at, updated_at,
    lease_owner, lease_until, started_at, finished_at, reason FROM executions;
DROP TABLE executions;
ALTER TABLE executions_rebuilt RENAME TO executions;
CREATE INDEX executions_due_idx ON executions (status, run_after, id);
CREATE INDEX executions_lease_idx ON executions (status, lease_until, id);
CREATE INDEX executions_status_id_idx ON executions (status, id);

CREATE TABLE execution_steps_rebuilt (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id  INTEGER NOT NULL REFERENCES executions (id),
    position      INTEGER NOT NULL,
    stage         INTEGER NOT NULL,
    row_number    INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('action', 'check', 'undo')),
    check_number  INTEGER,
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'skipped')),
    retries       INTEGER NOT NULL DEFAULT 0,
    remote_ref    TEXT,
    values_json   TEXT,
    message       TEXT    NOT NULL DEFAULT '',
    started_at    TEXT,
    finished_at   TEXT,
    updated_at    TEXT    NOT NULL,
    -- The position of the step an `undo` step undoes.
    undoes        INTEGER,
    CONSTRAINT execution_steps_execution_id_key UNIQUE (execution_id, position)
);
INSERT INTO execution_steps_rebuilt SELECT id, execution_id, position, stage, row_number, kind, check_number,
    state, retries, remote_ref, values_json, message, started_at, finished_at, updated_at, NULL
    FROM execution_steps;
DROP TABLE execution_steps;
ALTER TABLE execution_steps_rebuilt RENAME TO execution_steps;
