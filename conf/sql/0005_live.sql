-- Live streams: who is publishing, and whether the recording becomes a VOD.
-- Runs in one transaction with its schema_migrations row.

ALTER TABLE videos
    -- the stream key hash the accepted publisher used: nginx-rtmp names
    -- the publisher by that key in on_publish_done and on_record_done,
    -- even after the key was rotated
    ADD COLUMN live_key_hash  bytea,
    -- the accepted publisher's connection (nginx-rtmp's clientid, unique
    -- across nginx workers): what stop and key rotation drop
    ADD COLUMN live_client    bigint,
    -- what the end of the stream does with its recording: a VOD (true)
    -- or nothing; POST /api/live/:id/stop sets it
    ADD COLUMN live_convert   boolean NOT NULL DEFAULT true;

CREATE INDEX videos_live_key ON videos (live_key_hash)
    WHERE live_key_hash IS NOT NULL;

-- GET /api/live/active
CREATE INDEX videos_live_now ON videos (live_started_at DESC, id DESC)
    WHERE is_live_now;
