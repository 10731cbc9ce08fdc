-- Issue 10: SMS beside email, marketing campaigns and every transactional kind.
-- The kinds of the delivery log are the code's (domain.Kind): a new template needs no
-- migration. A campaign's sends are rows of the log too, with their campaign and attempts.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_kind_check;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('email', 'sms'));
ALTER TABLE deliveries ADD COLUMN campaign_id uuid;
ALTER TABLE deliveries ADD COLUMN attempts integer NOT NULL DEFAULT 1 CHECK (attempts >= 1);
