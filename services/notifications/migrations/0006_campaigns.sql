-- Issue 10: marketing campaigns for promotions. A campaign holds the promotion's public facts
-- (name, discount, dates, a few product names and prices) and its progress; nothing about a
-- person but the staff member who created it. Its recipients are rows of the delivery log.
CREATE TABLE campaigns (
    id            uuid        PRIMARY KEY,
    promotion_id  uuid        NOT NULL,
    channel       text        NOT NULL CHECK (channel IN ('email', 'sms')),
    status        text        NOT NULL
        CHECK (status IN ('scheduled', 'running', 'paused', 'completed', 'cancelled')),
    scheduled_at  timestamptz NOT NULL,
    created_by    uuid        NOT NULL,  -- the staff member's id
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- The promotion as the catalog described it at creation: public facts only.
    promotion     jsonb       NOT NULL,
    -- How many customers the customers service would release when the campaign started.
    audience      integer     CHECK (audience >= 0),
    sent          integer     NOT NULL DEFAULT 0 CHECK (sent >= 0),
    failed        jsonb       NOT NULL DEFAULT '{}',  -- reason code -> count
    skipped       jsonb       NOT NULL DEFAULT '{}',  -- reason code -> count
    -- The last customer id of the contact batches done (customers' keyset order).
    after_customer uuid,
    -- Not before this time (quiet hours of SMS, a mail server away), and why.
    held_until    timestamptz,
    held_for      text,
    -- One runner at a time: the replica holding the lease, until when.
    lease_owner   uuid,
    lease_until   timestamptz,
    started_at    timestamptz,
    finished_at   timestamptz,
    ended_reason  text
);
CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE status IN ('scheduled', 'running');

-- A recipient is claimed (status 'sending') in its own transaction before the message goes,
-- and settled (sent, failed) after: a person is never sent one campaign twice, even across a
-- restart (a claim found unsettled is counted failed, never sent again).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('sending', 'sent', 'failed', 'skipped'));
CREATE UNIQUE INDEX deliveries_campaign_once ON deliveries (campaign_id, customer_id)
    WHERE campaign_id IS NOT NULL;
-- Once per (kind, customer, order) holds for the transactional mails, and a campaign's are
-- once per (campaign, customer) above: deliveries_sent_once leaves campaign rows out since
-- 0008, which landed before this file (a database may have applied 0008 first).
-- Counts by reason ({"blocked": 2}) added key by key.
CREATE FUNCTION campaign_counts_add(a jsonb, b jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(key, total), '{}'::jsonb)
    FROM (SELECT key, sum(value::int) AS total
          FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) AS e
          GROUP BY key) AS s
$$;
