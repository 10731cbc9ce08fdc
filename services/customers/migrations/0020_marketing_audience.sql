-- Marketing audiences. A contact batch's release names the campaign or notice it was made for
-- (the reference; the purpose says which of the two), next to order_ref. Adding a nullable
-- column touches no row, so the register's append-only trigger is not involved.
ALTER TABLE disclosures ADD COLUMN reference uuid;

-- A contact the provider refused for good (a hard bounce, an SMS rejection): no marketing on
-- that channel until the customer changes that contact. No address here, only the channel.
CREATE TABLE contact_suppressions (
    customer_id   uuid        NOT NULL REFERENCES customers (id),
    channel       text        NOT NULL CHECK (channel IN ('email', 'sms')),
    reason        text        NOT NULL CHECK (reason IN ('hard_bounce', 'provider_rejected')),
    suppressed_at timestamptz NOT NULL,
    PRIMARY KEY (customer_id, channel)
);
