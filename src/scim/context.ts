/**
 * What the SCIM services need: the identity services' deps (people.ts does every removal and
 * revocation), the audit log, and the base URL resources are located at (RFC 7644 §3.1 `location`).
 * Every SCIM change acts for one organization, as `scim:<orgId>` on the record.
 */
import type { AuditLog } from '../audit/audit-log.ts';
import type { IdentityDeps } from '../identity/context.ts';
import type { Actor } from '../identity/people.ts';

export interface ScimDeps extends IdentityDeps {
  audit: Pick<AuditLog, 'write'>;
  /** `<publicUrl>/scim/v2`. */
  baseUrl: string;
}

/** Who acts on the audit record and as `revokedBy`. */
export const scimActor = (orgId: string) => `scim:${orgId}`;

/**
 * The identity services' view of SCIM: an admin of the org (never an owner), so a SCIM token —
 * which an org admin may create — cannot remove, demote or promote an owner (people.ts owner rules).
 */
export const scimAsActor = (orgId: string): Actor => ({ userId: scimActor(orgId), role: 'admin' });

export async function record(deps: ScimDeps, orgId: string, kind: string, subject: string | null, details: Record<string, unknown>): Promise<void> {
  await deps.audit.write({ kind, orgId, actor: scimActor(orgId), subject, details });
}
