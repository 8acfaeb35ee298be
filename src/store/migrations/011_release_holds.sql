-- What people said about a running release (src/deploy/control/board.ts): paused and by whom, the
-- approvals granted (`<wave>:<pause index>` -> who promoted), and each timed pause's end
-- (`<wave>:<pause index>/<target>` -> epoch ms). Kept so that a restarted daemon resumes a release
-- that waited, still paused, its approvals counted, its timers where they were, rather than roll
-- it back. One row per release; removed when the release ends.
CREATE TABLE release_holds (
  release_id TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  paused_by TEXT,
  granted TEXT NOT NULL DEFAULT '{}',
  timers TEXT NOT NULL DEFAULT '{}',
  updated_at TEXT NOT NULL
);
