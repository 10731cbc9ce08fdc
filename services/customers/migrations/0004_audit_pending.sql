-- Reads and writes of PD append their audit rows here without waiting for one another; the
-- audit chainer (a background task of the service) seals them, in id order and in batches,
-- into audit_log's hash chain. So no request ever holds the chain's lock, and a row is
-- tamper-evident from the moment it is chained (normally within a second).
CREATE TABLE audit_pending (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    customer_id uuid        NOT NULL,
    purpose     text        NOT NULL,
    fields      text[]      NOT NULL
);
CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
