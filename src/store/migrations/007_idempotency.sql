-- Idempotency keys of mutating API requests (src/store/idempotency.ts, src/api/idempotency.ts).
-- One row per (principal, method, path, key), identified by `id`, a SHA-256 over those four so the
-- key a client chose is never stored as given. `request_hash` is a SHA-256 over the request (query
-- and body bytes): the same key with another request is refused. While the first request runs,
-- `state` is in_flight and `owner` names the daemon run handling it (a row left in flight by an
-- earlier run was interrupted: its outcome is unknown). Once it succeeded, `status`, `content_type`
-- and `body` are what it answered, replayed to a retry; answers that hold a secret (a new token)
-- are not kept (`body` NULL, `withheld` 1). Rows older than 24 h are pruned.
CREATE TABLE idempotency_keys (
  id TEXT PRIMARY KEY,
  principal TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
  owner TEXT NOT NULL,
  status INTEGER,
  content_type TEXT,
  body TEXT,
  withheld INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
