-- Retention (issue 9): the notice to an inactive account that it will be erased
-- (customers.customer.inactivity_notice) is a kind of the delivery log too.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_kind_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_kind_check CHECK (kind IN ('welcome',
    'order_dispatched', 'order_delivered', 'order_cancelled', 'inactivity_notice'));
