-- The account pages (services/customers/web): server-side sessions and recorded requests.
-- No personal data here: ids, hashes and times only.

-- A signed-in browser. The cookie holds 32 random bytes; only their SHA-256 is stored, so a
-- copy of this table does not let anyone sign in.
CREATE TABLE web_sessions (
    id_hash      bytea PRIMARY KEY,
    customer_id  uuid        NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX web_sessions_customer ON web_sessions (customer_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- Requests to block or delete an account made on the pages while self-service blocking and
-- erasure are not automated yet: the evidence of when the customer asked (Law 94-V art. 25).
CREATE TABLE web_account_requests (
    id           uuid PRIMARY KEY,
    customer_id  uuid        NOT NULL REFERENCES customers (id),
    kind         text        NOT NULL CHECK (kind IN ('block', 'erase')),
    status       text        NOT NULL DEFAULT 'received'
                             CHECK (status IN ('received', 'done', 'refused')),
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_account_requests_customer ON web_account_requests (customer_id, requested_at);
