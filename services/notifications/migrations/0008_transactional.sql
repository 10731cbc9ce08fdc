-- Issue 10: every transactional mail. Some kinds are sent once per customer and something
-- else than an order: the block's version (customer_blocked / customer_unblocked, "v3"), the
-- privacy policy's version (policy_published). That reference joins the sent-once key.
ALTER TABLE deliveries ADD COLUMN reference text;
DROP INDEX deliveries_sent_once;
CREATE UNIQUE INDEX deliveries_sent_once
    ON deliveries (kind, customer_id, coalesce(order_ref, ''), coalesce(reference, ''))
    WHERE status = 'sent' AND campaign_id IS NULL;
-- A campaign's sends (campaign_id set) are not held to it.
-- The new-policy notice (policy 5.8): one row per published version and its progress; the
-- recipients are rows of the delivery log (kind policy_published, reference the version),
-- and the walk resumes after the highest customer id logged for it (the index below).
CREATE TABLE policy_notices (
    version        text        PRIMARY KEY,
    notice_id      uuid        NOT NULL UNIQUE,  -- the reference customers' register names
    effective_date date        NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
CREATE INDEX deliveries_policy_progress ON deliveries (reference, customer_id)
    WHERE kind = 'policy_published';
