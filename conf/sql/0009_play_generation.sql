-- Play tokens follow their video: a token signs the video's token
-- generation, which moves on whenever the video becomes PRIVATE (so a
-- token minted in an earlier PRIVATE spell stops working) and when its
-- account is disabled (the command line does that).  A trigger, so every
-- path that changes visibility (the module, the workers, SQL by hand)
-- moves it.  Runs in one transaction with its schema_migrations row.

CREATE FUNCTION videos_token_gen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.visibility = 'PRIVATE' AND OLD.visibility <> 'PRIVATE' THEN
        NEW.token_gen := OLD.token_gen + 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER videos_token_gen BEFORE UPDATE OF visibility ON videos
    FOR EACH ROW EXECUTE FUNCTION videos_token_gen();

-- the video object carries its token generation, after its visibility
-- (play tokens sign it: video_play.h); the public view leaves it out
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
