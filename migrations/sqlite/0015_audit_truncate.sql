-- SQLite has no TRUNCATE (a DELETE without WHERE fires the row triggers, which refuse it);
-- the chain head row is protected from deletion like the log itself.
CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
BEGIN SELECT RAISE(ABORT, 'audit_chain_head cannot be deleted'); END;
