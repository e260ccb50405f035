-- Leavers lose access at once (issue 13 §6): each account link may keep the identity provider's
-- credential that lets Portcullis ask, at every refresh a client makes, whether the account still
-- exists there — an OpenID provider's refresh token (offline_access), or a GitHub OAuth app's
-- access token (which does not expire). Sealed by the caller (AES-256-GCM under the data key,
-- bound to the link); NULL: nothing to re-check with (SAML, or a provider that issued none).
-- checked_at: when the account was last re-checked, so that every instance together asks the
-- provider at most once per link per interval.

ALTER TABLE sso_links ADD COLUMN credential_sealed TEXT;
ALTER TABLE sso_links ADD COLUMN checked_at INTEGER;
