-- Views rolled up from Redis by the analytics worker.  Runs in one
-- transaction with its schema_migrations row.

-- Views per video and UTC day; unique_viewers is the day's HyperLogLog
-- estimate (the client itself is never stored)
CREATE TABLE video_views_daily (
    video_id        varchar(21) NOT NULL
                    REFERENCES videos (id) ON DELETE CASCADE,
    day             date NOT NULL,
    views           bigint NOT NULL DEFAULT 0 CHECK (views >= 0),
    unique_viewers  bigint NOT NULL DEFAULT 0 CHECK (unique_viewers >= 0),
    PRIMARY KEY (video_id, day)
);

CREATE INDEX video_views_daily_day ON video_views_daily (day);

-- Every batch of views applied, so that a batch taken again after a
-- crash is not counted twice; rows older than a week are pruned
CREATE TABLE analytics_batches (
    batch       text PRIMARY KEY,
    views       bigint NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- The period the videos' views_today and views_month refer to:
-- "<day>:<generation>" and "<month>:<generation>" as in Redis
CREATE TABLE analytics_period (
    one    boolean PRIMARY KEY DEFAULT true CHECK (one),
    day    text NOT NULL,
    month  text NOT NULL
);

INSERT INTO analytics_period (day, month) VALUES ('', '');
