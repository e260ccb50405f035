-- Second factors: one TOTP authenticator per user (RFC 6238) and its one-time recovery codes.
-- The TOTP secret is sealed by the caller (AES-256-GCM under the data key); recovery codes are
-- kept only as keyed hashes. last_step is the newest 30-second step a code was accepted for, so a
-- code is never accepted twice (RFC 6238 §5.2).

CREATE TABLE mfa_totp (
  user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret_sealed TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  confirmed_at  BIGINT,
  last_step     BIGINT
);

CREATE TABLE mfa_recovery_codes (
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  used_at    BIGINT,
  PRIMARY KEY (user_id, code_hash)
);
