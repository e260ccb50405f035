-- The gateway: protected applications, the tool manifest of each, and bindings of gateway
-- sessions and upstream tasks to the caller that opened them.

CREATE TABLE applications (
  slug       TEXT PRIMARY KEY,
  definition TEXT NOT NULL,
  source     TEXT NOT NULL CHECK (source IN ('config', 'api', 'builtin')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE app_tools (
  app_slug      TEXT NOT NULL,
  name          TEXT NOT NULL,
  description   TEXT,
  annotations   TEXT,
  fingerprint   TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('approved', 'needs_review')),
  approved_fingerprint TEXT,
  first_seen_at INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  reviewed_at   INTEGER,
  reviewed_by   TEXT,
  PRIMARY KEY (app_slug, name)
);

CREATE TABLE gateway_bindings (
  kind       TEXT NOT NULL,
  app_slug   TEXT NOT NULL,
  key        TEXT NOT NULL,
  owner      TEXT NOT NULL,
  value      TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (kind, app_slug, key)
);
CREATE INDEX gateway_bindings_expires ON gateway_bindings (expires_at);
