-- Single sign-on connections an organization's owners manage (admin API, console), beside the
-- ones in the configuration file. `definition` is the connection as the owner gave it, without
-- its secrets (JSON); `secrets_sealed` holds clientSecret / privateKeyJwt sealed by the caller
-- (AES-256-GCM under the data key, bound to the connection id), never readable through the API.
-- Ids are unique across every organization (they are part of the redirect URI).

CREATE TABLE org_sso_connections (
  id             TEXT PRIMARY KEY,
  org_id         TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  definition     TEXT NOT NULL,
  secrets_sealed TEXT,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL
);
CREATE INDEX org_sso_connections_org ON org_sso_connections (org_id);

-- E-mail domains an organization claims. Any organization may ask for a domain (so nobody can
-- squat on it by asking first); only one may hold it verified — the partial unique index is what
-- decides a race between two verifications. verified_how: 'dns' (the TXT record was found) or
-- 'admin' (a server administrator vouched for it).

CREATE TABLE org_domains (
  domain       TEXT NOT NULL,
  org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  token        TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  verified_at  BIGINT,
  verified_by  TEXT,
  verified_how TEXT,
  PRIMARY KEY (domain, org_id)
);
CREATE UNIQUE INDEX org_domains_verified ON org_domains (domain) WHERE verified_at IS NOT NULL;
CREATE INDEX org_domains_org ON org_domains (org_id);
