-- Organizations, their resource tree, memberships, invitations, API keys, what each grant is for,
-- and the audit log. Records refer to users by id only (personal data lives in users).

CREATE TABLE orgs (
  id         TEXT PRIMARY KEY,
  slug       TEXT NOT NULL UNIQUE,
  name       TEXT NOT NULL,
  settings   TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE org_members (
  org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_user ON org_members (user_id);

CREATE TABLE org_resources (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  kind       TEXT NOT NULL CHECK (kind IN ('workspace', 'project', 'folder')),
  parent_id  TEXT REFERENCES org_resources (id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX org_resources_org ON org_resources (org_id);
CREATE INDEX org_resources_parent ON org_resources (parent_id);

CREATE TABLE resource_members (
  resource_id TEXT NOT NULL REFERENCES org_resources (id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role        TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'manager')),
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (resource_id, user_id)
);
CREATE INDEX resource_members_user ON resource_members (user_id);

CREATE TABLE invitations (
  id          TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  email       TEXT NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  invited_by  TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  accepted_at BIGINT,
  accepted_by TEXT,
  revoked_at  BIGINT
);
CREATE INDEX invitations_org ON invitations (org_id);

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id      TEXT NOT NULL,
  name         TEXT NOT NULL,
  prefix       TEXT NOT NULL,
  hash         TEXT NOT NULL UNIQUE,
  applications TEXT,
  resources    TEXT,
  permissions  TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT,
  revoked_at   BIGINT,
  revoked_by   TEXT,
  last_used_at BIGINT,
  last_used_ip TEXT
);
CREATE INDEX api_keys_org ON api_keys (org_id);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE grant_contexts (
  grant_id     TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL,
  client_id    TEXT NOT NULL,
  org_id       TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at   BIGINT
);
CREATE INDEX grant_contexts_user ON grant_contexts (user_id);
CREATE INDEX grant_contexts_org ON grant_contexts (org_id);

CREATE TABLE audit_events (
  seq       BIGSERIAL PRIMARY KEY,
  at        BIGINT NOT NULL,
  org_id    TEXT,
  actor     TEXT,
  kind      TEXT NOT NULL,
  subject   TEXT,
  client_id TEXT,
  app       TEXT,
  tool      TEXT,
  decision  TEXT,
  reason    TEXT,
  details   TEXT,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX audit_events_org_at ON audit_events (org_id, at);

ALTER TABLE users ADD COLUMN deleted_at BIGINT;

-- The engine's sessions and grants, findable by account (sign out everywhere, connected apps).
ALTER TABLE oidc_records ADD COLUMN account_id TEXT;
CREATE INDEX oidc_records_account ON oidc_records (model, account_id) WHERE account_id IS NOT NULL;
