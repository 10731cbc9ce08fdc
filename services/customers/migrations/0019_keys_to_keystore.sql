-- The data keys and master-key versions live in the key store, a database of their own
-- (services/customers/keystore.py, keystore_migrations/), so a backup of this database holds
-- ciphertext only. `python -m services.customers migrate` moves an existing installation's
-- keys there before this runs (key_move.py); should any key still be here, this refuses
-- rather than lose it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM customer_keys) OR EXISTS (SELECT 1 FROM master_keys) THEN
        RAISE EXCEPTION 'data keys still here: "python -m services.customers migrate" moves them';
    END IF;
END
$$;
DROP TABLE customer_keys;
DROP TABLE master_keys;
