-- An approval past its expiry may be renewed on the same revision: the expired decision is voided
-- and a new one recorded with the next renewal number, so the database still allows one live
-- decision per approver, revision and renewal.
ALTER TABLE approval_decisions ADD COLUMN renewal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE approval_decisions DROP CONSTRAINT approval_decisions_plan_id_key;
ALTER TABLE approval_decisions
    ADD CONSTRAINT approval_decisions_plan_id_key UNIQUE (plan_id, revision, approver_id, renewal);
