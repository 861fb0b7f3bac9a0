-- Presigned uploads: what each upload URL handed out allows, so that
-- completing needs one (and marks it, in the statement that creates the
-- video), and the cleanup worker can remove the objects of uploads never
-- completed once their URL has expired.  Runs in one transaction with its
-- schema_migrations row.

CREATE TABLE uploads (
    video_id      varchar(21) PRIMARY KEY
                  CHECK (video_id ~ '^[A-Za-z0-9_-]{21}$'),
    key           text NOT NULL,
    size          bigint NOT NULL CHECK (size > 0),
    content_type  text NOT NULL,
    -- when the presigned URL stops working
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz
);

-- the sweep: uploads never completed, by expiry
CREATE INDEX uploads_pending ON uploads (expires_at)
    WHERE completed_at IS NULL;
