-- Chunk jobs (README: "Transcoding in chunks").  A job in the outbox has
-- a priority, the AMQP message's: the relay publishes it with it, and the
-- chunk queue takes priorities, so the first chunks of a new video pass
-- the later chunks of a long one.  What a chunk's run needs of the
-- original's probe is kept with the video's chunk state.  Runs in one
-- transaction with its schema_migrations row.

ALTER TABLE outbox
    ADD COLUMN priority smallint NOT NULL DEFAULT 0
               CHECK (priority BETWEEN 0 AND 9);

ALTER TABLE video_hls
    -- the picture as shown, after the turn
    ADD COLUMN width     integer NOT NULL DEFAULT 0,
    ADD COLUMN height    integer NOT NULL DEFAULT 0,
    -- the clockwise turn the original's display matrix gives
    ADD COLUMN rotation  smallint NOT NULL DEFAULT 0
                         CHECK (rotation IN (0, 90, 180, 270)),
    ADD COLUMN hdr       boolean NOT NULL DEFAULT false,
    ADD COLUMN fps       double precision NOT NULL DEFAULT 0,
    ADD COLUMN duration  double precision NOT NULL DEFAULT 0,
    -- the thumbnail's time; the chunk whose piece holds it makes it
    ADD COLUMN thumb_at  double precision NOT NULL DEFAULT 0;
