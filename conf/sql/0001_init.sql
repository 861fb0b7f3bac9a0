-- Enum types shared by the API's tables. Their labels are the exact strings
-- the API sends and accepts, so the C code can pass them through unchanged.
-- scripts/stack.sh migrate runs this file in one transaction with its
-- schema_migrations row: no BEGIN/COMMIT here.

CREATE TYPE video_status AS ENUM ('PENDING', 'PROCESSING', 'READY', 'FAILED', 'LIVE');

CREATE TYPE video_visibility AS ENUM ('PUBLIC', 'UNLISTED', 'PRIVATE');

CREATE TYPE video_type AS ENUM ('VOD', 'LIVE');
