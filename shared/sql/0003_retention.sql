-- Retention (issue 9, Law 94-V art. 12(2), 18, 25(2)(4)): every run of a retention rule in
-- this service's database, written by shared.retention. What kind of data, what was done to
-- it, the cutoff (rows older than it were taken) and how many: counts only, never a value,
-- an id or a key of what was destroyed.
CREATE TABLE retention_runs (
    id          bigserial PRIMARY KEY,
    kind        text        NOT NULL,
    action      text        NOT NULL
        CHECK (action IN ('delete', 'depersonalise', 'notice', 'erase')),
    cutoff      timestamptz NOT NULL,
    count       bigint      NOT NULL DEFAULT 0 CHECK (count >= 0),
    at          timestamptz NOT NULL DEFAULT now(),
    -- NULL while the run is under way (or if it stopped half-way: the count is what was done).
    finished_at timestamptz
);
CREATE INDEX retention_runs_kind_at ON retention_runs (kind, at DESC);
CREATE INDEX retention_runs_at ON retention_runs (at);
CREATE INDEX inbox_handled_at ON inbox (handled_at);
