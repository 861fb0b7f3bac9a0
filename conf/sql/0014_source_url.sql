-- Upload from a URL (README: "Upload from a URL").  source_url: the URL a
-- transcoder fetches as the original (in the normal form the module
-- checked); fetched_bytes and fetch_total: how far the fetch is, as the
-- progress route shows it (fetch_total NULL when the source announced no
-- length); fetched_at: when the original was in storage.  A video from a
-- URL reserved nothing beforehand (unlike a presigned upload), so its
-- insert is checked against the account's video limit; its bytes count
-- once fetched (the fetch itself is bounded by what the account has
-- left).  Runs in one transaction with its schema_migrations row.

ALTER TABLE videos
    ADD COLUMN source_url     text
               CHECK (char_length(source_url) BETWEEN 1 AND 2048),
    ADD COLUMN fetched_bytes  bigint CHECK (fetched_bytes >= 0),
    ADD COLUMN fetch_total    bigint CHECK (fetch_total >= 0),
    ADD COLUMN fetched_at     timestamptz;

-- as in 0010_quota.sql, but an insert with a source URL is checked
CREATE OR REPLACE FUNCTION videos_quota() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    o_open  integer := 0;
    o_live  integer := 0;
    o_bytes bigint := 0;
    n_open  integer := 0;
    n_live  integer := 0;
    n_bytes bigint := 0;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        o_bytes := COALESCE(OLD.original_size, 0);
        o_open := (OLD.video_type = 'LIVE' AND OLD.live_ended_at IS NULL)::int;
        o_live := OLD.is_live_now::int;
    END IF;

    IF TG_OP <> 'DELETE' THEN
        n_bytes := COALESCE(NEW.original_size, 0);
        n_open := (NEW.video_type = 'LIVE' AND NEW.live_ended_at IS NULL)::int;
        n_live := NEW.is_live_now::int;
    END IF;

    IF TG_OP = 'INSERT' THEN
        PERFORM account_use(NEW.account_id, 1, n_bytes, n_open, n_live,
                            NEW.video_type = 'LIVE'
                            OR NEW.source_url IS NOT NULL);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM account_use(OLD.account_id, -1, -o_bytes, -o_open, -o_live,
                            false);
    ELSIF OLD.account_id <> NEW.account_id THEN
        PERFORM account_use(OLD.account_id, -1, -o_bytes, -o_open, -o_live,
                            false);
        PERFORM account_use(NEW.account_id, 1, n_bytes, n_open, n_live,
                            false);
    ELSE
        -- only the growth of publishing streams is checked here
        PERFORM account_use(NEW.account_id, 0, n_bytes - o_bytes,
                            n_open - o_open, 0, false);
        PERFORM account_use(NEW.account_id, 0, 0, 0, n_live - o_live,
                            n_live > o_live);
    END IF;
    RETURN NULL;
END
$$;
