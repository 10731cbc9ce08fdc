-- A line bought under one of the catalog's promotions keeps the price without it and the
-- promotion's id beside its unit price (NULL: bought at the regular price), so the order
-- shows the saving after the promotion is over.
ALTER TABLE order_lines
    ADD COLUMN regular_price bigint,
    ADD COLUMN promotion_id  uuid,
    ADD CONSTRAINT order_lines_regular_price CHECK (regular_price > unit_price);
