-- The connection doctor (audit/doctor/): what each OAuth client did while connecting — metadata
-- fetched, registered, reached /authorize, redeemed a code, refreshed, called the gateway, was
-- refused. Diagnostic, not evidence: no hash chain, a short retention (housekeeping deletes rows
-- older than 7 days and keeps at most a fixed number per client). Never a token or a secret:
-- detail holds parameters' shapes (redirect URI, scopes, resource, whether PKCE was used).

CREATE TABLE connection_events (
  id        BIGSERIAL PRIMARY KEY,
  at        BIGINT NOT NULL,
  client_id TEXT,
  user_id   TEXT,
  kind      TEXT NOT NULL,
  ok        INTEGER NOT NULL,
  detail    TEXT
);

CREATE INDEX connection_events_client ON connection_events (client_id, at);
CREATE INDEX connection_events_user ON connection_events (user_id, at);
CREATE INDEX connection_events_at ON connection_events (at);
