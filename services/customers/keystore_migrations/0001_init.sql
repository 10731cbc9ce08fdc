-- The customers' key store: a database of its own, holding each customer's data key and
-- nothing else (no PD, no ciphertext of PD). Its backups are kept briefly (README), so a
-- key destroyed here (crypto-shredding) is gone from every copy once they expire, while the
-- customers database's backups, which hold only ciphertext, may be kept long.

-- Which master key wraps each data key (rotation re-wraps row by row, resumably).
CREATE TABLE master_keys (
    version     integer PRIMARY KEY,
    fingerprint bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Each customer's data key, AES-GCM wrapped by the master key (associated data: the
-- customer id). Deleting the row shreds the customer's PD. No foreign key: the customers
-- live in another database; a key whose customer never committed is an orphan that a chore
-- removes after a few minutes.
CREATE TABLE customer_keys (
    customer_id uuid PRIMARY KEY,
    wrapped_key bytea       NOT NULL,
    key_version integer     NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_keys_version ON customer_keys (key_version);
CREATE INDEX customer_keys_created ON customer_keys (created_at, customer_id);
