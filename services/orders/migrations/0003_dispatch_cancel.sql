-- A dispatch can be cancelled: the customer cancelled the order before it was dispatched,
-- and the courier is told to drop it (DispatchCancelled on shop.dispatch).
ALTER TABLE dispatches DROP CONSTRAINT dispatches_status_check;
ALTER TABLE dispatches ADD CONSTRAINT dispatches_status_check
    CHECK (status IN ('requested', 'released', 'refused', 'delivered', 'failed', 'cancelled'));
-- When the courier was told to drop the dispatch (the first DispatchCancelled).
ALTER TABLE dispatches ADD COLUMN cancelled_at timestamptz;
