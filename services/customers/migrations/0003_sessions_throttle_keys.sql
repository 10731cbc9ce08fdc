-- Identity hardening (issue 3): login throttling, refresh sessions, master-key versions,
-- policy publication by the privacy officer.

-- Failed sign-ins per account (blind index of the login tried) and per client network
-- (IPv4 /24, IPv6 /48: a full address is never stored). Shared by every replica.
CREATE TABLE login_throttle (
    scope        text        NOT NULL CHECK (scope IN ('account', 'network', 'password')),
    key          bytea       NOT NULL,
    failures     integer     NOT NULL DEFAULT 0,
    window_start timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    PRIMARY KEY (scope, key)
);

-- Refresh sessions: only the SHA-256 of the opaque cookie token is kept. A rotated token
-- (rotated_at set) presented again revokes its whole family.
CREATE TABLE refresh_sessions (
    token_hash  bytea PRIMARY KEY,
    family_id   uuid        NOT NULL,
    customer_id uuid        NOT NULL REFERENCES customers (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_sessions_family ON refresh_sessions (family_id);
CREATE INDEX refresh_sessions_customer ON refresh_sessions (customer_id);

-- Which master key wraps each data key (rotation re-wraps row by row, resumably).
CREATE TABLE master_keys (
    version     integer PRIMARY KEY,
    fingerprint bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE customer_keys ADD COLUMN key_version integer NOT NULL DEFAULT 1;

-- Policy versions published through the API: who published, and the kk text's own hash.
ALTER TABLE policy_versions ADD COLUMN sha256_kk text;
ALTER TABLE policy_versions ADD COLUMN published_by uuid;
UPDATE policy_versions SET sha256_kk = encode(sha256(convert_to(text_kk, 'UTF8')), 'hex');
ALTER TABLE policy_versions ALTER COLUMN sha256_kk SET NOT NULL;
CREATE TRIGGER policy_versions_append_only BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
