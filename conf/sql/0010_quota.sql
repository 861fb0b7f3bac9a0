-- Quotas: what each account uses, kept on its own row by triggers, so a
-- limit is checked and the use recorded in one row update.  An UPDATE
-- that waits for the row of a concurrent reservation re-reads the row and
-- re-checks its WHERE on the committed counts (READ COMMITTED's re-check
-- of an updated row), so two reservations that fit only one cannot both
-- pass.  A pending upload counts as a video of its size from presign
-- until it is completed (then the video counts) or swept after its URL
-- expired; a live stream counts as a video and, until it ends, as an open
-- stream.  A recording's size counts once stored, unchecked.  Runs in one
-- transaction with its schema_migrations row.

ALTER TABLE accounts
    ADD COLUMN used_videos  integer NOT NULL DEFAULT 0,
    ADD COLUMN used_bytes   bigint NOT NULL DEFAULT 0,
    -- live streams that have not ended (the limit at create)
    ADD COLUMN open_live    integer NOT NULL DEFAULT 0,
    -- live streams being published (the limit when a publisher connects)
    ADD COLUMN live_now     integer NOT NULL DEFAULT 0;

-- Every account's counts from what the tables hold: for this migration,
-- and after a TRUNCATE (which fires no row trigger).
CREATE FUNCTION account_recount() RETURNS void LANGUAGE sql AS $$
    UPDATE accounts a SET
        used_videos = (SELECT count(*) FROM videos v
                       WHERE v.account_id = a.id)
            + (SELECT count(*) FROM uploads u
               WHERE u.account_id = a.id AND u.completed_at IS NULL),
        used_bytes = (SELECT COALESCE(sum(v.original_size), 0) FROM videos v
                      WHERE v.account_id = a.id)
            + (SELECT COALESCE(sum(u.size), 0) FROM uploads u
               WHERE u.account_id = a.id AND u.completed_at IS NULL),
        open_live = (SELECT count(*) FROM videos v
                     WHERE v.account_id = a.id AND v.video_type = 'LIVE'
                       AND v.live_ended_at IS NULL),
        live_now = (SELECT count(*) FROM videos v
                    WHERE v.account_id = a.id AND v.is_live_now);
$$;

SELECT account_recount();

CREATE FUNCTION account_recount_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM account_recount();
    RETURN NULL;
END
$$;

CREATE TRIGGER videos_quota_truncate AFTER TRUNCATE ON videos
    FOR EACH STATEMENT EXECUTE FUNCTION account_recount_all();

CREATE TRIGGER uploads_quota_truncate AFTER TRUNCATE ON uploads
    FOR EACH STATEMENT EXECUTE FUNCTION account_recount_all();

