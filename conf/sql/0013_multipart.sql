-- Multipart direct uploads (README: "Multipart uploads") and the
-- original's ETag.  An upload with an upload_id is a multipart upload in
-- storage: part_size bytes per part but the last, part_count parts; the
-- sweep of abandoned uploads aborts it.  original_etag: the ETag storage
-- gave the original when the upload was completed; the transcoder fetches the original with If-Match on it, so
-- an object replaced after completion is never transcoded.  Runs in one
-- transaction with its schema_migrations row.

ALTER TABLE uploads
    ADD COLUMN upload_id   text CHECK (upload_id <> ''),
    ADD COLUMN part_size   bigint CHECK (part_size > 0),
    ADD COLUMN part_count  integer CHECK (part_count BETWEEN 1 AND 10000),
    ADD CONSTRAINT uploads_multipart CHECK (
        (upload_id IS NULL) = (part_size IS NULL)
        AND (upload_id IS NULL) = (part_count IS NULL));

ALTER TABLE videos
    ADD COLUMN original_etag text;
