-- Accounts, roles, approval groups, sign-in throttling and the audit chain.
-- The SQLite twin has the same tables, columns and constraint names.

CREATE TABLE users (
    id             BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       TEXT        NOT NULL,
    username_lower TEXT        NOT NULL,
    display_name   TEXT        NOT NULL,
    password_hash  TEXT        NOT NULL,
    active         BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_username_lower_key UNIQUE (username_lower)
);

CREATE TABLE user_roles (
    user_id    BIGINT      NOT NULL REFERENCES users (id),
    role       TEXT        NOT NULL CHECK (role IN ('requester', 'approver', 'postmortem_author', 'auditor', 'admin')),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE approval_groups (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT        NOT NULL,
    name_lower  TEXT        NOT NULL,
    description TEXT        NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT approval_groups_name_lower_key UNIQUE (name_lower)
);

CREATE TABLE group_members (
    user_id    BIGINT      NOT NULL REFERENCES users (id),
    group_id   BIGINT      NOT NULL REFERENCES approval_groups (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX group_members_group_idx ON group_members (group_id);

-- Keyed by the attempted name (known or not), so lockouts reveal nothing about which names exist.
CREATE TABLE login_throttle (
    username_lower TEXT        PRIMARY KEY,
    failures       INTEGER     NOT NULL,
    locked_until   TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_events (
    seq            BIGINT      PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    actor_id       BIGINT      REFERENCES users (id),
    actor_username TEXT,
    action         TEXT        NOT NULL,
    entity_type    TEXT        NOT NULL,
    entity_id      TEXT        NOT NULL,
    request_id     TEXT,
    before_json    TEXT        NOT NULL,
    after_json     TEXT        NOT NULL,
    event_hash     TEXT        NOT NULL,
    chain_hash     TEXT        NOT NULL
);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_username, seq);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id, seq);
CREATE INDEX audit_events_at_idx ON audit_events (at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- The single row every append locks: it serializes the chain across server instances.
CREATE TABLE audit_chain_head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    seq        BIGINT  NOT NULL,
    chain_hash TEXT    NOT NULL
);
INSERT INTO audit_chain_head (id, seq, chain_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
