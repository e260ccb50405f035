-- Data of the built-in demo MCP server.

CREATE TABLE demo_projects (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE demo_notes (
  id         TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES demo_projects (id) ON DELETE CASCADE,
  title      TEXT NOT NULL,
  body       TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX demo_notes_project ON demo_notes (project_id);
