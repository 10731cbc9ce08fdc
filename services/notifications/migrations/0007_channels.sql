-- Issue 10 (channels): what the SMS provider reported of a text, contacts refused for good,
-- and the unsubscribe links already used. Ids and codes only: never an address or a phone.

-- The provider's delivery report of an SMS (its callback): delivered or failed, and when.
ALTER TABLE deliveries ADD COLUMN report text CHECK (report IN ('delivered', 'failed'));
ALTER TABLE deliveries ADD COLUMN reported_at timestamptz;

-- A contact refused for good (a hard bounce, the provider's rejection or failed report): the
-- campaign runner skips it until the customers service, which holds the contact, has taken
-- the ContactSuppressed event in; kept briefly (retention 'suppressions').
CREATE TABLE suppressions (
    customer_id uuid        NOT NULL,
    channel     text        NOT NULL CHECK (channel IN ('email', 'sms')),
    reason      text        NOT NULL CHECK (reason IN ('hard_bounce', 'provider_rejected')),
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, channel)
);
CREATE INDEX suppressions_at ON suppressions (at);

-- One MarketingUnsubscribed per link (customer, channel, campaign): a second POST of the same
-- link publishes nothing new. Kept as long as a link works (retention 'unsubscribes').
CREATE TABLE unsubscribes (
    customer_id uuid        NOT NULL,
    channel     text        NOT NULL CHECK (channel IN ('email', 'sms')),
    campaign_id uuid,
    via         text        NOT NULL CHECK (via IN ('one_click', 'page', 'sms_stop')),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX unsubscribes_once ON unsubscribes
    (customer_id, channel, coalesce(campaign_id, '00000000-0000-0000-0000-000000000000'));
CREATE INDEX unsubscribes_at ON unsubscribes (at);
