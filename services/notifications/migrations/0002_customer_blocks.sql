-- Blocking (Law 94-V art. 1), as the customers service announces it: the latest state per
-- customer (CustomerBlocked / CustomerUnblocked, shared.blocking). An unblocked customer's
-- row stays with its version, so a late, older event never blocks again. Ids and times only.
-- While blocked, only mail owed for an open order is sent (the welcome mail and, once built,
-- marketing are skipped with reason "blocked").
CREATE TABLE customer_blocks (
    customer_id uuid PRIMARY KEY,
    blocked     boolean     NOT NULL,
    version     bigint      NOT NULL CHECK (version > 0),
    changed_at  timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
