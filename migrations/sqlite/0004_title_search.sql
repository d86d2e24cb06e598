-- Title search on the change list: a trigram index, so a substring search reads the titles that
-- contain it instead of every title. Kept in step with `changes` by triggers.
CREATE VIRTUAL TABLE changes_title_fts USING fts5 (
    title_lower,
    content = 'changes',
    content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO changes_title_fts (rowid, title_lower) SELECT id, title_lower FROM changes;

CREATE TRIGGER changes_title_fts_insert AFTER INSERT ON changes BEGIN
    INSERT INTO changes_title_fts (rowid, title_lower) VALUES (new.id, new.title_lower);
END;

CREATE TRIGGER changes_title_fts_update AFTER UPDATE OF title_lower ON changes BEGIN
    INSERT INTO changes_title_fts (changes_title_fts, rowid, title_lower)
        VALUES ('delete', old.id, old.title_lower);
    INSERT INTO changes_title_fts (rowid, title_lower) VALUES (new.id, new.title_lower);
END;

CREATE TRIGGER changes_title_fts_delete AFTER DELETE ON changes BEGIN
    INSERT INTO changes_title_fts (changes_title_fts, rowid, title_lower)
        VALUES ('delete', old.id, old.title_lower);
END;
