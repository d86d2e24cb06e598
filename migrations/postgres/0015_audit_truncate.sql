-- TRUNCATE skips row triggers: refuse it on the audit log and its chain head as well, so even
-- the owning role cannot empty the history without first dropping these triggers (which is
-- DDL, and the application role `rollgate migrate --grant-to` sets up cannot do it).
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE FUNCTION audit_chain_head_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_chain_head cannot be deleted or truncated';
END;
$$;
CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
FOR EACH ROW EXECUTE FUNCTION audit_chain_head_kept();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_kept();
