-- Access control: accounts, their API keys (stored only as SHA-256), the
-- audit log of who managed them, and the account every video belongs to.
-- Runs in one transaction with its schema_migrations row.

CREATE TYPE api_role AS ENUM ('viewer', 'editor', 'admin');

CREATE TABLE accounts (
    id            varchar(21) PRIMARY KEY
                  CHECK (id ~ '^[A-Za-z0-9_-]{1,21}$'),
    name          varchar(255) NOT NULL CHECK (name <> ''),
    -- limits; NULL: none
    max_bytes     bigint CHECK (max_bytes >= 0),
    max_videos    integer CHECK (max_videos >= 0),
    max_live      integer CHECK (max_live >= 0),
    -- a disabled account's keys are refused and its play tokens dead
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- what existed before accounts belongs to this one
INSERT INTO accounts (id, name) VALUES ('default', 'Default account');

CREATE TABLE api_keys (
    id            varchar(21) PRIMARY KEY
                  CHECK (id ~ '^[A-Za-z0-9_-]{21}$'),
    account_id    varchar(21) NOT NULL REFERENCES accounts (id),
    role          api_role NOT NULL,
    name          varchar(255) NOT NULL DEFAULT '',
    -- SHA-256 of the whole key; the key itself is shown once, never kept
    key_hash      bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    -- "vapi_" and the first 4 characters of its secret, to tell keys apart
    hint          varchar(16) NOT NULL,
    -- the key that made this one; NULL: the command line
    created_by    varchar(21) REFERENCES api_keys (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);

CREATE INDEX api_keys_account ON api_keys (account_id, created_at DESC);

-- Who did what to keys and accounts, when and from where.
CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    -- the key that acted, or NULL with actor 'cli:<user>'
    actor_key_id  varchar(21),
    actor         text NOT NULL,
    -- the account acted upon
    account_id    varchar(21),
    action        text NOT NULL,
    target        text,
    -- the client's address, or 'cli'
    source        text NOT NULL,
    detail        jsonb
);

CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);

ALTER TABLE videos
    ADD COLUMN account_id  varchar(21) NOT NULL DEFAULT 'default'
                           REFERENCES accounts (id),
    -- play tokens carry it: bumping it (PUBLIC → PRIVATE, deletion, the
    -- account disabled) kills every token minted before
    ADD COLUMN token_gen   integer NOT NULL DEFAULT 0;

CREATE INDEX videos_account_created
    ON videos (account_id, created_at DESC, id DESC);

-- The caller behind a key hash: its id, account and role, while the key
-- is neither revoked nor expired and its account not disabled.  Notes the
-- use at most once a minute, in the lookup the module makes anyway.
CREATE FUNCTION api_key_resolve(h bytea)
RETURNS TABLE (key_id varchar, account_id varchar, role api_role,
               expires_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT k.id, k.account_id, k.role, k.expires_at
    FROM api_keys k JOIN accounts a ON a.id = k.account_id
    WHERE k.key_hash = h AND k.revoked_at IS NULL
      AND (k.expires_at IS NULL OR k.expires_at > now())
      AND a.disabled_at IS NULL;

    IF FOUND THEN
        UPDATE api_keys SET last_used_at = now()
        WHERE key_hash = h
          AND (last_used_at IS NULL
               OR last_used_at < now() - interval '1 minute');
    END IF;
END
$$;
