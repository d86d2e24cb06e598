-- Evidence also records a call's intent, written before the call goes out (kind `intent`).
-- SQLite cannot change a CHECK, so the table is rebuilt (migrations run with foreign keys off).
CREATE TABLE execution_evidence_rebuilt (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id  INTEGER NOT NULL REFERENCES executions (id),
    step_id       INTEGER NOT NULL REFERENCES execution_steps (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('http', 'check', 'operator', 'intent')),
    at            TEXT    NOT NULL,
    method        TEXT    NOT NULL DEFAULT '',
    url           TEXT    NOT NULL DEFAULT '',
    -- NULL when no response came (timeout, refused connection).
    status        INTEGER,
    duration_ms   INTEGER NOT NULL DEFAULT 0,
    -- Bodies with secrets redacted, cut at 16 KiB.
    request_body  TEXT    NOT NULL DEFAULT '',
    response_body TEXT    NOT NULL DEFAULT '',
    note          TEXT    NOT NULL DEFAULT ''
);
INSERT INTO execution_evidence_rebuilt SELECT id, execution_id, step_id, kind, at, method, url, status,
    duration_ms, request_body, response_body, note FROM execution_evidence;
DROP TABLE execution_evidence;
ALTER TABLE execution_evidence_rebuilt RENAME TO execution_evidence;
CREATE INDEX execution_evidence_execution_idx ON execution_evidence (execution_id, id);
