/**
 * What the identity services (people, invitations, API keys, resources) need, free of HTTP: the
 * store, the pepper for keyed hashes, a clock, the grant revoker, and this process's revocation
 * list. `identityDeps(web)` builds it from the pages' dependencies, so the admin API, the account
 * pages and the CLI share one set of rules.
 *
 * Revocation events (docs/design/identity.md): recorded in the store for every process, then
 * applied to this process's list at once; they live as long as the longest access token could
 * (plus clock skew), after which the tokens they refuse have expired anyway.
 */
import type { Store } from '../store/store.ts';
import type { RevocationKind } from '../store/revocations.ts';
import type { GrantRevoker } from '../revocation/grant-revoker.ts';
import { CLOCK_SKEW } from '../core/clock.ts';
import type { SecretKey } from '../core/crypto.ts';
import type { RevocationList } from '../revocation/revocation-list.ts';

export interface IdentityDeps {
  store: Store;
  pepper: SecretKey;
  /** Epoch seconds. */
  now: () => number;
  revokeGrant: GrantRevoker;
  revocations: Pick<RevocationList, 'apply'>;
  /** How long a revocation event must outlive its revocation (seconds). */
  retention: number;
}

export function identityDeps(web: Omit<IdentityDeps, 'retention'> & { config: { tokens: { accessTokenTtl: number } } }): IdentityDeps {
  return {
    store: web.store,
    pepper: web.pepper,
    now: web.now,
    revokeGrant: web.revokeGrant,
    revocations: web.revocations,
    retention: web.config.tokens.accessTokenTtl + CLOCK_SKEW * 2,
  };
}

/** Record a revocation for every process, and tell this process's guards at once. */
export async function recordRevocation(deps: IdentityDeps, kind: RevocationKind, id: string): Promise<void> {
  const at = deps.now();
  const expiresAt = at + deps.retention;
  await deps.store.revocations.add({ kind, id, at, expiresAt });
  deps.revocations.apply({ kind, id, at, expiresAt });
}

/** The member revocation id: `<orgId>:<userId>`. */
export function memberRevocationId(orgId: string, userId: string): string {
  return `${orgId}:${userId}`;
}
