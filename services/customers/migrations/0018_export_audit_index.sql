-- The export's audit trail reads one customer's rows of the whole shop's audit log: without
-- an index that is a sequential scan of every customer's rows (75-110 ms at 500 000 rows,
-- bench.customer_export), growing with the shop. audit_pending stays without one: it holds
-- seconds of rows and takes every read's insert.
CREATE INDEX audit_log_customer ON audit_log (customer_id, id);
