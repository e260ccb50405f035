/**
 * An authorization code is redeemed once (OAuth 2.1 §4.1.3). A second redemption is an attack
 * (a stolen code): it fails with invalid_grant and revokes everything issued from the code
 * (RFC 6749 §4.1.2) — the access token is refused by the resource server at once and the refresh
 * token no longer works. Under concurrent redemption exactly one wins, on every store. (SQLite's
 * one synchronous connection serializes the racers inside this process; on PostgreSQL they meet
 * in the database's conditional update.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertOAuthError,
  assertTokens,
  mcpStatus,
  obtainCode,
  redeemCode,
  refresh,
  registerPublic,
  serverTargets,
  warmConnections,
  type RegisteredClient,
} from '../helpers/authz.ts';
import { testClock } from '../helpers/clock.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const RACERS = 15;

for (const target of serverTargets()) {
  describe(`authorization code reuse (${target.dialect})`, { skip: target.skip }, () => {
    let server: TestServer;
    let client: RegisteredClient;

    before(async () => {
      server = await target.start();
      client = await registerPublic(server);
    });
    after(() => server?.stop());

    it('refuses a second redemption with invalid_grant and revokes the grant', async () => {
      const grant = await obtainCode(server, client);
      const tokens = assertTokens(await redeemCode(server, client, grant));
      assert.equal(await mcpStatus(server, tokens.access_token), 200);

      assertOAuthError(await redeemCode(server, client, grant), 'invalid_grant', 400);

      assert.equal(await mcpStatus(server, tokens.access_token), 401, 'the first access token is refused');
      assertOAuthError(await refresh(server, client, tokens.refresh_token!), 'invalid_grant', 400);
    });

    it('a replayed code also revokes tokens already refreshed from it', async () => {
      const grant = await obtainCode(server, client);
      const first = assertTokens(await redeemCode(server, client, grant));
      const second = assertTokens(await refresh(server, client, first.refresh_token!));
      assert.equal(await mcpStatus(server, second.access_token), 200);

      assertOAuthError(await redeemCode(server, client, grant), 'invalid_grant', 400);

      assert.equal(await mcpStatus(server, second.access_token), 401);
      assertOAuthError(await refresh(server, client, second.refresh_token!), 'invalid_grant', 400);
    });

    it(`lets exactly one of ${RACERS} concurrent redemptions win`, async () => {
      const grant = await obtainCode(server, client);
      await warmConnections(server, RACERS);
      const answers = await Promise.all(Array.from({ length: RACERS }, () => redeemCode(server, client, grant)));
      const winners = answers.filter((a) => a.status === 200);
      assert.equal(winners.length, 1, `winners: ${winners.length}; statuses ${answers.map((a) => a.status).join(',')}`);
      for (const loser of answers.filter((a) => a.status !== 200)) assertOAuthError(loser, 'invalid_grant', 400);

      // The losers were replays: as for any reuse, what the winner got is revoked too.
      const won = assertTokens(winners[0]!);
      assert.equal(await mcpStatus(server, won.access_token), 401);
      assertOAuthError(await refresh(server, client, won.refresh_token!), 'invalid_grant', 400);
    });

    it('a code redeemed by another client is refused and does not spend it', async () => {
      const other = await registerPublic(server);
      const grant = await obtainCode(server, client);
      assertOAuthError(await redeemCode(server, other, grant), 'invalid_grant', 400);
      const tokens = assertTokens(await redeemCode(server, client, grant));
      assert.equal(await mcpStatus(server, tokens.access_token), 200);
    });
  });
}

describe('authorization code lifetime', () => {
  let server: TestServer;
  let client: RegisteredClient;
  const clock = testClock();

  before(async () => {
    server = await startTestServer({}, { clock });
    client = await registerPublic(server);
  });
  after(() => server?.stop());

  it('refuses an expired code (invalid_grant)', async () => {
    const grant = await obtainCode(server, client);
    clock.advance(server.config.tokens.authorizationCodeTtl + 1);
    assertOAuthError(await redeemCode(server, client, grant), 'invalid_grant', 400);
  });
});