-- Moves an account's counts by the deltas.  With check, a change that
-- would take a count past its limit (a limit lowered below what is used
-- refuses growth, never shrinking) changes nothing and raises SQLSTATE
-- VQ001 with the limit in its detail: a JSON array of one
-- {limit, max, used, requested, message}, as the API's details.
CREATE FUNCTION account_use(account varchar, d_videos integer, d_bytes bigint,
                            d_open integer, d_live integer, checked boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    a        accounts%ROWTYPE;
    lim      text;
    lim_max  bigint;
    used     bigint;
    asked    bigint;
    what     text;
BEGIN
    IF d_videos = 0 AND d_bytes = 0 AND d_open = 0 AND d_live = 0 THEN
        RETURN;
    END IF;

    FOR attempt IN 1 .. 3 LOOP
        UPDATE accounts SET used_videos = used_videos + d_videos,
            used_bytes = used_bytes + d_bytes,
            open_live = open_live + d_open, live_now = live_now + d_live
        WHERE id = account
          AND (NOT checked OR (
               (d_videos <= 0 OR max_videos IS NULL
                OR used_videos + d_videos <= max_videos)
           AND (d_bytes <= 0 OR max_bytes IS NULL
                OR used_bytes + d_bytes <= max_bytes)
           AND (d_open <= 0 OR max_live IS NULL
                OR open_live + d_open <= max_live)
           AND (d_live <= 0 OR max_live IS NULL
                OR live_now + d_live <= max_live)));

        IF FOUND THEN
            RETURN;
        END IF;

        SELECT * INTO a FROM accounts WHERE id = account;

        IF NOT FOUND THEN
            RETURN;
        END IF;

        IF d_videos > 0 AND a.used_videos + d_videos > a.max_videos THEN
            lim := 'maxVideos'; lim_max := a.max_videos; used := a.used_videos;
            asked := d_videos; what := 'videos';
        ELSIF d_bytes > 0 AND a.used_bytes + d_bytes > a.max_bytes THEN
            lim := 'maxBytes'; lim_max := a.max_bytes; used := a.used_bytes;
            asked := d_bytes; what := 'bytes';
        ELSIF d_open > 0 AND a.open_live + d_open > a.max_live THEN
            lim := 'maxLive'; lim_max := a.max_live; used := a.open_live;
            asked := d_open; what := 'open live streams';
        ELSIF d_live > 0 AND a.live_now + d_live > a.max_live THEN
            lim := 'maxLive'; lim_max := a.max_live; used := a.live_now;
            asked := d_live; what := 'live streams publishing';
        END IF;

        -- else a concurrent release made room since: try again
        IF lim IS NOT NULL THEN
            what := format('Account ''%s'' has %s of its %s %s;'
                           ' this needs %s more', account, used, lim_max,
                           what, asked);
            RAISE EXCEPTION USING ERRCODE = 'VQ001', MESSAGE = what,
                DETAIL = json_build_array(json_build_object(
                    'limit', lim, 'max', lim_max, 'used', used,
                    'requested', asked, 'message', what))::text;
        END IF;
    END LOOP;

    RAISE EXCEPTION USING ERRCODE = '40001',
        MESSAGE = format('Account ''%s'': limits changed concurrently',
                         account);
END
$$;

-- a pending upload holds its reservation until completed or swept
CREATE FUNCTION uploads_quota() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.completed_at IS NULL THEN
            PERFORM account_use(NEW.account_id, 1, NEW.size, 0, 0, true);
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF OLD.completed_at IS NULL THEN
            PERFORM account_use(OLD.account_id, -1, -OLD.size, 0, 0, false);
        END IF;
        IF NEW.completed_at IS NULL THEN
            PERFORM account_use(NEW.account_id, 1, NEW.size, 0, 0, true);
        END IF;
    ELSIF OLD.completed_at IS NULL THEN
        PERFORM account_use(OLD.account_id, -1, -OLD.size, 0, 0, false);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER uploads_quota AFTER INSERT OR DELETE ON uploads
    FOR EACH ROW EXECUTE FUNCTION uploads_quota();

CREATE TRIGGER uploads_quota_update AFTER UPDATE ON uploads
    FOR EACH ROW
    WHEN ((OLD.completed_at IS NULL) <> (NEW.completed_at IS NULL)
          OR OLD.size <> NEW.size OR OLD.account_id <> NEW.account_id)
    EXECUTE FUNCTION uploads_quota();

-- A video's share: one video, its original's bytes, and for a live stream
-- whether it is open and whether it is being published.  A live stream
-- created or a publisher accepted is checked; a video from a completed
-- upload was reserved at presign, so is not.
CREATE FUNCTION videos_quota() RETURNS trigger LANGUAGE plpgsql AS $$
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
                            NEW.video_type = 'LIVE');
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

CREATE TRIGGER videos_quota AFTER INSERT OR DELETE ON videos
    FOR EACH ROW EXECUTE FUNCTION videos_quota();

CREATE TRIGGER videos_quota_update AFTER UPDATE ON videos
    FOR EACH ROW
    WHEN (OLD.account_id <> NEW.account_id
          OR OLD.original_size IS DISTINCT FROM NEW.original_size
          OR OLD.is_live_now <> NEW.is_live_now
          OR (OLD.live_ended_at IS NULL) <> (NEW.live_ended_at IS NULL))
    EXECUTE FUNCTION videos_quota();
