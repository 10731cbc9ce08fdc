-- Issue 10: every transactional mail. Some kinds are sent once per customer and something
-- else than an order: the block's version (customer_blocked / customer_unblocked, "v3"), the
-- privacy policy's version (policy_published). That reference joins the sent-once key.
ALTER TABLE deliveries ADD COLUMN reference text;
DROP INDEX deliveries_sent_once;
CREATE UNIQUE INDEX deliveries_sent_once
    ON deliveries (kind, customer_id, coalesce(order_ref, ''), coalesce(reference, ''))
    WHERE status = 'sent';
