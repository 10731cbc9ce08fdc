-- Blocking (Law 94-V art. 1: a temporary stop of processing), issue 9. `status` already has
-- 'blocked'; this adds when the block in force took effect (releases for orders placed before
-- it are open obligations, art. 8(2)) and a version counted up by every block and unblock,
-- carried by CustomerBlocked / CustomerUnblocked so other services keep the newest state
-- whatever order the events arrive in. Who asked and when is in subject_requests.
ALTER TABLE customers
    ADD COLUMN blocked_at    timestamptz,
    ADD COLUMN block_version bigint NOT NULL DEFAULT 0 CHECK (block_version >= 0);
