-- Drift (src/monitor/drift-checker.ts): per worker and target, the last comparison of what the
-- store says should run (desired) with what the edge reports (observed).
--   status     what the last pass could say: in_sync | drifted | pending (a release or rollback of
--              the worker is unfinished: no verdict) | unknown (nothing desired yet, or unreadable)
--   drifted    the last definite verdict (1 drifted, 0 in sync); drift.detected / drift.resolved
--              fire on its changes, so a pending or unreadable pass never fires them
--   kinds, detail, desired, observed, differences, signature: that verdict (JSON where plural);
--              names and types of bindings only, never a value
--   note       why the last pass gave no verdict (pending / unknown), else null
--   revert     what the last revert attempt of the current drift did, else null
--   since      when the current drift began, else null
CREATE TABLE drift (
  tenant TEXT NOT NULL, worker TEXT NOT NULL, target TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('in_sync', 'drifted', 'pending', 'unknown')),
  drifted INTEGER NOT NULL CHECK (drifted IN (0, 1)),
  kinds TEXT NOT NULL, detail TEXT NOT NULL, desired TEXT, observed TEXT, differences TEXT NOT NULL,
  signature TEXT, note TEXT, revert TEXT, since TEXT,
  checked_at TEXT NOT NULL, changed_at TEXT NOT NULL,
  PRIMARY KEY (tenant, worker, target)
);
