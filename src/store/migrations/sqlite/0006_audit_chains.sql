-- One hash chain per organization (chain = the organization's id; '' = server-wide events), so an
-- organization's records verify on their own. Records written before this migration (one chain for
-- everything) have chain NULL until the server re-chains them at start (audit/legacy-chain.ts),
-- which it does only after they verified as the old single chain.
ALTER TABLE audit_events ADD COLUMN chain TEXT;
CREATE INDEX audit_events_chain ON audit_events (chain, seq);
CREATE INDEX audit_events_org_seq ON audit_events (org_id, seq);
CREATE INDEX audit_events_subject ON audit_events (subject, seq);

-- Each chain's head (catches records cut off its end) and, once retention has cut its oldest
-- records, the checkpoint its verification starts from instead of the genesis.
CREATE TABLE audit_chains (
  chain           TEXT PRIMARY KEY,
  head            TEXT NOT NULL,
  head_seq        INTEGER NOT NULL,
  records         INTEGER NOT NULL,
  checkpoint_hash TEXT,
  checkpoint_seq  INTEGER,
  checkpoint_at   INTEGER
);
