/**
 * An open stream outlives the request that authorized it: an SSE answer to a long tool call, or
 * the GET stream, may stay open for hours. Revoking a grant must still take effect within a
 * second (DESIGN.md "Revoke"), so while a stream is open its token is checked again every
 * `intervalMs` — a cache hit in the verifier plus the revocation list, no signature check — and
 * the stream is cut once the token is revoked. Expiry alone does not cut a stream: the gateway
 * never ends a stream on a timer (the next request needs a fresh token anyway).
 */
import type { ServerResponse } from 'node:http';
import { isPortcullisError } from '../../core/errors.ts';

export const REVOCATION_RECHECK_MS = 250;

export function endOnRevocation(res: ServerResponse, recheck: () => Promise<unknown>, onRevoked: () => void, intervalMs = REVOCATION_RECHECK_MS): void {
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    recheck()
      .catch((err: unknown) => {
        if (!isPortcullisError(err) || err.code !== 'token_revoked' || res.destroyed) return;
        clearInterval(timer);
        onRevoked();
      })
      .finally(() => (checking = false));
  }, intervalMs);
  timer.unref();
  res.on('close', () => clearInterval(timer));
}
