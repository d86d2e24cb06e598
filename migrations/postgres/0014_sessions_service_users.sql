-- Service accounts (API tokens only, never a password sign-in) and the moment a user's
-- sessions were ended everywhere: a session that began before it no longer counts.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person'
    CONSTRAINT users_kind_check CHECK (kind IN ('person', 'service'));
ALTER TABLE users ADD COLUMN sessions_revoked_at TIMESTAMPTZ;
