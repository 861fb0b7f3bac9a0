-- Who may see and change which videos.  Every statement of the module that
-- chooses videos passes the caller (its account, '' for an anonymous
-- caller, and its role: '', 'viewer', 'editor', 'admin', or 'token' for a
-- route a play token admits) to one of these, where rows are chosen; a
-- test fails if one does not.  They are plain SQL so the planner inlines
-- them: the scope is part of each query's plan, with its indexes, and a
-- pooled connection carries no per-caller state (row-level security
-- would need a setting per statement, on every connection).
-- Runs in one transaction with its schema_migrations row.

-- GET by id and what hangs off one video: its own account reads
-- everything, anyone PUBLIC and UNLISTED videos
CREATE FUNCTION video_readable(account varchar, visibility video_visibility,
                               caller_account text, caller_role text)
    RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT caller_role IN ('admin', 'token') OR account = caller_account
           OR visibility <> 'PRIVATE'
$$;

-- lists: a key lists its account's videos, an admin every one, anonymous
-- callers the PUBLIC ones
CREATE FUNCTION video_listed(account varchar, visibility video_visibility,
                             caller_account text, caller_role text)
    RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN caller_role = 'admin' THEN true
                WHEN caller_role IN ('viewer', 'editor')
                THEN account = caller_account
                ELSE visibility = 'PUBLIC' END
$$;

-- changes: an editor of the video's account, or an admin
CREATE FUNCTION video_writable(account varchar, caller_account text,
                               caller_role text)
    RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT caller_role = 'admin'
           OR (caller_role = 'editor' AND account = caller_account)
$$;

-- whether the caller gets a video's whole object (storage keys, its
-- account, processing errors) or the public view
CREATE FUNCTION video_owned(account varchar, caller_account text,
                            caller_role text)
    RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT caller_role = 'admin' OR account = caller_account
$$;

-- the video object now names its account and its token generation, after
-- its visibility (play tokens sign it: video_play.h; 0009 moves it); the
-- public view leaves both out
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

-- an upload is completed into the account that presigned it, by it
ALTER TABLE uploads
    ADD COLUMN account_id  varchar(21) NOT NULL DEFAULT 'default'
                           REFERENCES accounts (id);
