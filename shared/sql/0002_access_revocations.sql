-- Revoked access (issue 8): every service keeps the customers service's AccessRevoked events
-- until the last token they end would have expired. Ids and times only. An insert notifies
-- every replica listening on this database ('access_revoked'), so each refuses at once.
CREATE TABLE access_revocations (
    id          bigserial PRIMARY KEY,
    customer_id uuid        NOT NULL,
    session_id  uuid,        -- NULL: every token of the customer issued up to revoked_at
    revoked_at  timestamptz NOT NULL,
    keep_until  timestamptz NOT NULL
);
CREATE INDEX access_revocations_keep_until ON access_revocations (keep_until);
-- The same revocation twice (a replayed message) is kept once.
CREATE UNIQUE INDEX access_revocations_once ON access_revocations
    (customer_id, coalesce(session_id, '00000000-0000-0000-0000-000000000000'), revoked_at);

CREATE FUNCTION notify_access_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('access_revoked', json_build_object(
        'customer_id', NEW.customer_id, 'session_id', NEW.session_id,
        'revoked_at', extract(epoch FROM NEW.revoked_at),
        'keep_until', extract(epoch FROM NEW.keep_until))::text);
    RETURN NEW;
END $$;
CREATE TRIGGER access_revocations_notify AFTER INSERT ON access_revocations
    FOR EACH ROW EXECUTE FUNCTION notify_access_revoked();
