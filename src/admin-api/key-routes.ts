/**
 * The token-signing key routes of the admin API (server administrators' sessions), through
 * signing-keys/key-ring.ts — what the console's `/server/keys` page and `portcullis keys` call:
 * list the ring, and retire a retired key early (stop publishing it: tokens it signed stop
 * verifying). Rotation stays with the page and the CLI.
 */
import type { Hono } from 'hono';
import { retireSigningKeyNow } from '../signing-keys/key-ring.ts';
import type { AdminApiDeps, AdminEnv } from './deps.ts';
import { actorOf } from './auth.ts';

export function keyRoutes(api: Hono<AdminEnv>, deps: AdminApiDeps): void {
  // Public halves and lifetimes only: the sealed private key never leaves the store.
  api.get('/signing-keys', async (c) => {
    const keys = await deps.store.signingKeys.list();
    return c.json({ keys: keys.map((k) => ({ kid: k.kid, alg: k.alg, status: k.retiredAt === null ? 'active' : 'retired', createdAt: k.createdAt, retiredAt: k.retiredAt })) });
  });

  api.delete('/signing-keys/:kid', async (c) => {
    const removed = await retireSigningKeyNow(deps.store, c.req.param('kid'));
    await deps.audit.write({ kind: 'signing_key.retired', actor: actorOf(c.get('admin')), reason: 'early', details: { kid: removed.kid } });
    return c.body(null, 204);
  });
}
