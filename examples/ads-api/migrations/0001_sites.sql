-- The shops that embed the tracking snippet. `rate_per_min` caps tracking hits per site (the
-- RateLimiter Durable Object of that site enforces it).
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL UNIQUE,
  rate_per_min INTEGER NOT NULL DEFAULT 600,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO sites (id, domain, rate_per_min) VALUES ('demo-shop', 'demo-shop.myshopify.com', 600);
