/**
 * Wires the leaver re-check (identity/sso-recheck.ts) for the engine: the connections as they are
 * now (configured and organizations' own), a relying party of its own for the OIDC refreshes
 * (web/sso-upstream-check.ts), the revocation machinery every disable uses, and a metric.
 */
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Config } from '../core/config.ts';
import type { DerivedSecrets } from '../core/crypto.ts';
import { identityDeps } from '../identity/context.ts';
import { recheckUpstream } from '../identity/sso-recheck.ts';
import type { GrantRevoker } from '../revocation/grant-revoker.ts';
import type { RevocationList } from '../revocation/revocation-list.ts';
import type { Store } from '../store/store.ts';
import { RelyingParties } from '../web/sso-relying-party.ts';
import { connections } from '../web/sso-routes.ts';
import { upstreamCheck } from '../web/sso-upstream-check.ts';

export interface UpstreamRecheckParts {
  config: Config;
  store: Store;
  secrets: DerivedSecrets;
  revokeGrant: GrantRevoker;
  revocations: RevocationList;
  audit: AuditLog;
  log: Logger;
  now: () => number;
  /** Counted by connection and verdict (metrics `portcullis_sso_rechecks_total`). */
  onVerdict?: (connection: string, verdict: string) => void;
}

/** The engine's `upstreamRecheck` (authz/engine/deps.ts). */
export function upstreamRecheck(parts: UpstreamRecheckParts): (userId: string) => Promise<'ok' | 'refused'> {
  const { config, store, secrets, log, now } = parts;
  const identity = identityDeps({ store, pepper: secrets.pepper, now, revokeGrant: parts.revokeGrant, revocations: parts.revocations, config });
  const deps = {
    ...identity,
    connection: (id: string) => connections({ config }).get(id),
    dataKey: secrets.dataKey,
    check: upstreamCheck(new RelyingParties(() => `${config.publicUrl}/sso`), log),
    audit: parts.audit,
    onVerdict: parts.onVerdict,
  };
  return (userId) => recheckUpstream(deps, userId);
}
