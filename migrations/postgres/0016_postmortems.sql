-- Postmortems (one per change by default) with their published versions, the author's own
-- timeline entries and marks on audit events, and action items. The PostgreSQL twin has the
-- same tables, columns and constraint names.

CREATE TABLE postmortems (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    change_id           BIGINT NOT NULL REFERENCES changes (id),
    status              TEXT    NOT NULL DEFAULT 'draft'
                                CHECK (status IN ('draft', 'in_review', 'published')),
    author_id           BIGINT NOT NULL REFERENCES users (id),
    reviewer_id         BIGINT REFERENCES users (id),
    -- Bumped by every save; a save on a stale copy is refused.
    version             BIGINT  NOT NULL DEFAULT 1,
    -- The sections as typed (JSON object: summary, impact, trigger, detection, root_cause,
    -- contributing_factors, resolution, went_well, went_wrong, got_lucky, lessons).
    sections            TEXT    NOT NULL,
    detected_at         TIMESTAMPTZ,
    -- Why there is no action item, when the author publishes without one.
    no_actions_reason   TEXT,
    published_versions  BIGINT  NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ    NOT NULL,
    updated_at          TIMESTAMPTZ    NOT NULL,
    published_at        TIMESTAMPTZ,
    CONSTRAINT postmortems_change_key UNIQUE (change_id)
);
CREATE INDEX postmortems_status_idx ON postmortems (status, updated_at, id);

-- Each publication, as published: the history of a postmortem edited after publishing.
CREATE TABLE postmortem_versions (
    postmortem_id  BIGINT NOT NULL REFERENCES postmortems (id),
    number         BIGINT  NOT NULL,
    body           TEXT    NOT NULL,
    published_by   BIGINT NOT NULL REFERENCES users (id),
    published_at   TIMESTAMPTZ    NOT NULL,
    PRIMARY KEY (postmortem_id, number)
);

-- The author's own timeline entries (audit_seq NULL) and marks on audit events (audit_seq set).
CREATE TABLE postmortem_entries (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    postmortem_id  BIGINT NOT NULL REFERENCES postmortems (id),
    audit_seq      BIGINT,
    at             TIMESTAMPTZ,
    text           TEXT    NOT NULL DEFAULT '',
    moment         TEXT    CHECK (moment IN ('detection', 'diagnosis', 'repair', 'key')),
    starred        BOOLEAN NOT NULL DEFAULT FALSE,
    author_id      BIGINT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMPTZ    NOT NULL,
    CONSTRAINT postmortem_entries_seq_key UNIQUE (postmortem_id, audit_seq)
);
CREATE INDEX postmortem_entries_postmortem_idx ON postmortem_entries (postmortem_id, at, id);

CREATE TABLE action_items (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    postmortem_id   BIGINT NOT NULL REFERENCES postmortems (id),
    title           TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    owner_id        BIGINT NOT NULL REFERENCES users (id),
    due_on          DATE    NOT NULL,
    priority        TEXT    NOT NULL CHECK (priority IN ('urgent', 'high', 'medium', 'low')),
    kind            TEXT    NOT NULL CHECK (kind IN ('mitigate', 'prevent', 'process', 'other')),
    status          TEXT    NOT NULL DEFAULT 'open'
                            CHECK (status IN ('open', 'in_progress', 'done', 'wont_do')),
    wont_do_reason  TEXT,
    ticket_url      TEXT,
    component_id    BIGINT REFERENCES components (id),
    plan_id         BIGINT REFERENCES plans (id),
    plan_row        BIGINT ,
    version         BIGINT  NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ    NOT NULL,
    updated_at      TIMESTAMPTZ    NOT NULL,
    closed_at       TIMESTAMPTZ,
    -- True while open or in progress (every list but "all statuses" reads only these).
    is_open         BOOLEAN NOT NULL DEFAULT TRUE,
    CONSTRAINT action_items_wont_do_reason CHECK (status <> 'wont_do' OR wont_do_reason IS NOT NULL)
);
-- Every list filter has its index, each ending in the list's order (due date, id): mine, all
-- open ones and the overdue view, by status, by priority, a component's, a postmortem's; the
-- weekly chart counts by creation and closing time.
CREATE INDEX action_items_owner_idx ON action_items (owner_id, is_open, due_on, id);
CREATE INDEX action_items_open_idx ON action_items (is_open, due_on, id);
CREATE INDEX action_items_status_idx ON action_items (status, due_on, id);
CREATE INDEX action_items_priority_idx ON action_items (priority, is_open, due_on, id);
CREATE INDEX action_items_component_idx ON action_items (component_id, is_open, due_on, id);
CREATE INDEX action_items_postmortem_idx ON action_items (postmortem_id, id);
CREATE INDEX action_items_created_idx ON action_items (created_at);
CREATE INDEX action_items_closed_idx ON action_items (closed_at);
