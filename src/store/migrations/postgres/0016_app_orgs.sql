-- An application may belong to an organization (issue 14): that organization's owners and admins
-- then manage it through /orgs/:org/applications and the console, as server administrators manage
-- every application. NULL is server-wide (only server administrators). Ownership decides who
-- manages the definition, never who may call it at the gateway (tokens and policy decide that).
-- An organization that is deleted leaves its applications to the server administrators (SET NULL)
-- rather than deleting MCP servers people may still be calling.

ALTER TABLE applications ADD COLUMN org_id TEXT REFERENCES orgs (id) ON DELETE SET NULL;
CREATE INDEX applications_org_id ON applications (org_id);
