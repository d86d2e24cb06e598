-- An abort undoes what the job did: a job is `aborting` while the worker unpauses the DAGs it
-- paused and stops its in-flight runs, each as a step of kind `undo` that names the step it
-- undoes (`undoes`, a position).
ALTER TABLE executions DROP CONSTRAINT executions_status_check;
ALTER TABLE executions ADD CONSTRAINT executions_status_check
    CHECK (status IN ('scheduled', 'running', 'halted', 'succeeded', 'aborting', 'aborted'));
ALTER TABLE execution_steps DROP CONSTRAINT execution_steps_kind_check;
ALTER TABLE execution_steps ADD CONSTRAINT execution_steps_kind_check
    CHECK (kind IN ('action', 'check', 'undo'));
ALTER TABLE execution_steps ADD COLUMN undoes INTEGER;
