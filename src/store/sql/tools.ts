/** The tool manifest, in SQL: observations and reviews. */
import type { ToolRecord, ToolStore } from '../tools.ts';
import type { SqlDriver } from './driver.ts';

const TOOL_COLUMNS =
  'app_slug AS "appSlug", name, description, annotations, fingerprint, status, approved_fingerprint AS "approvedFingerprint", ' +
  'first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt", reviewed_at AS "reviewedAt", reviewed_by AS "reviewedBy"';

export function toolStore(db: SqlDriver): ToolStore {
  const list = (appSlug: string) => db.all<ToolRecord>(`SELECT ${TOOL_COLUMNS} FROM app_tools WHERE app_slug = $1 ORDER BY name`, [appSlug]);
  return {
    list,
    async record(appSlug, tools, at, autoApprove) {
      for (const tool of tools) {
        // New: approved only under autoApprove. Seen before: approved exactly when what is listed now
        // is what was approved; any change to description, schema or annotations needs a review.
        await db.run(
          `INSERT INTO app_tools (app_slug, name, description, annotations, fingerprint, status, approved_fingerprint, first_seen_at, last_seen_at, reviewed_at, reviewed_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)
           ON CONFLICT (app_slug, name) DO UPDATE SET
             description = excluded.description, annotations = excluded.annotations, fingerprint = excluded.fingerprint,
             last_seen_at = excluded.last_seen_at,
             status = CASE
               WHEN app_tools.approved_fingerprint = excluded.fingerprint THEN 'approved'
               WHEN $11 = 1 THEN 'approved'
               ELSE 'needs_review' END,
             approved_fingerprint = CASE WHEN $11 = 1 THEN excluded.fingerprint ELSE app_tools.approved_fingerprint END,
             reviewed_at = CASE WHEN $11 = 1 AND app_tools.approved_fingerprint IS DISTINCT FROM excluded.fingerprint THEN excluded.last_seen_at ELSE app_tools.reviewed_at END,
             reviewed_by = CASE WHEN $11 = 1 AND app_tools.approved_fingerprint IS DISTINCT FROM excluded.fingerprint THEN 'auto-approve' ELSE app_tools.reviewed_by END`,
          [
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
          ],
        );
      }
      return list(appSlug);
    },
    async review(appSlug, name, status, by, at, expectedFingerprint) {
      // One conditional statement: a tool that changed between the reviewer's look and this
      // approval is not approved ('' = no expectation).
      const { changes } = await db.run(
        `UPDATE app_tools SET status = $3, reviewed_at = $4, reviewed_by = $5,
           approved_fingerprint = CASE WHEN $3 = 'approved' THEN fingerprint ELSE NULL END
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
