-- Title search on the change list: a trigram index, so `title_lower LIKE '%…%'` reads the titles
-- that contain the text instead of every title. pg_trgm ships with PostgreSQL (contrib) and is a
-- trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX changes_title_trgm_idx ON changes USING gin (title_lower gin_trgm_ops);
