-- The privacy officer's desk: the breach register (Law 94-V art. 25(2)(8), 1(15-1); order
-- No. 481/НҚ of 09.08.2024) and legal disclosures to state bodies (art. 9).

-- A breach of the security of personal data: what happened, when it was detected, the
-- measures taken, and the notice to the authorised body (due 1 working day from detection).
-- description and measures are staff text: kept here for the register, never logged.
CREATE TABLE breaches (
    id             uuid PRIMARY KEY,
    description    text        NOT NULL,
    measures       text        NOT NULL DEFAULT '',
    detected_at    timestamptz NOT NULL,
    notice_due     date        NOT NULL,
    recorded_by    uuid        NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    notice_sent_at timestamptz,
    notice_sent_by uuid
);
-- The desk's order: notices not yet sent first, the earliest due first.
CREATE INDEX breaches_desk ON breaches ((notice_sent_at IS NOT NULL), notice_due, id);

-- Whom a breach touched. release_id: the release (purpose legal_request, recipient the
-- authorised body) of the subject's name and mobile number for the notice, made once, at
-- the first draft of the notice, and recorded in the subject's disclosure register.
CREATE TABLE breach_subjects (
    breach_id   uuid NOT NULL REFERENCES breaches (id),
    customer_id uuid NOT NULL REFERENCES customers (id),
    release_id  uuid REFERENCES disclosures (release_id),
    PRIMARY KEY (breach_id, customer_id)
);
CREATE INDEX breach_subjects_customer ON breach_subjects (customer_id);

-- A release to a state body without the subject's consent (art. 9): which body, on which
-- basis, which fields. The register row itself is in disclosures (release_id); confidential
-- ones (the law forbids telling the subject: confidentiality_ref names that law) are left
-- out of the subject's own view of the register.
CREATE TABLE legal_disclosures (
    id                uuid PRIMARY KEY,
    release_id        uuid        NOT NULL UNIQUE REFERENCES disclosures (release_id),
    customer_id       uuid        NOT NULL REFERENCES customers (id),
    authority         text        NOT NULL,
    basis             text        NOT NULL,
    fields            text[]      NOT NULL,
    confidential      boolean     NOT NULL,
    confidentiality_ref text,
    disclosed_by      uuid        NOT NULL,
    at                timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT confidential OR confidentiality_ref IS NOT NULL)
);
CREATE INDEX legal_disclosures_desk ON legal_disclosures (at DESC, id DESC);
CREATE INDEX legal_disclosures_customer ON legal_disclosures (customer_id);
CREATE TRIGGER legal_disclosures_append_only BEFORE UPDATE OR DELETE ON legal_disclosures
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
