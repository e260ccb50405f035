/**
 * A guard in another process learns revocations from the authorization server's stream, on every
 * store. The three states a server author must be able to rely on:
 *
 *   1. stream up            → a revoked grant is refused within a second, by the stream alone;
 *   2. stream down too long → introspection decides (a grant revoked while the stream was down is
 *                             refused, a live token still works); briefly down → what it knew holds;
 *   3. both down            → refused with 503 (fail closed), never let through.
 *
 * The stream goes through a TCP proxy the test cuts; the authorization server itself stays up.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createGuard, isGuardError, type Guard, type GuardOptions } from '../../../src/sdk/guard/index.ts';
import { serverTargets } from '../../helpers/authz.ts';
import { NOTES_SCOPES, revokeGrant, startProxy, startWorld, until, type CuttableProxy, type GuardWorld } from './fixtures.ts';

for (const target of serverTargets()) {
  describe(`guard SDK: revocations (${target.dialect})`, { skip: target.skip }, () => {
    let world: GuardWorld;
    const open: { guards: Guard[]; proxies: CuttableProxy[] } = { guards: [], proxies: [] };
    before(async () => {
      world = await startWorld(target);
    });
    after(async () => {
      for (const guard of open.guards) await guard.close();
      for (const proxy of open.proxies) await proxy.close();
      await world?.server.stop();
    });

    async function proxy(): Promise<CuttableProxy> {
      const started = await startProxy((world.server.server.address() as AddressInfo).port);
      open.proxies.push(started);
      return started;
    }

    function guardWith(overrides: Partial<GuardOptions>): Guard {
      const guard = createGuard({
        issuer: world.server.url,
        resource: world.resource,
        scopesSupported: NOTES_SCOPES,
        toolScopes: {},
        ...overrides,
      });
      open.guards.push(guard);
      return guard;
    }

    const credentials = () => ({ clientId: world.resourceServer.client_id, clientSecret: world.resourceServer.client_secret });
    const bearer = (token: string) => `Bearer ${token}`;

    it('stream up: a revoked grant is refused within a second, through the stream alone', async () => {
      const guard = guardWith({ revocations: { streamUrl: world.streamUrl, ...credentials(), stalenessMs: 5000 } });
      assert.equal(await guard.ready(5000), true);
      assert.equal(guard.revocationStatus().freshness, 'current');
      const tokens = await world.tokens('notes:read');
      assert.equal((await guard.authenticate(bearer(tokens.access_token))).ok, true);

      const revokedAt = Date.now();
      await revokeGrant(world, tokens);
      const { value: refused } = await until(async () => {
        const result = await guard.authenticate(bearer(tokens.access_token));
        return result.ok ? undefined : result;
      }, 2000, 'refusal');
      const took = Date.now() - revokedAt;
      assert.equal(refused.error.code, 'token_revoked');
      assert.equal(refused.challenge.status, 401);
      assert.match(refused.challenge.headers['www-authenticate']!, /error="invalid_token"/);
      assert.ok(took < 1000, `refused only after ${took} ms`);
      assert.equal(guard.revocationStatus().freshness, 'current', 'no introspection is configured: the stream did it');
    });

    it('a guard that has just started waits for the stream, and refuses a grant revoked before it existed', async () => {
      const tokens = await world.tokens('notes:read');
      await revokeGrant(world, tokens);
      const guard = guardWith({ revocations: { streamUrl: world.streamUrl, ...credentials(), stalenessMs: 5000 } });
      const result = await guard.authenticate(bearer(tokens.access_token)); // at once: no ready() first
      assert.ok(!result.ok);
      assert.equal(result.error.code, 'token_revoked');
    });

    it('stream down briefly: what the guard knew still holds; back up: it resumes from the last event it saw', async () => {
      const tcp = await proxy();
      const guard = guardWith({ revocations: { streamUrl: tcp.url('/oauth/revocations'), ...credentials(), stalenessMs: 60_000 } });
      assert.equal(await guard.ready(5000), true);
      const [early, during, live] = await Promise.all([world.tokens('notes:read'), world.tokens('notes:read'), world.tokens('notes:read')]);
      await revokeGrant(world, early);
      await until(async () => ((await guard.authenticate(bearer(early.access_token))).ok ? undefined : true), 2000, 'early refusal');
      const seqBefore = guard.revocationStatus().lastSeq;

      await tcp.cut();
      await until(() => (guard.revocationStatus().freshness === 'recent' ? true : undefined), 2000, 'stream down');
      assert.equal((await guard.authenticate(bearer(early.access_token))).ok, false, 'a known revocation is still known');
      assert.equal((await guard.authenticate(bearer(live.access_token))).ok, true, 'within stalenessMs the list is trusted');

      await revokeGrant(world, during); // while the guard cannot hear of it
      await tcp.restore();
      assert.equal(await guard.ready(8000), true, 'reconnected');
      assert.ok(guard.revocationStatus().lastSeq > seqBefore, 'caught up with what happened while it was away');
      const result = await guard.authenticate(bearer(during.access_token));
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.error.code, 'token_revoked');
      assert.equal((await guard.authenticate(bearer(live.access_token))).ok, true);
    });

    it('stream down longer than stalenessMs: introspection decides', async () => {
      const tcp = await proxy();
      const guard = guardWith({
        revocations: { streamUrl: tcp.url('/oauth/revocations'), ...credentials(), stalenessMs: 300 },
        introspection: { ...credentials(), cacheMs: 50 },
      });
      assert.equal(await guard.ready(5000), true);
      const [live, revoked] = await Promise.all([world.tokens('notes:read'), world.tokens('notes:read')]);

      await tcp.cut();
      await until(() => (guard.revocationStatus().freshness === 'stale' ? true : undefined), 3000, 'stale');
      await revokeGrant(world, revoked); // the stream is down: only introspection can know

      const accepted = await guard.authenticate(bearer(live.access_token));
      assert.equal(accepted.ok, true, 'introspection says active');
      const refused = await guard.authenticate(bearer(revoked.access_token));
      assert.equal(refused.ok, false);
      assert.equal(!refused.ok && refused.error.code, 'token_revoked');
      assert.equal(!refused.ok && refused.challenge.status, 401);

      // A grant revoked after its token was introspected is refused once the short cache lapses.
      await revokeGrant(world, live);
      await until(async () => ((await guard.authenticate(bearer(live.access_token))).ok ? undefined : true), 2000, 'refusal after the cache');
    });

    it('stream and introspection both down: refused with 503, fail closed', async () => {
      const stream = await proxy();
      const introspection = await proxy();
      const guard = guardWith({
        revocations: { streamUrl: stream.url('/oauth/revocations'), ...credentials(), stalenessMs: 200 },
        introspection: { ...credentials(), endpoint: introspection.url('/oauth/introspect') },
      });
      assert.equal(await guard.ready(5000), true);
      const tokens = await world.tokens('notes:read');
      assert.equal((await guard.authenticate(bearer(tokens.access_token))).ok, true);

      await stream.cut();
      await introspection.cut();
      await until(() => (guard.revocationStatus().freshness === 'stale' ? true : undefined), 3000, 'stale');
      const refused = await guard.authenticate(bearer(tokens.access_token));
      assert.equal(refused.ok, false);
      assert.ok(!refused.ok);
      assert.equal(refused.error.code, 'unavailable');
      assert.equal(refused.challenge.status, 503);
      assert.equal(refused.challenge.body.error, 'temporarily_unavailable');
      assert.ok(refused.challenge.headers['retry-after']);
      assert.equal(refused.challenge.headers['www-authenticate'], undefined, 'the token is not said to be bad: the client must not drop it');

      // Introspection comes back: the same token is accepted again (nothing was cached from the failure).
      await introspection.restore();
      assert.equal((await guard.authenticate(bearer(tokens.access_token))).ok, true);
    });

    it('without introspection, a stale stream means refusal too', async () => {
      const tcp = await proxy();
      const guard = guardWith({ revocations: { streamUrl: tcp.url('/oauth/revocations'), ...credentials(), stalenessMs: 200 } });
      assert.equal(await guard.ready(5000), true);
      const tokens = await world.tokens('notes:read');
      await tcp.cut();
      await until(() => (guard.revocationStatus().freshness === 'stale' ? true : undefined), 3000, 'stale');
      const refused = await guard.authenticate(bearer(tokens.access_token));
      assert.ok(!refused.ok);
      assert.equal(refused.challenge.status, 503);
    });

    it('introspection alone (no stream): every token is asked about, briefly cached', async () => {
      const guard = guardWith({ introspection: { ...credentials(), cacheMs: 100 } });
      assert.equal(guard.revocationStatus().freshness, 'none');
      const [live, revoked] = await Promise.all([world.tokens('notes:read'), world.tokens('notes:read')]);
      await revokeGrant(world, revoked);
      assert.equal((await guard.authenticate(bearer(live.access_token))).ok, true);
      const refused = await guard.authenticate(bearer(revoked.access_token));
      assert.ok(!refused.ok);
      assert.equal(refused.error.code, 'token_revoked');
      await revokeGrant(world, live);
      await until(async () => ((await guard.authenticate(bearer(live.access_token))).ok ? undefined : true), 2000, 'refusal after the cache');
    });

    it('a guard whose stream never came up does not trust its empty list', async () => {
      const tcp = await proxy();
      await tcp.cut();
      const tokens = await world.tokens('notes:read');
      await revokeGrant(world, tokens);
      const alone = guardWith({ revocations: { streamUrl: tcp.url('/oauth/revocations'), ...credentials(), stalenessMs: 60_000 } });
      const refused = await alone.authenticate(bearer(tokens.access_token));
      assert.ok(!refused.ok);
      assert.equal(refused.challenge.status, 503, 'an empty list is not knowledge');

      const withIntrospection = guardWith({
        revocations: { streamUrl: tcp.url('/oauth/revocations'), ...credentials(), stalenessMs: 60_000 },
        introspection: credentials(),
      });
      const decided = await withIntrospection.authenticate(bearer(tokens.access_token));
      assert.ok(!decided.ok);
      assert.equal(decided.error.code, 'token_revoked', 'introspection knows');
    });

    it('with wrong stream credentials it reports the refusal and never counts as current', async () => {
      const errors: Error[] = [];
      const guard = guardWith({
        revocations: { streamUrl: world.streamUrl, clientId: world.resourceServer.client_id, clientSecret: 'wrong', stalenessMs: 1000 },
        onError: (err) => errors.push(err),
      });
      assert.equal(await guard.ready(500), false);
      await until(() => (errors.length ? true : undefined), 2000, 'an error report');
      assert.ok(isGuardError(errors[0]) && errors[0].code === 'unavailable', 'reported as the guard\'s own error');
      assert.equal(errors[0].detail.status, 401);
      assert.equal(guard.revocationStatus().freshness, 'stale');
    });
  });
}
