-- SCIM 2.0 provisioning (RFC 7643/7644): one bearer token per organization (a keyed hash, like API
-- keys) with the org's group → role map, the users an IdP provisioned (the SCIM resource and the
-- account it stands for), and the IdP's groups with their members. Ids only: personal data stays
-- in users, apart from the attributes the IdP sent, kept to answer with them (RFC 7644 §3.3).

CREATE TABLE scim_configs (
  org_id           TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
  token_hash       TEXT UNIQUE,
  token_created_at INTEGER,
  token_created_by TEXT,
  group_roles      TEXT NOT NULL
);

CREATE TABLE scim_users (
  id               TEXT PRIMARY KEY,
  org_id           TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  user_name        TEXT NOT NULL,
  user_name_key    TEXT NOT NULL,
  external_id      TEXT,
  active           INTEGER NOT NULL,
  disabled_account INTEGER NOT NULL,
  attributes       TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  UNIQUE (org_id, user_name_key),
  UNIQUE (org_id, user_id)
);

CREATE TABLE scim_groups (
  id               TEXT PRIMARY KEY,
  org_id           TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  display_name     TEXT NOT NULL,
  display_name_key TEXT NOT NULL,
  external_id      TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  UNIQUE (org_id, display_name_key)
);

CREATE TABLE scim_group_members (
  group_id     TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
  scim_user_id TEXT NOT NULL REFERENCES scim_users (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, scim_user_id)
);
CREATE INDEX scim_group_members_user ON scim_group_members (scim_user_id);
