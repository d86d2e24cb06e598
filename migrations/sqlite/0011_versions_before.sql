-- What a change replaced, when CI or the requester records it: the data version each component
-- had before, and the commit before. A rollback restores these (history fills in the rest).
ALTER TABLE change_components ADD COLUMN data_version_before TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN git_sha_before TEXT;
