/**
 * What the account and org pages record in the audit log: every change a person makes through
 * them, written before the page answers (as the admin API does), naming people, clients and keys
 * by id only. Org admin actions use the admin API's kinds (`admin.member.role`, …), so a change
 * reads the same in the log whichever way it was made; a person's own changes are `account.*`.
 */
import type { Store } from '../../store/store.ts';
import { AuditLog, type AuditRecord } from '../../audit/audit-log.ts';
import type { WebDeps } from '../../web/pages.ts';

const logs = new WeakMap<Store, AuditLog>();

export async function audit(deps: WebDeps, record: AuditRecord): Promise<void> {
  let log = logs.get(deps.store);
  if (!log) {
    log = new AuditLog(deps.store, deps.log, deps.now);
    logs.set(deps.store, log);
  }
  await log.write(record);
}
