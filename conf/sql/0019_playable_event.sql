-- The event "video.playable" (README: "Webhooks", "Transcoding in
-- chunks"): a video plays before it is READY once its first chunk is
-- done, which is when a player can be shown it.  Sent once per video, when
-- playable_at is first set: while PROCESSING for a video transcoded in
-- chunks, in the same change as READY (and before video.ready) for one
-- transcoded in one run.  A live stream's recording keeps
-- live.recording.ready alone.  0015's trigger function with that one
-- event, and its update trigger woken by playable_at too.  Runs in one
-- transaction with its schema_migrations row.

CREATE OR REPLACE FUNCTION videos_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v  videos;
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM webhook_video(OLD, 'video.deleted');
        RETURN OLD;
    END IF;

    v := NEW;

    IF TG_OP = 'INSERT' THEN
        IF v.video_type = 'LIVE' THEN
            PERFORM webhook_video(v, 'live.created');
        ELSE
            PERFORM webhook_video(v, 'video.created');
            -- a presigned or multipart upload completed: its original is
            -- in storage; a source URL's is once fetched
            IF v.original_key IS NOT NULL AND v.source_url IS NULL THEN
                PERFORM webhook_video(v, 'video.upload.completed');
            END IF;
        END IF;
        RETURN NEW;
    END IF;

    IF OLD.fetched_at IS NULL AND v.fetched_at IS NOT NULL THEN
        PERFORM webhook_video(v, 'video.upload.completed');
    END IF;

    IF NOT OLD.is_live_now AND v.is_live_now THEN
        PERFORM webhook_video(v, 'live.started');
    ELSIF OLD.is_live_now AND NOT v.is_live_now THEN
        PERFORM webhook_video(v, 'live.ended');
    END IF;

    -- first playable: while PROCESSING from its first chunk, or with the
    -- ladder done in one run (then just before video.ready)
    IF OLD.playable_at IS NULL AND v.playable_at IS NOT NULL
       AND v.video_type = 'VOD'
    THEN
        PERFORM webhook_video(v, 'video.playable');
    END IF;

    IF OLD.status IS DISTINCT FROM v.status THEN
        IF v.status = 'PROCESSING' THEN
            PERFORM webhook_video(v, 'video.processing');
        ELSIF v.status = 'FAILED' THEN
            PERFORM webhook_video(v, 'video.failed');
        ELSIF v.status = 'READY' AND v.video_type = 'VOD' THEN
            PERFORM webhook_video(v, 'video.ready');
        ELSIF v.status = 'READY' AND v.hls_manifest_key IS NOT NULL
              AND v.original_key IS NOT NULL
        THEN
            -- a live stream's recording, transcoded; a stream that ends
            -- without one is READY with live.ended alone
            PERFORM webhook_video(v, 'live.recording.ready');
        END IF;
    END IF;

    IF OLD.title IS DISTINCT FROM v.title
       OR OLD.description IS DISTINCT FROM v.description
       OR OLD.visibility IS DISTINCT FROM v.visibility
    THEN
        PERFORM webhook_video(v, 'video.updated');
    END IF;

    RETURN NEW;
END
$$;

DROP TRIGGER videos_webhook_update ON videos;

CREATE TRIGGER videos_webhook_update AFTER UPDATE ON videos
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.is_live_now IS DISTINCT FROM NEW.is_live_now
          OR OLD.fetched_at IS DISTINCT FROM NEW.fetched_at
          OR OLD.title IS DISTINCT FROM NEW.title
          OR OLD.description IS DISTINCT FROM NEW.description
          OR OLD.visibility IS DISTINCT FROM NEW.visibility
          OR OLD.playable_at IS DISTINCT FROM NEW.playable_at)
    EXECUTE FUNCTION videos_webhook();
