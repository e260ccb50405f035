/**
 * What the account and org pages record in the audit log: every change a person makes through
 * them, written before the page answers (as the admin API does), naming people, clients and keys
 * by id only. Org admin actions use the admin API's kinds (`admin.member.role`, …), so a change
 * reads the same in the log whichever way it was made; a person's own changes are `account.*`.
 */
import type { AuditRecord } from '../../audit/audit-log.ts';
import type { WebDeps } from '../../web/pages.ts';

export async function audit(deps: WebDeps, record: AuditRecord): Promise<void> {
  await deps.audit.write(record);
}
