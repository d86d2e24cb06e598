-- Rollback plans (versioned rollback matrices), approval policies, decisions, sign-offs and the
-- execution jobs a sign-off creates. Governance rows are append-only: only status/outcome
-- columns change after insert.

CREATE TABLE approval_policies (
    id                   BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 TEXT        NOT NULL,
    name_lower           TEXT        NOT NULL,
    scope_kind           TEXT        NOT NULL CHECK (scope_kind IN ('default', 'tag', 'pipeline')),
    scope_value          TEXT        NOT NULL DEFAULT '',
    expiry_hours         BIGINT      NOT NULL CHECK (expiry_hours BETWEEN 1 AND 8760),
    windows_json         TEXT        NOT NULL DEFAULT '[]',
    break_glass_group_id BIGINT      REFERENCES approval_groups (id),
    version              BIGINT      NOT NULL DEFAULT 1,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    CONSTRAINT approval_policies_name_lower_key UNIQUE (name_lower),
    CONSTRAINT approval_policies_scope_kind_key UNIQUE (scope_kind, scope_value)
);

CREATE TABLE policy_requirements (
    policy_id  BIGINT  NOT NULL REFERENCES approval_policies (id) ON DELETE CASCADE,
    group_id   BIGINT  NOT NULL REFERENCES approval_groups (id),
    position   INTEGER NOT NULL,
    approvals  INTEGER NOT NULL CHECK (approvals BETWEEN 1 AND 20),
    PRIMARY KEY (policy_id, group_id)
);

-- One plan per change.
CREATE TABLE plans (
    id               BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    change_id        BIGINT      NOT NULL REFERENCES changes (id),
    author_id        BIGINT      NOT NULL REFERENCES users (id),
    status           TEXT        NOT NULL CHECK (status IN ('draft', 'in_review', 'rejected', 'signed_off', 'scheduled',
                                                            'executing', 'halted', 'rolled_back', 'aborted', 'withdrawn')),
    current_revision INTEGER     NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT plans_change_id_key UNIQUE (change_id)
);
CREATE INDEX plans_status_idx ON plans (status, updated_at, id);

CREATE TABLE plan_revisions (
    plan_id      BIGINT      NOT NULL REFERENCES plans (id),
    number       INTEGER     NOT NULL CHECK (number >= 1),
    content_hash TEXT        NOT NULL,
    body_json    TEXT        NOT NULL,
    author_id    BIGINT      NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (plan_id, number)
);

-- A revision submitted for approval, with the policy as it was then.
CREATE TABLE approval_requests (
    plan_id            BIGINT      NOT NULL,
    revision           INTEGER     NOT NULL,
    content_hash       TEXT        NOT NULL,
    policy_id          BIGINT      NOT NULL REFERENCES approval_policies (id),
    policy_name        TEXT        NOT NULL,
    requirements_json  TEXT        NOT NULL,
    expiry_hours       BIGINT      NOT NULL,
    windows_json       TEXT        NOT NULL,
    break_glass_reason TEXT,
    submitted_by       BIGINT      NOT NULL REFERENCES users (id),
    submitted_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (plan_id, revision),
    FOREIGN KEY (plan_id, revision) REFERENCES plan_revisions (plan_id, number)
);

-- Four eyes a second time: the plan's and the change's authors are copied in and may not decide.
CREATE TABLE approval_decisions (
    id               BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id          BIGINT      NOT NULL,
    revision         INTEGER     NOT NULL,
    content_hash     TEXT        NOT NULL,
    approver_id      BIGINT      NOT NULL REFERENCES users (id),
    group_id         BIGINT      REFERENCES approval_groups (id),
    decision         TEXT        NOT NULL CHECK (decision IN ('approve', 'reject')),
    reason           TEXT        NOT NULL DEFAULT '',
    plan_author_id   BIGINT      NOT NULL,
    change_author_id BIGINT      NOT NULL,
    request_key      TEXT        NOT NULL,
    decided_at       TIMESTAMPTZ NOT NULL,
    voided_at        TIMESTAMPTZ,
    void_reason      TEXT,
    FOREIGN KEY (plan_id, revision) REFERENCES approval_requests (plan_id, revision),
    CONSTRAINT approval_decisions_four_eyes CHECK (approver_id <> plan_author_id AND approver_id <> change_author_id),
    CONSTRAINT approval_decisions_reject_reason CHECK (decision = 'approve' OR length(reason) > 0),
    CONSTRAINT approval_decisions_plan_id_key UNIQUE (plan_id, revision, approver_id),
    CONSTRAINT approval_decisions_request_key_key UNIQUE (request_key)
);
CREATE INDEX approval_decisions_approver_idx ON approval_decisions (approver_id, decided_at);

-- Exactly one sign-off per revision, exactly one execution per sign-off.
CREATE TABLE sign_offs (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id      BIGINT      NOT NULL,
    revision     INTEGER     NOT NULL,
    content_hash TEXT        NOT NULL,
    break_glass  BOOLEAN     NOT NULL,
    signed_at    TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (plan_id, revision) REFERENCES approval_requests (plan_id, revision),
    CONSTRAINT sign_offs_plan_id_key UNIQUE (plan_id, revision)
);

CREATE TABLE executions (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sign_off_id BIGINT      NOT NULL REFERENCES sign_offs (id),
    plan_id     BIGINT      NOT NULL REFERENCES plans (id),
    status      TEXT        NOT NULL CHECK (status IN ('scheduled', 'running', 'halted', 'succeeded', 'aborted')),
    run_after   TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT executions_sign_off_id_key UNIQUE (sign_off_id)
);
CREATE INDEX executions_due_idx ON executions (status, run_after, id);
