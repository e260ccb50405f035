/** The tool manifest, in SQL: observations and reviews. */
import type { SeenTool, ToolRecord, ToolStore, ToolVersion } from '../tools.ts';
import type { SqlDriver } from './driver.ts';

const TOOL_COLUMNS =
  'app_slug AS "appSlug", name, description, annotations, version, approved_version AS "approvedVersion", fingerprint, status, ' +
  'approved_fingerprint AS "approvedFingerprint", first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt", reviewed_at AS "reviewedAt", reviewed_by AS "reviewedBy"';

type ToolRow = Omit<ToolRecord, 'title' | 'inputSchema' | 'outputSchema' | 'approved'> & { version: string | null; approvedVersion: string | null };

/** The kept version (migration 0015), as JSON text: one column, so SQL can copy it whole on approval. */
function versionText(tool: SeenTool): string {
  const version: ToolVersion = { title: tool.title, description: tool.description, annotations: tool.annotations, inputSchema: tool.inputSchema, outputSchema: tool.outputSchema };
  return JSON.stringify(version);
}

function toRecord({ version, approvedVersion, ...row }: ToolRow): ToolRecord {
  const now = version ? (JSON.parse(version) as ToolVersion) : undefined;
  return {
    ...row,
    title: now?.title ?? null,
    inputSchema: now?.inputSchema ?? null,
    outputSchema: now?.outputSchema ?? null,
    approved: row.approvedFingerprint !== null && approvedVersion ? (JSON.parse(approvedVersion) as ToolVersion) : null,
  };
}

// New: approved only under autoApprove. Seen before: approved exactly when what is listed now is
// what was approved; any change to title, description, schema or annotations needs a review. The
// approved version follows approved_fingerprint: taken when auto-approved, or when what is seen is
// what was approved (which also fills it in for rows approved before it was kept).
const RECORD_SQL = `INSERT INTO app_tools (app_slug, name, description, annotations, fingerprint, status, approved_fingerprint, first_seen_at, last_seen_at, reviewed_at, reviewed_by, version, approved_version)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $12, $13)
  ON CONFLICT (app_slug, name) DO UPDATE SET
    description = excluded.description, annotations = excluded.annotations, fingerprint = excluded.fingerprint, version = excluded.version,
    last_seen_at = excluded.last_seen_at,
    approved_version = CASE WHEN $11 = 1 OR app_tools.approved_fingerprint = excluded.fingerprint THEN excluded.version ELSE app_tools.approved_version END,
    status = CASE
      WHEN app_tools.approved_fingerprint = excluded.fingerprint THEN 'approved'
      WHEN $11 = 1 THEN 'approved'
      ELSE 'needs_review' END,
    approved_fingerprint = CASE WHEN $11 = 1 THEN excluded.fingerprint ELSE app_tools.approved_fingerprint END,
    reviewed_at = CASE WHEN $11 = 1 AND app_tools.approved_fingerprint IS DISTINCT FROM excluded.fingerprint THEN excluded.last_seen_at ELSE app_tools.reviewed_at END,
    reviewed_by = CASE WHEN $11 = 1 AND app_tools.approved_fingerprint IS DISTINCT FROM excluded.fingerprint THEN 'auto-approve' ELSE app_tools.reviewed_by END`;

function recordParams(appSlug: string, tool: SeenTool, at: number, autoApprove: boolean): (string | number | null)[] {
  const version = versionText(tool);
  return [
    appSlug,
    tool.name,
    tool.description,
    tool.annotations,
    tool.fingerprint,
    autoApprove ? 'approved' : 'needs_review',
    autoApprove ? tool.fingerprint : null,
    at,
    autoApprove ? at : null,
    autoApprove ? 'auto-approve' : null,
    autoApprove ? 1 : 0,
    version,
    autoApprove ? version : null,
  ];
}

export function toolStore(db: SqlDriver): ToolStore {
  const list = async (appSlug: string) => (await db.all<ToolRow>(`SELECT ${TOOL_COLUMNS} FROM app_tools WHERE app_slug = $1 ORDER BY name`, [appSlug])).map(toRecord);
  return {
    list,
    async record(appSlug, tools, at, autoApprove) {
      for (const tool of tools) await db.run(RECORD_SQL, recordParams(appSlug, tool, at, autoApprove));
      return list(appSlug);
    },
    async review(appSlug, name, status, by, at, expectedFingerprint) {
      // One conditional statement: a tool that changed between the reviewer's look and this
      // approval is not approved ('' = no expectation). The approved version is the one approved.
      const { changes } = await db.run(
        `UPDATE app_tools SET status = $3, reviewed_at = $4, reviewed_by = $5,
           approved_fingerprint = CASE WHEN $3 = 'approved' THEN fingerprint ELSE NULL END,
           approved_version = CASE WHEN $3 = 'approved' THEN version ELSE NULL END
         WHERE app_slug = $1 AND name = $2 AND ($6 = '' OR fingerprint = $6)`,
        [appSlug, name, status, at, by, expectedFingerprint ?? ''],
      );
      return changes === 1;
    },
    async deleteApp(appSlug) {
      await db.run('DELETE FROM app_tools WHERE app_slug = $1', [appSlug]);
    },
  };
}
