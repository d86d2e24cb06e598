-- Carrying out signed-off plans. A worker leases a due job; the job's steps (one per row action,
-- then one per check of the stage, in stage order) move pending → running → succeeded / failed /
-- skipped and are saved before and after every remote call; every HTTP exchange and every check
-- result is kept as evidence.
ALTER TABLE executions ADD COLUMN lease_owner TEXT;
ALTER TABLE executions ADD COLUMN lease_until TIMESTAMPTZ;
ALTER TABLE executions ADD COLUMN started_at TIMESTAMPTZ;
ALTER TABLE executions ADD COLUMN finished_at TIMESTAMPTZ;
-- Why the job halted or was aborted, for people.
ALTER TABLE executions ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE INDEX executions_lease_idx ON executions (status, lease_until, id);

CREATE TABLE execution_steps (
    id            BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id  BIGINT  NOT NULL REFERENCES executions (id),
    -- The order steps run in, from 1.
    position      INTEGER NOT NULL,
    stage         INTEGER NOT NULL,
    row_number    INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('action', 'check')),
    -- Which of the row's checks, from 1 (checks only).
    check_number  INTEGER,
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'skipped')),
    -- Operator retries so far: part of the idempotency key, so a retry starts a new remote run
    -- while a crash-resume finds the old one.
    retries       INTEGER NOT NULL DEFAULT 0,
    -- The remote run this step started (Airflow: the dag_run_id), saved before the call.
    remote_ref    TEXT,
    -- Values the pipeline reported for the row (row count, checksum, …), read by its checks.
    values_json   TEXT,
    message       TEXT    NOT NULL DEFAULT '',
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT execution_steps_execution_id_key UNIQUE (execution_id, position)
);

CREATE TABLE execution_evidence (
    id            BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id  BIGINT  NOT NULL REFERENCES executions (id),
    step_id       BIGINT  NOT NULL REFERENCES execution_steps (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('http', 'check', 'operator')),
    at            TIMESTAMPTZ NOT NULL,
    method        TEXT    NOT NULL DEFAULT '',
    url           TEXT    NOT NULL DEFAULT '',
    -- NULL when no response came (timeout, refused connection).
    status        INTEGER,
    duration_ms   BIGINT  NOT NULL DEFAULT 0,
    -- Bodies with secrets redacted, cut at 16 KiB.
    request_body  TEXT    NOT NULL DEFAULT '',
    response_body TEXT    NOT NULL DEFAULT '',
    note          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX execution_evidence_execution_idx ON execution_evidence (execution_id, id);

-- This installation's random name: part of every remote idempotency key, so two Rollgates (or a
-- re-created database) driving the same Airflow never take each other's runs for their own.
CREATE TABLE installation (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key TEXT    NOT NULL
);
INSERT INTO installation (id, key) VALUES (1, substr(md5(random()::text || clock_timestamp()::text), 1, 12));
