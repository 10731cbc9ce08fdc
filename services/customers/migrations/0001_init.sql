-- The customers service: identity, the PD vault, consents, policy versions, releases, audit.
-- Plaintext personal data is in no column of any table here.

-- Rows of evidence (consents, disclosures, audit) are never changed or deleted.
CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME;
END;
$$;

CREATE TABLE policy_versions (
    version        text PRIMARY KEY,
    effective_date date        NOT NULL,
    sha256         text        NOT NULL,
    text_ru        text        NOT NULL,
    text_kk        text        NOT NULL,
    published_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    id             uuid PRIMARY KEY,
    status         text        NOT NULL DEFAULT 'active'
                               CHECK (status IN ('active', 'blocked', 'erased')),
    locale         text        NOT NULL CHECK (locale IN ('ru', 'kk', 'en')),
    password_hash  text,
    -- HMAC-SHA256 blind indexes of the normalised email and E.164 phone (login, uniqueness).
    email_index    bytea UNIQUE,
    phone_index    bytea UNIQUE,
    policy_version text        NOT NULL REFERENCES policy_versions (version),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Each customer's data key, AES-GCM wrapped by the master key. Deleting the row shreds the PD.
CREATE TABLE customer_keys (
    customer_id uuid PRIMARY KEY REFERENCES customers (id),
    wrapped_key bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per PD field, AES-GCM under the customer's data key (associated data: id + field).
CREATE TABLE customer_pd (
    customer_id uuid        NOT NULL REFERENCES customers (id),
    field       text        NOT NULL CHECK (field IN ('last_name', 'first_name', 'patronymic',
                                                      'phone', 'email', 'delivery_address')),
    ciphertext  bytea       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, field)
);

-- Consents, append-only: the processing consent (Art. 8(4) record) and marketing per channel.
CREATE TABLE consents (
    id             bigserial PRIMARY KEY,
    customer_id    uuid        NOT NULL REFERENCES customers (id),
    kind           text        NOT NULL
                               CHECK (kind IN ('pd_processing', 'marketing_email', 'marketing_sms')),
    granted        boolean     NOT NULL,
    policy_version text        NOT NULL REFERENCES policy_versions (version),
    record         jsonb       NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consents_customer ON consents (customer_id, kind, id);
CREATE TRIGGER consents_append_only BEFORE UPDATE OR DELETE ON consents
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- The disclosure register: every release of PD outside the service.
CREATE TABLE disclosures (
    release_id  uuid PRIMARY KEY,
    customer_id uuid        NOT NULL REFERENCES customers (id),
    recipient   text        NOT NULL,
    purpose     text        NOT NULL,
    fields      text[]      NOT NULL,
    order_ref   text,
    legal_basis text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disclosures_customer ON disclosures (customer_id, at);
CREATE TRIGGER disclosures_append_only BEFORE UPDATE OR DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Every use of PD (read, write, release), hash-chained: each row hashes the previous one.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    customer_id uuid        NOT NULL,
    purpose     text        NOT NULL,
    fields      text[]      NOT NULL,
    prev_hash   bytea       NOT NULL,
    hash        bytea       NOT NULL UNIQUE
);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Staff accounts. An employee's email is PD too: only its blind index is kept.
CREATE TABLE staff (
    id            uuid PRIMARY KEY,
    email_index   bytea       NOT NULL UNIQUE,
    password_hash text        NOT NULL,
    roles         text[]      NOT NULL CHECK (cardinality(roles) > 0 AND roles <@ ARRAY[
                      'catalog_manager', 'marketer', 'privacy_officer', 'support', 'analyst']),
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);
