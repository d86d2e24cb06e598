-- The component catalog with its lineage, pipeline connectors, the change log, API tokens and
-- idempotency keys. The SQLite twin has the same tables, columns and constraint names.

CREATE TABLE connectors (
    id                BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              TEXT NOT NULL,
    name_lower        TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('airflow3', 'webhook')),
    base_url          TEXT NOT NULL,
    username          TEXT NOT NULL DEFAULT '',
    -- The secret is either read from this environment variable at call time …
    secret_env        TEXT,
    -- … or stored encrypted (XChaCha20-Poly1305, key from settings): base64 of nonce ‖ ciphertext.
    secret_encrypted  TEXT,
    -- The last "test connection": when, whether it worked, and what it found (JSON list).
    last_test_at      TIMESTAMPTZ,
    last_test_ok      BOOLEAN,
    last_test_report  TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT connectors_name_lower_key UNIQUE (name_lower)
);

CREATE TABLE components (
    id               BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             TEXT NOT NULL,
    name_lower       TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('dataset', 'job', 'dashboard', 'other')),
    owner            TEXT NOT NULL DEFAULT '',
    description      TEXT NOT NULL DEFAULT '',
    -- How it was last declared: browser, file (YAML/JSON import), dbt, api.
    source           TEXT NOT NULL,
    connector_id     BIGINT REFERENCES connectors (id),
    dag_id           TEXT,
    rollback_dag_id  TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT components_name_lower_key UNIQUE (name_lower)
);
CREATE INDEX components_kind_idx ON components (kind, name_lower);
CREATE INDEX components_connector_idx ON components (connector_id);

CREATE TABLE component_tags (
    component_id BIGINT NOT NULL REFERENCES components (id),
    tag          TEXT    NOT NULL,
    PRIMARY KEY (component_id, tag)
);
CREATE INDEX component_tags_tag_idx ON component_tags (tag, component_id);

-- Lineage: data flows from upstream to downstream. Acyclic (checked by the service).
CREATE TABLE component_edges (
    upstream_id   BIGINT NOT NULL REFERENCES components (id),
    downstream_id BIGINT NOT NULL REFERENCES components (id),
    created_at    TIMESTAMPTZ    NOT NULL,
    PRIMARY KEY (upstream_id, downstream_id),
    CONSTRAINT component_edges_not_self CHECK (upstream_id <> downstream_id)
);
CREATE INDEX component_edges_downstream_idx ON component_edges (downstream_id, upstream_id);

CREATE TABLE changes (
    id            BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title         TEXT    NOT NULL,
    title_lower   TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('transform', 'schema_migration', 'config', 'backfill', 'other')),
    why           TEXT    NOT NULL,
    author_id     BIGINT NOT NULL REFERENCES users (id),
    deployed_at   TIMESTAMPTZ    NOT NULL,
    git_sha       TEXT,
    artifact_ref  TEXT,
    links_json    TEXT    NOT NULL DEFAULT '[]',
    status        TEXT    NOT NULL DEFAULT 'recorded'
                  CHECK (status IN ('recorded', 'rollback_planned', 'rolling_back', 'rolled_back', 'rollback_failed', 'closed')),
    -- Bumped by every edit: the edit form sends the version it showed (lost-update check).
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ    NOT NULL,
    updated_at    TIMESTAMPTZ    NOT NULL
);
-- The list is ordered by (deployed_at, id) descending; one index per filter, each ending in it.
CREATE INDEX changes_deployed_idx ON changes (deployed_at, id);
CREATE INDEX changes_status_idx ON changes (status, deployed_at, id);
CREATE INDEX changes_kind_idx ON changes (kind, deployed_at, id);
CREATE INDEX changes_author_idx ON changes (author_id, deployed_at, id);

CREATE TABLE change_components (
    change_id    BIGINT NOT NULL REFERENCES changes (id),
    component_id BIGINT NOT NULL REFERENCES components (id),
    -- The data version this change produced for the component, where known (snapshot id, …).
    data_version TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (change_id, component_id)
);
CREATE INDEX change_components_component_idx ON change_components (component_id, change_id);

CREATE TABLE api_tokens (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    name         TEXT    NOT NULL,
    name_lower   TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,
    -- The first characters of the secret, shown so people can tell tokens apart.
    prefix       TEXT    NOT NULL,
    -- SHA-256 of the whole secret (256 random bits: a slow hash adds nothing).
    secret_hash  TEXT    NOT NULL,
    created_by   BIGINT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ    NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    CONSTRAINT api_tokens_secret_hash_key UNIQUE (secret_hash),
    CONSTRAINT api_tokens_user_id_key UNIQUE (user_id, name_lower)
);

-- A replayed request (same user, same key) returns the stored response.
CREATE TABLE idempotency_keys (
    user_id       BIGINT NOT NULL REFERENCES users (id),
    idem_key      TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,
    status_code   INTEGER NOT NULL,
    response_body TEXT    NOT NULL,
    created_at    TIMESTAMPTZ    NOT NULL,
    CONSTRAINT idempotency_keys_user_id_key UNIQUE (user_id, idem_key)
);
