-- Retention (issue 9): inactive accounts. When the customer last signed in or refreshed a
-- session (backfilled from the sessions still held), and when retention told them their
-- inactive account will be erased (services/customers/inactivity.py). Times only.
ALTER TABLE customers ADD COLUMN last_active_at timestamptz;
UPDATE customers c SET last_active_at = greatest(
    c.created_at,
    (SELECT max(r.created_at) FROM refresh_sessions r WHERE r.customer_id = c.id),
    (SELECT max(w.last_seen_at) FROM web_sessions w WHERE w.customer_id = c.id));
ALTER TABLE customers ALTER COLUMN last_active_at SET DEFAULT now();
ALTER TABLE customers ALTER COLUMN last_active_at SET NOT NULL;
ALTER TABLE customers ADD COLUMN inactivity_notice_at timestamptz;
CREATE INDEX customers_inactive ON customers (last_active_at) WHERE status = 'active';
CREATE INDEX customers_noticed ON customers (inactivity_notice_at)
    WHERE inactivity_notice_at IS NOT NULL;
