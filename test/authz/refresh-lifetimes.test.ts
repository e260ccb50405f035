/**
 * Time limits on refresh tokens, with short TTLs: the grace window for re-presenting a rotated
 * token closes (and then re-presenting it is theft: the grant is revoked); a chain ends at its
 * absolute lifetime even while in use; a token left unused past the idle lifetime expires.
 * The three servers run side by side so the waits overlap.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  assertOAuthError,
  assertTokens,
  mcpStatus,
  refresh,
  registerPublic,
  signIn,
  type RegisteredClient,
  type TokenSet,
} from '../helpers/authz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

interface Setup {
  server: TestServer;
  client: RegisteredClient;
}

describe('refresh-token lifetimes', { concurrency: true }, () => {
  let grace: Setup;
  let absolute: Setup;
  let idle: Setup;

  const setup = async (tokens: Record<string, number>): Promise<Setup> => {
    const server = await startTestServer({ tokens });
    return { server, client: await registerPublic(server) };
  };

  before(async () => {
    [grace, absolute, idle] = await Promise.all([
      setup({ refreshGraceSeconds: 1 }),
      setup({ refreshTokenTtl: 4, refreshTokenIdleTtl: 3 }),
      setup({ refreshTokenTtl: 60, refreshTokenIdleTtl: 3 }),
    ]);
  });
  after(() => Promise.all([grace, absolute, idle].map((s) => s?.server.stop())));

  it('revokes the whole grant when a rotated token comes back after the grace window', async () => {
    const { server, client } = grace;
    const first = await signIn(server, client);
    const second = assertTokens(await refresh(server, client, first.refresh_token!));
    const third = assertTokens(await refresh(server, client, second.refresh_token!));
    assert.equal(await mcpStatus(server, third.access_token), 200);

    await sleep(2200);
    assertOAuthError(await refresh(server, client, second.refresh_token!), 'invalid_grant', 400);

    assert.equal(await mcpStatus(server, third.access_token), 401, 'access tokens of the grant are refused');
    assertOAuthError(await refresh(server, client, third.refresh_token!), 'invalid_grant', 400);
  });

  it('ends a chain at its absolute lifetime even while it is in use', async () => {
    const { server, client } = absolute;
    const started = Date.now();
    let current: TokenSet = await signIn(server, client);
    const signedIn = Date.now();
    let lastSuccess = signedIn;
    let refused: { after: number; idleFor: number } | undefined;
    while (Date.now() - started < 10_000) {
      await sleep(700);
      const attempt = Date.now();
      const res = await refresh(server, client, current.refresh_token!);
      if (res.status === 200) {
        current = assertTokens(res);
        lastSuccess = Date.now();
        continue;
      }
      assertOAuthError(res, 'invalid_grant', 400);
      refused = { after: attempt - started, idleFor: attempt - lastSuccess };
      break;
    }
    assert.ok(refused, 'the chain outlived its absolute lifetime');
    // Absolute lifetime 4 s, counted in whole seconds from the sign-in (which began at `started`).
    const latest = signedIn - started + 4000 + 1500;
    assert.ok(refused.after >= 3000 && refused.after <= latest, `refused ${refused.after} ms after the sign-in began (latest ${latest})`);
    // Its last token was fresh (idle lifetime 3 s, so at least 2 s left): not expired for idleness.
    assert.ok(refused.idleFor < 1900, `last use ${refused.idleFor} ms before the refusal`);
  });

  it('expires a refresh token left unused past the idle lifetime, while use keeps a chain alive', async () => {
    const { server, client } = idle;
    let current: TokenSet = await signIn(server, client);
    const started = Date.now();
    // Used every second, the chain outlives the 3 s idle lifetime of any one token.
    while (Date.now() - started < 3200) {
      await sleep(1000);
      current = assertTokens(await refresh(server, client, current.refresh_token!));
    }
    await sleep(3500);
    assertOAuthError(await refresh(server, client, current.refresh_token!), 'invalid_grant', 400);
  });
});
