-- Core tables: protocol-engine artifacts, users, clients, signing keys, revocations,
-- one-time values and browser sessions. Times are epoch seconds.

CREATE TABLE oidc_records (
  model       TEXT NOT NULL,
  id          TEXT NOT NULL,
  payload     TEXT NOT NULL,
  grant_id    TEXT,
  user_code   TEXT,
  uid         TEXT,
  parent_id   TEXT,
  expires_at  BIGINT,
  consumed_at BIGINT,
  killed_at   BIGINT,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_records_grant ON oidc_records (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_records_uid ON oidc_records (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_records_user_code ON oidc_records (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_records_parent ON oidc_records (model, parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX oidc_records_expires ON oidc_records (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE users (
  id               TEXT PRIMARY KEY,
  email            TEXT NOT NULL,
  email_normalized TEXT NOT NULL UNIQUE,
  name             TEXT,
  password_hash    TEXT,
  is_admin         SMALLINT NOT NULL DEFAULT 0,
  created_at       BIGINT NOT NULL,
  disabled_at      BIGINT
);

CREATE TABLE clients (
  client_id    TEXT PRIMARY KEY,
  metadata     TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('static', 'dynamic')),
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT
);
CREATE INDEX clients_unused ON clients (created_at) WHERE kind = 'dynamic' AND last_used_at IS NULL;

CREATE TABLE signing_keys (
  kid                TEXT PRIMARY KEY,
  alg                TEXT NOT NULL,
  public_jwk         TEXT NOT NULL,
  private_jwk_sealed TEXT NOT NULL,
  created_at         BIGINT NOT NULL,
  retired_at         BIGINT
);

CREATE TABLE revocations (
  seq        BIGSERIAL PRIMARY KEY,
  kind       TEXT NOT NULL,
  id         TEXT NOT NULL,
  at         BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  UNIQUE (kind, id)
);

CREATE TABLE one_time (
  kind       TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (kind, key)
);

CREATE TABLE sessions (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  auth_time    BIGINT NOT NULL,
  amr          TEXT NOT NULL,
  ip           TEXT,
  user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
