-- Notifications: the message each audited event tells, who was told (their own list), team
-- channels, the outbox of deliveries the delivery worker sends (all written in the transaction of
-- the state change that caused them), each attempt, and the e-mail server. The PostgreSQL twin has the same tables, columns and
-- constraint names.

ALTER TABLE users ADD COLUMN email TEXT;

-- What one audit event tells: written once, in the event's transaction.
CREATE TABLE messages (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT    NOT NULL,
    -- The audit event that caused it, and the thing it is about.
    audit_seq    BIGINT NOT NULL,
    entity_type  TEXT    NOT NULL,
    entity_id    TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    link         TEXT    NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT messages_once_key UNIQUE (audit_seq, kind)
);
CREATE INDEX messages_entity_idx ON messages (entity_type, entity_id, id);

-- Who was told: a person's own list.
CREATE TABLE notifications (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  BIGINT NOT NULL REFERENCES messages (id),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    read_at     TIMESTAMPTZ,
    CONSTRAINT notifications_once_key UNIQUE (message_id, user_id)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);

-- A team's chat channel or webhook (Slack, Microsoft Teams, Standard Webhooks), told of the
-- events of plans that need an approval group, or of changes to components with a tag.
CREATE TABLE team_channels (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('slack', 'teams', 'webhook')),
    -- The address, sealed with the server's key (a chat webhook's URL is its secret).
    url_sealed    TEXT    NOT NULL,
    -- Where it points, shown instead of the address.
    url_origin    TEXT    NOT NULL,
    -- Standard Webhooks signing secret: sealed, or the environment variable holding it.
    secret_sealed TEXT,
    secret_env    TEXT,
    group_id      BIGINT REFERENCES approval_groups (id),
    tag           TEXT,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT team_channels_scope CHECK ((group_id IS NULL) <> (tag IS NULL))
);

-- The outbox: one row per message to send, to a person's address or a team channel.
CREATE TABLE deliveries (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id       BIGINT NOT NULL REFERENCES messages (id),
    user_id          BIGINT REFERENCES users (id),
    team_channel_id  BIGINT REFERENCES team_channels (id),
    channel          TEXT    NOT NULL CHECK (channel IN ('email', 'slack', 'teams', 'webhook')),
    -- An e-mail address as it was when the message was made (empty: the user had none), or
    -- the channel's origin.
    destination      TEXT    NOT NULL,
    -- Sent with the message (Message-ID, webhook-id): a receiver can drop a repeat.
    idempotency_key  TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    lease_owner      TEXT,
    lease_until      TIMESTAMPTZ,
    last_error       TEXT,
    sent_at          TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT deliveries_idempotency_key UNIQUE (idempotency_key),
    CONSTRAINT deliveries_one_recipient CHECK ((user_id IS NULL) <> (team_channel_id IS NULL))
);
CREATE INDEX deliveries_due_idx ON deliveries (status, next_attempt_at, id);
CREATE INDEX deliveries_list_idx ON deliveries (status, id);
CREATE INDEX deliveries_message_idx ON deliveries (message_id);

CREATE TABLE delivery_attempts (
    delivery_id  BIGINT NOT NULL REFERENCES deliveries (id),
    number       BIGINT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    detail       TEXT    NOT NULL,
    PRIMARY KEY (delivery_id, number)
);

-- The e-mail server (one row). The password is sealed with the server's key or named as an
-- environment variable, as connector secrets are.
CREATE TABLE mail_settings (
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    host          TEXT    NOT NULL,
    port          BIGINT NOT NULL,
    security      TEXT    NOT NULL CHECK (security IN ('starttls', 'tls', 'none')),
    username      TEXT    NOT NULL DEFAULT '',
    secret_sealed TEXT,
    secret_env    TEXT,
    from_address  TEXT    NOT NULL,
    updated_by    BIGINT NOT NULL REFERENCES users (id),
    updated_at    TIMESTAMPTZ NOT NULL
);
