-- Single sign-on account links: which user an identity provider's subject (issuer + sub) is.
-- The issuer and sub pair is the only stable identifier OIDC gives (OpenID Connect Core §5.7).

CREATE TABLE sso_links (
  issuer        TEXT NOT NULL,
  subject       TEXT NOT NULL,
  connection_id TEXT NOT NULL,
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at    INTEGER NOT NULL,
  last_login_at INTEGER NOT NULL,
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX sso_links_user ON sso_links (user_id);

-- Which connection signed a browser session in (NULL: a password), as the session's `amr` says how.
ALTER TABLE sessions ADD COLUMN sso_connection TEXT;
