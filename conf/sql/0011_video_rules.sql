-- Two rules about a video written once, for the module and the workers
-- alike.  Runs in one transaction with its schema_migrations row.

-- updated_at, which is also the video's cache version: a change moves it
-- to now, and always forward past the version before (two changes in one
-- clock tick, or a clock stepped back, still order).  Every statement
-- that changes what a video shows sets updated_at = video_touch(updated_at).
CREATE FUNCTION video_touch(prev timestamptz) RETURNS timestamptz
LANGUAGE sql VOLATILE AS $$
    SELECT greatest(clock_timestamp(), prev + interval '1 microsecond')
$$;

-- the cache version of a video's JSON (video_json()): its updated_at in
-- microseconds, as text; the Redis cache keeps the newer of two
CREATE FUNCTION video_version(v videos) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT (extract(epoch FROM v.updated_at) * 1000000)::bigint::text
$$;
