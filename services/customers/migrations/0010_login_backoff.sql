-- Sign-in throttling without lock-out (issue 8): a growing delay per realm (customer sign-in,
-- staff sign-in, password change), account and client network, instead of a lock of the
-- account that anyone knowing a login could trigger. The account is the blind index of the
-- login tried (or a keyed hash, or the customer id for password changes); '' is a network's
-- own counter over all accounts. The network is an IPv4 /24 or IPv6 /48, never an address.
CREATE TABLE login_backoff (
    realm           text        NOT NULL CHECK (realm IN ('customer', 'staff', 'password')),
    account         bytea       NOT NULL,
    network         text        NOT NULL,
    failures        integer     NOT NULL,
    last_failure_at timestamptz NOT NULL,
    PRIMARY KEY (realm, account, network)
);
CREATE INDEX login_backoff_last_failure ON login_backoff (last_failure_at);

DROP TABLE login_throttle;
