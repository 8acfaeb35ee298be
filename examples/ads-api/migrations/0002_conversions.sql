-- Conversions (orders attributed to a campaign), written by ads-conversions from the queue, and the
-- daily rollups its cron computes.
CREATE TABLE conversions (
  order_id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites (id),
  value_cents INTEGER NOT NULL,
  currency TEXT NOT NULL,
  campaign TEXT,
  received_at TEXT NOT NULL
);
CREATE TABLE rollups (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  conversions INTEGER NOT NULL,
  value_cents INTEGER NOT NULL,
  PRIMARY KEY (site_id, day)
);
