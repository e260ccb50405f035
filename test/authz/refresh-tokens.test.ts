/**
 * Refresh-token rotation with reuse detection (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2) and our grace
 * rule (src/authz/refresh-family.ts): every use rotates; a rotated token presented again within
 * the grace window while its successor is unused gets valid tokens (clients race themselves, and
 * the MCP SDK throws its tokens away on invalid_grant); once one successor is used, its siblings
 * are dead and presenting one revokes the grant; so does presenting a token whose successor was
 * used. At most one chain ever stays alive — on every store, under real concurrency.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertOAuthError,
  assertTokens,
  introspect,
  mcpStatus,
  refresh,
  registerConfidential,
  serverTargets,
  signIn,
  warmConnections,
  type RegisteredClient,
  type TokenSet,
} from '../helpers/authz.ts';
import type { TestServer } from '../helpers/server.ts';

const REDIRECT = 'https://app.example.com/callback';
const RACERS = 10;

for (const target of serverTargets()) {
  describe(`refresh tokens (${target.dialect})`, { skip: target.skip }, () => {
    let server: TestServer;
    let client: RegisteredClient;

    before(async () => {
      server = await target.start();
      // Confidential, so the tests can ask introspection which refresh tokens are still alive.
      client = await registerConfidential(server, { redirect_uris: [REDIRECT] });
    });
    after(() => server?.stop());

    const start = () => signIn(server, client, { redirectUri: REDIRECT });
    const use = async (refreshToken: string) => assertTokens(await refresh(server, client, refreshToken));
    const alive = async (refreshToken: string) => (await introspect(server, client, refreshToken)).body.active === true;

    /** Everything from the grant is dead: its access tokens are refused, its refresh tokens too. */
    async function assertGrantRevoked(...sets: TokenSet[]) {
      for (const set of sets) {
        assert.equal(await mcpStatus(server, set.access_token), 401, 'access token of the revoked grant');
        assert.equal(await alive(set.refresh_token!), false, 'refresh token of the revoked grant');
        assertOAuthError(await refresh(server, client, set.refresh_token!), 'invalid_grant', 400);
      }
    }

    it('rotates the refresh token on every use', async () => {
      const first = await start();
      const seen = new Set([first.refresh_token]);
      let current: TokenSet = first;
      for (let i = 0; i < 4; i++) {
        current = await use(current.refresh_token!);
        assert.ok(current.refresh_token, 'a new refresh token on every use');
        assert.ok(!seen.has(current.refresh_token), 'never the same refresh token twice');
        seen.add(current.refresh_token);
        assert.equal(await mcpStatus(server, current.access_token), 200);
      }
      assert.equal(await alive(current.refresh_token!), true);
    });

    it('gives valid tokens to a rotated token presented again within the grace window, then keeps one chain', async () => {
      const first = await start();
      const a = await use(first.refresh_token!);
      // The client lost the answer and retries with the same token: not theft, a sibling.
      const b = await use(first.refresh_token!);
      assert.notEqual(a.refresh_token, b.refresh_token);
      assert.equal(await mcpStatus(server, b.access_token), 200);
      assert.equal(await alive(a.refresh_token!), true);
      assert.equal(await alive(b.refresh_token!), true);

      // Using one successor settles the family: the other is dead from then on.
      const next = await use(b.refresh_token!);
      assert.equal(await alive(a.refresh_token!), false, 'the sibling dies when its twin is used');
      assert.equal(await alive(next.refresh_token!), true);

      // Presenting the dead sibling is reuse: the whole grant goes.
      assertOAuthError(await refresh(server, client, a.refresh_token!), 'invalid_grant', 400);
      await assertGrantRevoked(next, b);
    });

    it('revokes the grant when a token is presented after its successor was used', async () => {
      const first = await start();
      const second = await use(first.refresh_token!);
      const third = await use(second.refresh_token!);
      assert.equal(await mcpStatus(server, third.access_token), 200);

      // Still inside the grace window, but the family has moved on: theft.
      assertOAuthError(await refresh(server, client, first.refresh_token!), 'invalid_grant', 400);
      await assertGrantRevoked(third, second);
    });

    it(`lets ${RACERS} concurrent refreshes with one token all succeed, leaving exactly one live chain`, async () => {
      const first = await start();
      await warmConnections(server, RACERS);
      const answers = await Promise.all(Array.from({ length: RACERS }, () => refresh(server, client, first.refresh_token!)));
      const siblings = answers.map((answer) => assertTokens(answer));
      assert.equal(new Set(siblings.map((s) => s.refresh_token)).size, RACERS, 'each racer gets its own refresh token');
      for (const sibling of siblings) assert.equal(await mcpStatus(server, sibling.access_token), 200);

      // The client keeps one answer (say the last) and carries on with it.
      const kept = siblings.at(-1)!;
      const next = await use(kept.refresh_token!);
      const live = [];
      for (const sibling of siblings.slice(0, -1)) if (await alive(sibling.refresh_token!)) live.push(sibling);
      assert.equal(live.length, 0, 'every other sibling is dead once one was used');
      assert.equal(await alive(next.refresh_token!), true, 'the kept chain lives on');
      assert.equal(await alive(first.refresh_token!), false);
      await use(next.refresh_token!);
    });

    it(`never leaves two chains alive when ${RACERS} sibling tokens are used at once`, async () => {
      const first = await start();
      await warmConnections(server, RACERS);
      const siblings = (await Promise.all(Array.from({ length: RACERS }, () => refresh(server, client, first.refresh_token!)))).map(assertTokens);
      await warmConnections(server, RACERS);
      const answers = await Promise.all(siblings.map((s) => refresh(server, client, s.refresh_token!)));
      for (const answer of answers) if (answer.status !== 200) assertOAuthError(answer, 'invalid_grant', 400);
      const chains = [];
      for (const answer of answers.filter((a) => a.status === 200)) {
        if (await alive(String(answer.body.refresh_token))) chains.push(answer);
      }
      assert.ok(chains.length <= 1, `${chains.length} chains stayed alive`);
    });

    it('refuses a refresh token presented by another client without spending it (invalid_grant)', async () => {
      const other = await registerConfidential(server, { redirect_uris: [REDIRECT] });
      const tokens = await start();
      assertOAuthError(await refresh(server, other, tokens.refresh_token!), 'invalid_grant', 400);
      await use(tokens.refresh_token!);
    });

    it('refuses an access token or garbage presented as a refresh token (invalid_grant)', async () => {
      const tokens = await start();
      for (const fake of [tokens.access_token, 'x', `${tokens.refresh_token}x`]) {
        assertOAuthError(await refresh(server, client, fake), 'invalid_grant', 400);
      }
      await use(tokens.refresh_token!);
    });

    it('refuses a refresh token with the wrong client secret (invalid_client)', async () => {
      const tokens = await start();
      const wrong = { ...client, client_secret: 'not-the-secret' };
      assertOAuthError(await refresh(server, wrong, tokens.refresh_token!), 'invalid_client', 401);
      await use(tokens.refresh_token!);
    });
  });
}
