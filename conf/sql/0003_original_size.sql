-- The size of the uploaded original, from storage when the upload is
-- completed.  Runs in one transaction with its schema_migrations row.

ALTER TABLE videos ADD COLUMN original_size bigint
    CHECK (original_size >= 0);
