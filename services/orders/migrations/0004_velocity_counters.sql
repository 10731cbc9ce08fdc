-- Velocity counted in O(1): one counter per account or network and minute, plus the attempts
-- already counted (a hash of customer id and Idempotency-Key, so retries count once). The
-- row-per-attempt table it replaces made each checkout count every attempt of its network in
-- the minute: the busier the network, the dearer each checkout. Both are kept minutes only.
DROP TABLE checkout_velocity;

CREATE TABLE checkout_velocity (
    scope        text        NOT NULL CHECK (scope IN ('account', 'network')),
    subject      text        NOT NULL,
    window_start timestamptz NOT NULL,
    attempts     integer     NOT NULL CHECK (attempts > 0),
    PRIMARY KEY (scope, subject, window_start)
);

CREATE TABLE checkout_attempts (
    window_start timestamptz NOT NULL,
    attempt      text        NOT NULL,
    PRIMARY KEY (window_start, attempt)
);
