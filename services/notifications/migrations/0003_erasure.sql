-- Erasure (issue 9): a notification skipped because the customer is unknown or erased is
-- logged without a customer id (it names nobody); an erased customer's rows lose it (and the release id) on
-- customers.customer.erased (services/notifications/erasure.py).
ALTER TABLE deliveries ALTER COLUMN customer_id DROP NOT NULL;
