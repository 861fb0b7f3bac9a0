-- Signed webhooks (README: "Webhooks").  Events are written by triggers in
-- the transaction of the change that causes them (a change that rolls back
-- leaves none), each with a per-object sequence number; a delivery row per
-- subscribed endpoint is written with the event, and NOTIFY 'webhook'
-- wakes the delivery worker when the transaction commits.  Runs in one
-- transaction with its schema_migrations row.

CREATE TABLE webhook_endpoints (
    id                  varchar(21) PRIMARY KEY
                        CHECK (id ~ '^[A-Za-z0-9_-]{21}$'),
    account_id          varchar(21) NOT NULL REFERENCES accounts (id),
    -- in the normal form the module checked (src/lib/video_urlguard.c)
    url                 text NOT NULL
                        CHECK (char_length(url) BETWEEN 1 AND 2048),
    description         varchar(255) NOT NULL DEFAULT '',
    -- the event types sent; empty: all
    event_types         text[] NOT NULL DEFAULT '{}',
    enabled             boolean NOT NULL DEFAULT true,
    -- why the delivery worker disabled it (NULL when a caller did)
    disabled_reason     text,
    disabled_at         timestamptz,
    -- the signing secret, sealed under the installation's webhook key
    -- (src/lib/video_webhook.h); the secret is shown once, when made
    secret_sealed       text NOT NULL,
    -- the secret before the last rotation: deliveries are signed with
    -- both until previous_expires_at
    previous_sealed     text,
    previous_expires_at timestamptz,
    -- deliveries in a row that failed for good; a success resets it
    failed_deliveries   integer NOT NULL DEFAULT 0,
    created_by          varchar(21),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((previous_sealed IS NULL) = (previous_expires_at IS NULL))
);

CREATE INDEX webhook_endpoints_account
    ON webhook_endpoints (account_id, created_at DESC, id DESC);

-- the last sequence number given to each object's events
CREATE TABLE webhook_sequences (
    object_id  text PRIMARY KEY,
    seq        bigint NOT NULL
);

CREATE TABLE webhook_events (
    -- the order of writing; the feed orders by (txid, n): see
    -- webhook_feed()
    n            bigserial PRIMARY KEY,
    -- the webhook-id of every delivery of the event, retries included
    id           text NOT NULL UNIQUE,
    account_id   varchar(21) NOT NULL,
    type         text NOT NULL,
    -- the video (or endpoint) the event is about, and its number among
    -- that object's events: a receiver orders by it and drops stale ones
    object_id    text NOT NULL,
    sequence     bigint NOT NULL,
    -- a video event keeps the video's row as it was (its JSON, video_json(),
    -- is made when the event is read: building it in the trigger would
    -- cost every change of a video a fifth of a millisecond); any other
    -- event keeps its JSON.  Read both as e.data: data(webhook_events)
    -- below
    snapshot     videos,
    payload      json,
    CHECK ((snapshot IS NULL) <> (payload IS NULL)),
    -- a test event goes to this endpoint only
    endpoint_id  varchar(21),
    txid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX webhook_events_feed ON webhook_events (account_id, txid, n);
CREATE INDEX webhook_events_created ON webhook_events (created_at);

CREATE TYPE webhook_delivery_status AS ENUM
    ('pending', 'delivered', 'failed');

-- one event to one endpoint; a redelivery asked for is a new row
CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    event_n          bigint NOT NULL
                     REFERENCES webhook_events (n) ON DELETE CASCADE,
    endpoint_id      varchar(21) NOT NULL
                     REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status           webhook_delivery_status NOT NULL DEFAULT 'pending',
    attempts         integer NOT NULL DEFAULT 0,
    -- pending: due then
    next_attempt_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- a worker sending it holds it until then: one killed mid-delivery
    -- lets it go when this passes
    locked_until     timestamptz,
    last_status      integer,
    last_error       text,
    last_latency_ms  integer,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
