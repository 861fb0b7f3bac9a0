-- Videos, their HLS variants, and the outbox that carries jobs to RabbitMQ.
-- Runs in one transaction with its schema_migrations row: no BEGIN/COMMIT.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE videos (
    id                     varchar(21) PRIMARY KEY
                           CHECK (id ~ '^[A-Za-z0-9_-]{21}$'),
    title                  varchar(255) NOT NULL CHECK (title <> ''),
    description            varchar(2000),
    status                 video_status NOT NULL DEFAULT 'PENDING',
    visibility             video_visibility NOT NULL DEFAULT 'PRIVATE',
    video_type             video_type NOT NULL DEFAULT 'VOD',
    duration               integer CHECK (duration >= 0),
    original_key           text,
    thumbnail_key          text,
    hls_manifest_key       text,
    -- SHA-256 of a live stream key; the key itself is never stored
    stream_key_hash        bytea UNIQUE,
    is_live_now            boolean NOT NULL DEFAULT false,
    live_started_at        timestamptz,
    live_ended_at          timestamptz,
    transcoding_progress   smallint NOT NULL DEFAULT 0
                           CHECK (transcoding_progress BETWEEN 0 AND 100),
    processing_started_at  timestamptz,
    processing_error       text,
    views_today            bigint NOT NULL DEFAULT 0,
    views_month            bigint NOT NULL DEFAULT 0,
    views_total            bigint NOT NULL DEFAULT 0,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- newest first, and keyset pagination on (created_at, id)
CREATE INDEX videos_created ON videos (created_at DESC, id DESC);
CREATE INDEX videos_status_created
    ON videos (status, created_at DESC, id DESC);
CREATE INDEX videos_visibility_created
    ON videos (visibility, created_at DESC, id DESC);
CREATE INDEX videos_type_created
    ON videos (video_type, created_at DESC, id DESC);
-- ?q= title search (ILIKE '%...%')
CREATE INDEX videos_title_trgm ON videos USING gin (title gin_trgm_ops);

CREATE TABLE video_variants (
    id            varchar(21) PRIMARY KEY,
    video_id      varchar(21) NOT NULL
                  REFERENCES videos (id) ON DELETE CASCADE,
    resolution    varchar(16) NOT NULL,
    width         integer NOT NULL CHECK (width > 0),
    height        integer NOT NULL CHECK (height > 0),
    bitrate       integer NOT NULL CHECK (bitrate > 0),
    codec         varchar(32) NOT NULL DEFAULT 'h264',
    format        varchar(16) NOT NULL DEFAULT 'hls',
    playlist_key  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (video_id, resolution)
);

-- Jobs are written here in the same transaction as the state change that
-- causes them; the relay publishes them to the queue named by topic.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    topic         text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text
);

CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- wakes the relay when the job's transaction commits
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', NEW.topic);
    RETURN NEW;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH ROW EXECUTE FUNCTION outbox_notify();

-- Row counts per (status, visibility, type), kept by a trigger, so the
-- list's "total" is a sum over at most 30 rows instead of a count(*).
CREATE TABLE video_counts (
    status      video_status NOT NULL,
    visibility  video_visibility NOT NULL,
    video_type  video_type NOT NULL,
    n           bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (status, visibility, video_type)
);

INSERT INTO video_counts (status, visibility, video_type)
SELECT s, v, t
FROM unnest(enum_range(NULL::video_status)) s,
     unnest(enum_range(NULL::video_visibility)) v,
     unnest(enum_range(NULL::video_type)) t;

CREATE FUNCTION video_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE video_counts SET n = n - 1
        WHERE status = OLD.status AND visibility = OLD.visibility
          AND video_type = OLD.video_type;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE video_counts SET n = n + 1
        WHERE status = NEW.status AND visibility = NEW.visibility
          AND video_type = NEW.video_type;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER video_counts_insert_delete AFTER INSERT OR DELETE ON videos
    FOR EACH ROW EXECUTE FUNCTION video_counts_track();

-- TRUNCATE fires no row triggers
CREATE FUNCTION video_counts_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE video_counts SET n = 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER video_counts_truncate AFTER TRUNCATE ON videos
    FOR EACH STATEMENT EXECUTE FUNCTION video_counts_reset();

CREATE TRIGGER video_counts_update
    AFTER UPDATE OF status, visibility, video_type ON videos
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.visibility IS DISTINCT FROM NEW.visibility
          OR OLD.video_type IS DISTINCT FROM NEW.video_type)
    EXECUTE FUNCTION video_counts_track();

-- ISO 8601 in UTC with milliseconds, as the API shows times
CREATE FUNCTION api_time(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- The API's video object (API.md), built where the data is so the module
-- passes it through without re-encoding.  media_base is the URL prefix of
-- the processed bucket, thumb_base that of the thumbnails bucket.
CREATE FUNCTION video_json(v videos, media_base text, thumb_base text)
    RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', v.id,
        'title', v.title,
        'description', v.description,
        'status', v.status,
        'visibility', v.visibility,
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
