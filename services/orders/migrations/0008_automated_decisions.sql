-- Automated decisions about a customer (Law 94-V art. 19-1): today the checkout velocity
-- refusal (policy 5.6). Each is kept so the privacy officer can review an objection to it:
-- which limit, the count against it, when. No personal data: not the client's network, not
-- the cart; the customer id only while the customer exists (erasure deletes the rows).
CREATE TABLE automated_decisions (
    id            uuid PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('checkout_velocity')),
    customer_id   uuid        NOT NULL,
    -- The hashed (customer, Idempotency-Key) of the refused checkout: a retry of the same
    -- request is the same decision, not a new one.
    attempt       text        NOT NULL UNIQUE,
    rule          text        NOT NULL CHECK (rule IN ('account', 'network')),
    attempts      integer     NOT NULL CHECK (attempts > 0),
    limit_per_min integer     NOT NULL CHECK (limit_per_min > 0),
    retry_after_s integer     NOT NULL CHECK (retry_after_s > 0),
    decided_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX automated_decisions_customer ON automated_decisions (customer_id);
CREATE INDEX automated_decisions_decided ON automated_decisions (decided_at);