-- the worker's claim: an endpoint's due deliveries, oldest first
CREATE INDEX webhook_deliveries_endpoint_due
    ON webhook_deliveries (endpoint_id, next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint
    ON webhook_deliveries (endpoint_id, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_n);

-- every attempt of a delivery, for the delivery log
CREATE TABLE webhook_attempts (
    id           bigserial PRIMARY KEY,
    delivery_id  bigint NOT NULL
                 REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    at           timestamptz NOT NULL,
    -- the receiver's answer; NULL: none (refused, timed out, no connection)
    status_code  integer,
    latency_ms   integer NOT NULL,
    error        text
);

CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- Writes an event and its deliveries (to the account's enabled endpoints
-- that want its type; to endpoint alone when given).  Its data: data, or
-- the video of snapshot.  Returns its id.
CREATE FUNCTION webhook_emit(account varchar, etype text, object text,
                             data json, endpoint varchar DEFAULT NULL,
                             snapshot videos DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s    bigint;
    eid  text;
    en   bigint;
BEGIN
    INSERT INTO webhook_sequences AS q (object_id, seq) VALUES (object, 1)
        ON CONFLICT (object_id) DO UPDATE SET seq = q.seq + 1
        RETURNING q.seq INTO s;

    eid := 'evt_' || replace(gen_random_uuid()::text, '-', '');

    INSERT INTO webhook_events (id, account_id, type, object_id, sequence,
                                snapshot, payload, endpoint_id)
        VALUES (eid, account, etype, object, s, snapshot, data, endpoint)
        RETURNING n INTO en;

    INSERT INTO webhook_deliveries (event_n, endpoint_id)
        SELECT en, e.id FROM webhook_endpoints e
        WHERE e.account_id = account AND e.enabled
          AND (endpoint IS NULL OR e.id = endpoint)
          AND (cardinality(e.event_types) = 0
               OR etype = ANY (e.event_types));

    IF FOUND THEN
        PERFORM pg_notify('webhook', '');
    END IF;

    RETURN eid;
END
$$;

-- an event about video v, keeping v as it is now
CREATE FUNCTION webhook_video(v videos, etype text) RETURNS text
LANGUAGE sql AS $$
    SELECT webhook_emit(v.account_id, etype, v.id, NULL, NULL, v)
$$;

-- The data of an event: its JSON, or its video's as video_json() shows it
-- to the owner, URLs left null (whoever sends or shows the event fills
-- them: video_webhook_video_urls()); the variants are the video's now
-- (none once it is deleted).  e.data calls it.
CREATE FUNCTION data(e webhook_events) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(e.payload, video_json(e.snapshot, NULL, NULL))
$$;

-- The events of a video's change.  The trigger runs only when a column
-- an event is about changed (its WHEN), so progress and view counts cost
-- nothing here.
CREATE FUNCTION videos_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER videos_webhook_insert AFTER INSERT ON videos
    FOR EACH ROW EXECUTE FUNCTION videos_webhook();

CREATE TRIGGER videos_webhook_update AFTER UPDATE ON videos
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.is_live_now IS DISTINCT FROM NEW.is_live_now
          OR OLD.fetched_at IS DISTINCT FROM NEW.fetched_at
          OR OLD.title IS DISTINCT FROM NEW.title
          OR OLD.description IS DISTINCT FROM NEW.description
          OR OLD.visibility IS DISTINCT FROM NEW.visibility)
    EXECUTE FUNCTION videos_webhook();

CREATE TRIGGER videos_webhook_delete AFTER DELETE ON videos
    FOR EACH ROW EXECUTE FUNCTION videos_webhook();

-- The events feed of an account after a cursor (txid, n): only events of
-- transactions older than every transaction still running, in the order
-- of (txid, n).  An event committed later always has a txid at or above
-- that horizon, so it sorts after every event already returned: a reader
-- that follows the cursor misses none and sees none twice.
CREATE FUNCTION webhook_feed(account varchar, after_txid xid8,
                             after_n bigint, lim integer)
RETURNS SETOF webhook_events LANGUAGE sql STABLE AS $$
    SELECT * FROM webhook_events e
    WHERE e.account_id = account
      AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
      AND (e.txid, e.n) > (after_txid, after_n)
    ORDER BY e.txid, e.n
    LIMIT lim
$$;
