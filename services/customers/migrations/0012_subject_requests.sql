-- The register of data-subject requests (Law 94-V arts. 8(7), 19, 19-1, 24, 25(2)(8)): every
-- request a customer files (or the privacy officer files for them), on the law's clock.
-- `due` is the N-th working day of Kazakhstan after the Almaty date of filing.
-- `detail` is the customer's own words, sealed under their data key: erasure shreds it too.
CREATE TABLE subject_requests (
    id          uuid PRIMARY KEY,
    customer_id uuid        NOT NULL REFERENCES customers (id),
    kind        text        NOT NULL CHECK (kind IN (
                    'block', 'unblock', 'erase', 'withdraw_consent', 'objection', 'access',
                    'rectification', 'transfer_notice')),
    status      text        NOT NULL CHECK (status IN (
                    'received', 'in_progress', 'deferred', 'completed', 'refused')),
    filed_at    timestamptz NOT NULL DEFAULT now(),
    due         date        NOT NULL,
    filed_by    text        NOT NULL,
    detail      bytea,
    reason      text,
    resolution  text,
    resolved_by text,
    resolved_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subject_requests_customer ON subject_requests (customer_id, filed_at);
CREATE INDEX subject_requests_open ON subject_requests (due, filed_at)
    WHERE status NOT IN ('completed', 'refused');

-- The account pages' earlier block and erase requests join the register, so none is lost.
-- SQL has no working-day calendar: their due is the next calendar day after the Almaty date
-- of filing, never later than the law's one working day, so the desk sees them in time.
INSERT INTO subject_requests (id, customer_id, kind, status, filed_at, due, filed_by)
SELECT id, customer_id, kind, 'received', requested_at,
       (requested_at AT TIME ZONE 'Asia/Almaty')::date + 1, 'customer:' || customer_id
  FROM web_account_requests
 WHERE status = 'received';
