-- Erasure (issue 9; Law 94-V art. 25(2)(8), deferral art. 8(2)): the progress of each erase
-- request of the register (subject_requests). Ids, codes, order references and times only.
--   deferred  accepted, the account closed, the data kept for an obligation still open
--             (reason: open_order, open_refund, or checking while orders does not answer);
--             re-checked at next_check_at (sooner when an order event nudges it)
--   shredded  the data key and the sealed fields destroyed, CustomerErased sent; waiting
--             for the other services' confirmations
--   completed every confirmation arrived (erasure_confirmations says which, when)
CREATE TABLE erasures (
    request_id    uuid PRIMARY KEY REFERENCES subject_requests (id),
    customer_id   uuid        NOT NULL UNIQUE REFERENCES customers (id),
    state         text        NOT NULL DEFAULT 'deferred'
                              CHECK (state IN ('deferred', 'shredded', 'completed')),
    reason        text        CHECK (reason IN ('open_order', 'open_refund', 'checking')),
    -- The references of the orders that defer it (what the customer is told), never PD.
    open_orders   text[]      NOT NULL DEFAULT '{}',
    next_check_at timestamptz,
    checks        integer     NOT NULL DEFAULT 0,
    shredded_at   timestamptz,
    completed_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX erasures_to_check ON erasures (next_check_at) WHERE state = 'deferred';

-- Which service confirmed that it removed the customer's id, when, and its counts.
CREATE TABLE erasure_confirmations (
    request_id   uuid        NOT NULL REFERENCES erasures (request_id),
    service      text        NOT NULL CHECK (service IN ('orders', 'notifications')),
    counts       jsonb       NOT NULL,
    confirmed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, service)
);
