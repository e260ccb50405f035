/**
 * Time limits on refresh tokens, with short TTLs: the grace window for re-presenting a rotated
 * token closes (and then re-presenting it is theft: the grant is revoked); a chain ends at its
 * absolute lifetime even while in use; a token left unused past the idle lifetime expires.
 * Each server takes a test clock, which the test moves instead of waiting.
 */
import assert from 'node:assert/strict';
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
import { testClock, type TestClock } from '../helpers/clock.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

interface Setup {
  server: TestServer;
  client: RegisteredClient;
  clock: TestClock;
}

describe('refresh-token lifetimes (the server clock moved, not waited for)', () => {
  let grace: Setup;
  let absolute: Setup;
  let idle: Setup;

  const setup = async (tokens: Record<string, number>): Promise<Setup> => {
    const clock = testClock();
    const server = await startTestServer({ tokens }, { clock });
    return { server, client: await registerPublic(server), clock };
  };

  before(async () => {
    [grace, absolute, idle] = await Promise.all([
      setup({ refreshGraceSeconds: 1 }),
      setup({ refreshTokenTtl: 4, refreshTokenIdleTtl: 3 }),
      setup({ refreshTokenTtl: 60, refreshTokenIdleTtl: 4 }),
    ]);
  });
  after(() => Promise.all([grace, absolute, idle].map((s) => s?.server.stop())));

  it('revokes the whole grant when a rotated token comes back after the grace window', async () => {
    const { server, client, clock } = grace;
    const first = await signIn(server, client);
    const second = assertTokens(await refresh(server, client, first.refresh_token!));
    const third = assertTokens(await refresh(server, client, second.refresh_token!));
    assert.equal(await mcpStatus(server, third.access_token), 200);

    clock.advance(3);
    assertOAuthError(await refresh(server, client, second.refresh_token!), 'invalid_grant', 400);

    assert.equal(await mcpStatus(server, third.access_token), 401, 'access tokens of the grant are refused');
    assertOAuthError(await refresh(server, client, third.refresh_token!), 'invalid_grant', 400);
  });

  it('ends a chain at its absolute lifetime even while it is in use', async () => {
    const { server, client, clock } = absolute;
    const started = clock.now();
    let current: TokenSet = await signIn(server, client);
    let refusedAfter: number | undefined;
    // Used every second — never idle for long — the chain still ends once 4 s have passed.
    for (let second = 1; second <= 8; second++) {
      clock.advance(1);
      const res = await refresh(server, client, current.refresh_token!);
      if (res.status === 200) {
        current = assertTokens(res);
        continue;
      }
      assertOAuthError(res, 'invalid_grant', 400);
      refusedAfter = clock.now() - started;
      break;
    }
    assert.ok(refusedAfter !== undefined, 'the chain outlived its absolute lifetime');
    // Absolute lifetime 4 s, counted in whole seconds from the sign-in.
    assert.ok(refusedAfter >= 4 && refusedAfter <= 5, `refused ${refusedAfter} s after the sign-in`);
  });

  it('expires a refresh token left unused past the idle lifetime, while use keeps a chain alive', async () => {
    const { server, client, clock } = idle;
    let current: TokenSet = await signIn(server, client);
    // Used every 2 s, the chain outlives the 4 s idle lifetime of any one token. The test clock
    // also runs with real time, so a refresh may land up to one second later than the 2 s moved:
    // the idle lifetime keeps a margin of more than that second.
    for (let i = 0; i < 4; i++) {
      clock.advance(2);
      current = assertTokens(await refresh(server, client, current.refresh_token!));
    }
    clock.advance(5);
    assertOAuthError(await refresh(server, client, current.refresh_token!), 'invalid_grant', 400);
  });
});
