-- Four eyes from the plan's own rows: whoever drafted the plan, wrote any of its revisions,
-- submitted it, or made the change it rolls back can never decide on it. The application checks
-- the same first; this refuses a row whatever the application copied into it.
CREATE TRIGGER approval_decisions_four_eyes_rows
BEFORE INSERT ON approval_decisions
WHEN NEW.approver_id IN (
        SELECT author_id FROM plans WHERE id = NEW.plan_id
        UNION SELECT author_id FROM plan_revisions WHERE plan_id = NEW.plan_id
        UNION SELECT submitted_by FROM approval_requests WHERE plan_id = NEW.plan_id
        UNION SELECT c.author_id FROM changes c JOIN plans p ON p.change_id = c.id WHERE p.id = NEW.plan_id)
BEGIN
    SELECT RAISE(ABORT, 'rollgate constraint approval_decisions_four_eyes');
END;
