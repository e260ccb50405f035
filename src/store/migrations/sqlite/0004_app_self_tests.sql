-- The last self-test of each application (apps/self-test.ts): whether it passed, against which
-- definition (a hash, so a changed definition needs a new test) and URL, and each check's outcome.

CREATE TABLE app_self_tests (
  app_slug        TEXT PRIMARY KEY,
  ran_at          INTEGER NOT NULL,
  passed          INTEGER NOT NULL CHECK (passed IN (0, 1)),
  definition_hash TEXT NOT NULL,
  url             TEXT NOT NULL,
  checks          TEXT NOT NULL
);
