-- Idempotency keys: the first answer to a POST that created something,
-- kept for replays of that request (README: "Retries").  A row is
-- inserted (the claim) in the transaction that creates the thing and is
-- given its answer before that transaction commits: a concurrent retry's
-- claim waits for the row's transaction, then finds the answer (or, if
-- it rolled back, claims the key itself); a crash leaves neither the
-- thing nor the row.  The row's expiry is set by the module
-- (video_api_idempotency_ttl); an expired row is claimed again in place,
-- and the cleanup worker deletes expired rows.  Runs in one transaction
-- with its schema_migrations row.

CREATE TABLE idempotency_keys (
    -- who asked: 'key:<API key id>', or 'open:<account id>' where
    -- video_api_auth is off and no key was sent
    scope         text NOT NULL,
    -- the route: 'POST /api/upload/presign'
    route         text NOT NULL,
    -- SHA-256 of the Idempotency-Key: the key itself is not kept, it
    -- opens the sealed answer
    key_hash      bytea NOT NULL,
    -- SHA-256 of the method, the path and the body
    request_hash  bytea NOT NULL,
    -- the answer's status; 0 only inside the claiming transaction
    status        smallint NOT NULL DEFAULT 0,
    -- the answer's body, sealed (AES-256-GCM: nonce, ciphertext, tag)
    answer        bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (scope, route, key_hash)
);

CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
