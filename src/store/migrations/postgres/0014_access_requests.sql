-- Requests for access a member makes from the consent page when their roles in an organization
-- allow none of an application's permissions (identity/access-requests.ts). An administrator
-- approves one — giving a workspace or project role (resource_id, role) — or refuses it; the member
-- sees the state on their account page. status: 'pending', 'approved' or 'refused'.
-- kind 'client': in an organization whose clients need an administrator's approval, a member asked
-- for a client the organization has not approved (identity/client-approvals.ts); approving it puts
-- the client on the organization's allow-list.
-- At most one pending request per person, organization, client and kind: the partial unique index is what
-- makes a double click (or two tabs) one request.

CREATE TABLE access_requests (
  id          TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind        TEXT NOT NULL,
  client_id   TEXT NOT NULL,
  client_name TEXT NOT NULL,
  application TEXT NOT NULL,
  status      TEXT NOT NULL,
  resource_id TEXT,
  role        TEXT,
  created_at  BIGINT NOT NULL,
  decided_at  BIGINT,
  decided_by  TEXT
);
CREATE UNIQUE INDEX access_requests_pending ON access_requests (org_id, user_id, client_id, kind) WHERE status = 'pending';
CREATE INDEX access_requests_org ON access_requests (org_id, created_at);
CREATE INDEX access_requests_user ON access_requests (user_id, created_at);

-- An invitation may carry a starting workspace or project role (identity/new-member-access.ts),
-- given when it is accepted; without one, the organization's "default access for new members".
ALTER TABLE invitations ADD COLUMN start_resource_id TEXT;
ALTER TABLE invitations ADD COLUMN start_role TEXT;
