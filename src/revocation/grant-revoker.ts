import type { Store } from '../store/store.ts';
/**
 * Revoking a grant, in one place: every stored artifact of the grant goes (refresh tokens, codes,
 * the grant itself), and a revocation event is recorded so that guards refuse the grant's JWT
 * access tokens — which are never stored — until they would have expired anyway.
 */

export interface GrantRevokerOptions {
  store: Store;
  now: () => number;
  /** How long the event must outlive the revocation: the longest access-token lifetime plus skew. */
  retention: number;
  /** In-process listeners (the local guard) hear of it at once. */
  onRevoked?: (grantId: string) => void;
}

export type GrantRevoker = (grantId: string) => Promise<void>;

export function createGrantRevoker(options: GrantRevokerOptions): GrantRevoker {
  return async (grantId) => {
    await options.store.oidc.revokeByGrantId(grantId);
    const at = options.now();
    await options.store.revocations.add({ kind: 'grant', id: grantId, at, expiresAt: at + options.retention });
    options.onRevoked?.(grantId);
  };
}
