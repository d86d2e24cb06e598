-- The rollbacks list: newest first, optionally by status (keyset on id).
CREATE INDEX executions_status_id_idx ON executions (status, id);
