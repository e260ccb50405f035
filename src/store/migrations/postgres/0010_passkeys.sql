-- Passkeys (WebAuthn Level 3 public-key credentials): a person may register several. The
-- credential ID is unique across every account (WebAuthn §7.1 step 25: refuse a credential ID
-- registered already). counter is the newest signature counter seen, so a cloned authenticator
-- whose counter goes backwards is refused (§7.2 step 22). transports is a JSON array.

CREATE TABLE passkeys (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key   TEXT NOT NULL,
  counter      BIGINT NOT NULL,
  transports   TEXT NOT NULL,
  backed_up    INTEGER NOT NULL,
  name         TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT
);

CREATE INDEX passkeys_user ON passkeys (user_id);
