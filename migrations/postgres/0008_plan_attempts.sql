-- A change may have several plans over time (a new one after an aborted or withdrawn plan; the
-- old one stays in the change's history), but only one open plan at a time.
ALTER TABLE plans DROP CONSTRAINT plans_change_id_key;
CREATE INDEX plans_change_idx ON plans (change_id, id);
CREATE UNIQUE INDEX plans_one_open_per_change ON plans (change_id) WHERE status NOT IN ('aborted', 'withdrawn');
-- Why a plan was withdrawn.
ALTER TABLE plans ADD COLUMN end_reason TEXT;

-- A change closed without a rollback ("fixed forward"): why, and where the fix is.
ALTER TABLE changes ADD COLUMN close_reason TEXT;
ALTER TABLE changes ADD COLUMN close_link TEXT;
