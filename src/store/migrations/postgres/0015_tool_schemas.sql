-- The tool manifest keeps everything its fingerprint covers (applications/manifest.ts), so a
-- reviewer sees what they approve: `version` is the tool as last listed — title, description,
-- annotations, input and output schema — as JSON text (store/tools.ts ToolVersion), and
-- `approved_version` the version approved_fingerprint stands for, so a tool that changed upstream
-- can be shown old beside new. Rows from before this migration get `version` the next time the
-- gateway lists the tool, and `approved_version` then too when the tool is unchanged; until then
-- both are NULL ("not kept"), never a guess.

ALTER TABLE app_tools ADD COLUMN version TEXT;
ALTER TABLE app_tools ADD COLUMN approved_version TEXT;
