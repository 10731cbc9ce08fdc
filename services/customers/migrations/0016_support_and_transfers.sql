-- Support's contact lookups, transfers abroad and notices of transfers (issue 9).
-- No personal data here: countries, reason codes, ids.

-- Every release says where its recipient is (Law 94-V art. 16) and, for a support lookup,
-- the reason the staff member gave (a code from a closed list, never free text). Adding
-- columns changes no row: the register stays append-only.
ALTER TABLE disclosures
    ADD COLUMN country text NOT NULL DEFAULT 'KZ' CHECK (country ~ '^[A-Z]{2}$'),
    ADD COLUMN reason  text CHECK (reason ~ '^[a-z_]{1,40}$');

-- The consent to transfers abroad: a separate, explicit choice, append-only as the others.
ALTER TABLE consents DROP CONSTRAINT consents_kind_check;
ALTER TABLE consents ADD CONSTRAINT consents_kind_check
    CHECK (kind IN ('pd_processing', 'marketing_email', 'marketing_sms', 'cross_border'));

-- A release to a recipient the customer's consent did not name (Law 94-V art. 19(1)): the
-- transfer_notice request filed for it, once per customer and recipient.
CREATE TABLE transfer_notices (
    customer_id      uuid        NOT NULL REFERENCES customers (id),
    recipient_kind   text        NOT NULL,
    recipient        text        NOT NULL,
    country          text        NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    request_id       uuid        NOT NULL,
    first_release_id uuid        NOT NULL,
    filed_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, recipient_kind, recipient)
);
