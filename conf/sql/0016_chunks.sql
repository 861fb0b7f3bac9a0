-- Chunked transcoding (README: "Transcoding in chunks").  The original is
-- split once, by stream copy at keyframes, into pieces; each piece is a
-- chunk job that any transcode worker encodes to every rung; the audio is
-- encoded once for the whole video.  What is done is the state here, and
-- the HLS playlists of a video being transcoded are rendered from it
-- (video_hls_file), by the module while the video is PROCESSING and once,
-- into storage, when it becomes READY.  Runs in one transaction with its
-- schema_migrations row.

-- when the first chunk of every rung and the audio under it were done:
-- the video plays from then on, while later chunks are still encoded
ALTER TABLE videos ADD COLUMN playable_at timestamptz;

-- a chunked transcode: what every playlist of the video shares
CREATE TABLE video_hls (
    video_id     varchar(21) PRIMARY KEY
                 REFERENCES videos (id) ON DELETE CASCADE,
    -- the master playlist, written once the ladder is known
    master       text NOT NULL,
    -- the rungs' directories, highest first ("1080p", ...)
    rungs        text[] NOT NULL,
    has_audio    boolean NOT NULL,
    -- EXT-X-TARGETDURATION of every media playlist
    target       smallint NOT NULL CHECK (target BETWEEN 1 AND 30),
    chunks       integer NOT NULL CHECK (chunks BETWEEN 1 AND 100000),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- a chunk: n >= 0 a piece of the picture, n = -1 the audio (whole)
CREATE TABLE video_chunks (
    video_id     varchar(21) NOT NULL
                 REFERENCES videos (id) ON DELETE CASCADE,
    n            integer NOT NULL CHECK (n >= -1),
    -- the piece's place in the original, seconds
    start_s      double precision NOT NULL,
    end_s        double precision NOT NULL,
    -- its segments' durations, in order, when done (the audio's grow as
    -- they are uploaded)
    durations    double precision[] NOT NULL DEFAULT '{}',
    attempts     integer NOT NULL DEFAULT 0,
    done_at      timestamptz,
    PRIMARY KEY (video_id, n)
);

-- the URI of a chunk's segment k in a rung's directory, or the audio's
CREATE FUNCTION video_hls_segment(n integer, k integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN n < 0 THEN 'a_' || lpad(k::text, 5, '0') || '.ts'
           ELSE 'c' || lpad(n::text, 5, '0') || '_' || lpad(k::text, 3, '0')
                || '.ts' END
$$;

-- a media playlist: rung's the chunks done in order from the first (the
-- picture stops at the first chunk not done), "audio" the audio's
-- segments so far; EXT-X-ENDLIST once all are there
CREATE FUNCTION video_hls_media(h video_hls, rung text) RETURNS text
    LANGUAGE sql STABLE AS $$
    WITH segs AS (
        SELECT c.n, s.k, s.d, c.done_at
        FROM video_chunks c,
             unnest(c.durations) WITH ORDINALITY AS s (d, k)
        WHERE c.video_id = h.video_id
          AND CASE WHEN rung = 'audio' THEN c.n = -1
              ELSE c.n >= 0 AND c.n < (
                  SELECT COALESCE(min(x.n), h.chunks) FROM video_chunks x
                  WHERE x.video_id = h.video_id AND x.n >= 0
                    AND x.done_at IS NULL) END
    ), complete AS (
        SELECT CASE WHEN rung = 'audio'
               THEN EXISTS (SELECT 1 FROM video_chunks a
                            WHERE a.video_id = h.video_id AND a.n = -1
                              AND a.done_at IS NOT NULL)
               ELSE (SELECT count(*) FROM video_chunks x
                     WHERE x.video_id = h.video_id AND x.n >= 0
                       AND x.done_at IS NOT NULL) = h.chunks END AS ended
    )
    SELECT '#EXTM3U' || chr(10)
        || '#EXT-X-VERSION:3' || chr(10)
        || '#EXT-X-TARGETDURATION:' || h.target || chr(10)
        || '#EXT-X-MEDIA-SEQUENCE:0' || chr(10)
        || '#EXT-X-PLAYLIST-TYPE:EVENT' || chr(10)
        || '#EXT-X-INDEPENDENT-SEGMENTS' || chr(10)
        || COALESCE((SELECT string_agg('#EXTINF:' || to_char(segs.d,
                                           'FM999990.000000') || ','
                                       || chr(10)
                                       || video_hls_segment(segs.n,
                                              segs.k::integer - 1)
                                       || chr(10), '' ORDER BY segs.n, segs.k)
                     FROM segs), '')
        || CASE WHEN complete.ended THEN '#EXT-X-ENDLIST' || chr(10)
           ELSE '' END
    FROM complete
    WHERE rung = 'audio' OR rung = ANY (h.rungs)
$$;

-- a playlist of the video by its path under the video's prefix:
-- "master.m3u8", "<rung>/playlist.m3u8" or "audio/playlist.m3u8"; NULL
-- when the video has no such playlist (or is not transcoded in chunks)
CREATE FUNCTION video_hls_file(id text, path text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN path = 'master.m3u8' THEN h.master
           WHEN path ~ '^[A-Za-z0-9]{1,8}/playlist[.]m3u8$'
                AND (split_part(path, '/', 1) <> 'audio' OR h.has_audio)
           THEN video_hls_media(h, split_part(path, '/', 1)) END
    FROM video_hls h
    WHERE h.video_id = id
$$;
