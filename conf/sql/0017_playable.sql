-- A video plays from its first chunk (0016_chunks.sql): the video object
-- says since when, as "playableAt", null until then.  The worker sets
-- playable_at when the first chunk of every rung and the audio under it
-- are done (status still PROCESSING), and to the READY time for a video
-- transcoded in one run, so a READY video always has it; videos READY
-- before this migration get their last change's time, the nearest to it
-- there is.  Every video object is video_json()'s (GET, lists, PATCH,
-- uploads, live, webhook events' data), so this is the one place the
-- field is added.  Runs in one transaction with its schema_migrations
-- row.

UPDATE videos SET playable_at = updated_at
WHERE status = 'READY' AND hls_manifest_key IS NOT NULL
  AND playable_at IS NULL;

-- 0008's, with 'playableAt' after 'transcodingProgress' (the view
-- figures that follow are one run: src/lib/video_views.h)
CREATE OR REPLACE FUNCTION video_json(v videos, media_base text,
                                      thumb_base text)
    RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', v.id,
        'accountId', v.account_id,
        'title', v.title,
        'description', v.description,
        'status', v.status,
        'visibility', v.visibility,
        'tokenGeneration', v.token_gen,
        'videoType', v.video_type,
        'duration', v.duration,
        'thumbnailKey', v.thumbnail_key,
        'thumbnailUrl', thumb_base || v.thumbnail_key,
        'hlsManifestKey', v.hls_manifest_key,
        'playbackUrl', media_base || v.hls_manifest_key,
        'isLiveNow', v.is_live_now,
        'transcodingProgress', v.transcoding_progress,
        'playableAt', api_time(v.playable_at),
        'viewsToday', v.views_today,
        'viewsMonth', v.views_month,
        'viewsTotal', v.views_total,
        'createdAt', api_time(v.created_at),
        'updatedAt', api_time(v.updated_at),
        'variants', COALESCE((
            SELECT json_agg(json_build_object(
                       'id', vv.id,
                       'resolution', vv.resolution,
                       'width', vv.width,
                       'height', vv.height,
                       'bitrate', vv.bitrate,
                       'codec', vv.codec,
                       'format', vv.format,
                       'playlistKey', vv.playlist_key,
                       'playbackUrl', media_base || vv.playlist_key)
                   ORDER BY vv.height DESC)
            FROM video_variants vv
            WHERE vv.video_id = v.id), '[]'::json))
$$;
