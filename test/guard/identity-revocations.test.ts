/**
 * Identity revocations (docs/design/identity.md): disabling a user (`user` event) or removing a
 * member (`member` event, id `<org>:<user>`) ends every token issued to them until then — at the
 * gateway and at guards in other processes (the guard SDK, through the revocation stream) within a
 * second — while everyone else keeps working; a user re-enabled or re-added gets working new
 * tokens (issued after the event), and disabling them again ends those too.
 *
 * Revocations are made the way another process makes them: through the store (the services'
 * own in-process shortcut would hide the cross-process delay).
 */
import type { Store } from '../../src/store/store.ts';
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGuard, type Guard } from '../../src/sdk/guard/index.ts';
import { RevocationList } from '../../src/revocation/revocation-list.ts';
import { addStaticClient, serverTargets } from '../helpers/authz.ts';
import type { TestServer } from '../helpers/server.ts';
import { storesUnderTest } from '../helpers/stores.ts';
import { postMcp, signIn, toolsList } from './sign-in.ts';

const HEADERS = { 'mcp-protocol-version': '2025-06-18' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => Math.floor(Date.now() / 1000);

/** What the people service does in some process: the store's event (not this process's list). */
async function revokeFromElsewhere(store: Store, kind: 'user' | 'member', id: string): Promise<void> {
  await store.revocations.add({ kind, id, at: now(), expiresAt: now() + 3600 });
}

/** Wait for the next second: a token issued now has iat > every event recorded until now. */
async function nextSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 20);
}

describe('revocation list: user and member events', () => {
  for (const target of storesUnderTest()) {
    it(`ends what was issued up to the event and nothing after; a repeated event moves forward (${target.name})`, async () => {
      const store = await target.make();
      const list = new RevocationList(store.revocations, now);
      await list.sync();
      const token = (subject: string, issuedAt: number, orgId?: string) => ({ grantId: undefined, jti: `j-${subject}-${issuedAt}`, subject, issuedAt, orgId });

      await store.revocations.add({ kind: 'user', id: 'u1', at: 1000, expiresAt: now() + 600 });
      await store.revocations.add({ kind: 'member', id: 'org_a:u2', at: 1000, expiresAt: now() + 600 });
      await list.sync();
      assert.ok(list.isRevoked(token('u1', 999)));
      assert.ok(list.isRevoked(token('u1', 1000, 'org_b')), 'a user event ends tokens of every org');
      assert.ok(!list.isRevoked(token('u1', 1001)), 'a token issued after the event (re-enabled) works');
      assert.ok(list.isRevoked(token('u2', 1000, 'org_a')));
      assert.ok(!list.isRevoked(token('u2', 1000, 'org_b')), 'a member event ends only that org');
      assert.ok(!list.isRevoked(token('u2', 1001, 'org_a')), 'a token issued after re-adding works');
      assert.ok(!list.isRevoked(token('u3', 1000, 'org_a')));

      // Re-enabled, then disabled again: the list (already past the first event) hears the second.
      await store.revocations.add({ kind: 'user', id: 'u1', at: 2000, expiresAt: now() + 600 });
      await list.sync();
      assert.ok(list.isRevoked(token('u1', 1500)));
      assert.ok(!list.isRevoked(token('u1', 2001)));
    });
  }
});

for (const target of serverTargets()) {
  describe(`identity revocations at the gateway and the guard SDK (${target.dialect})`, { concurrency: 1, skip: target.skip }, () => {
    let server: TestServer;
    let url: string;
    let rs: { client_id: string; client_secret: string };
    const guards: Guard[] = [];
    before(async () => {
      server = await target.start({ applications: [{ slug: 'notes', name: 'Notes', upstream: { url: 'http://127.0.0.1:9/mcp' }, autoApprove: true }] });
      url = `${server.url}/mcp/notes`;
      rs = await addStaticClient(server, { portcullis_resources: [url], client_name: 'Notes resource server' });
    });
    after(async () => {
      for (const guard of guards) await guard.close();
      await server?.stop();
    });

    const tokenOf = async (user: User) =>
      (await signIn({ url: server.url, mcpUrl: url, email: user.email, password: server.password }, { scope: 'notes:read' })).access_token;
    // tools/list reaches no upstream here (nothing listens on port 9): authentication is what is tested.
    const status = async (token: string) => (await postMcp(url, toolsList, { token, headers: HEADERS })).status;
    const accepted = async (token: string) => (await status(token)) !== 401;

    /**
     * Poll until `check` says refused; returns when the last accepted attempt was made (ms after the
     * revocation). Every attempt made `limitMs` or more after it must be refused — how long an
     * answer takes on a busy machine is not what is measured.
     */
    async function refusedWithin(check: () => Promise<boolean>, limitMs: number): Promise<number> {
      const started = Date.now();
      let lastAccepted = 0;
      for (;;) {
        const sentAt = Date.now() - started;
        if (!(await check())) return lastAccepted;
        assert.ok(sentAt < limitMs, `an attempt made ${sentAt} ms after the revocation was still accepted`);
        lastAccepted = sentAt;
        await sleep(20);
      }
    }

    function guard(): Guard {
      const created = createGuard({
        issuer: server.url,
        resource: url,
        scopesSupported: ['notes:read'],
        toolScopes: {},
        revocations: { streamUrl: `${server.url}/oauth/revocations`, clientId: rs.client_id, clientSecret: rs.client_secret },
      });
      guards.push(created);
      return created;
    }

    it('a disabled user is refused at the gateway within a second while others carry on; re-enabled, new tokens work; disabled again, those end too', async () => {
      const bob = await server.addUser(`bob-${target.dialect}@example.com`);
      const adaToken = await tokenOf(server.user);
      const bobToken = await tokenOf(bob);
      assert.ok(await accepted(bobToken));

      await server.store.users.setDisabled(bob.id, now());
      await revokeFromElsewhere(server.store, 'user', bob.id);
      assert.ok((await refusedWithin(() => accepted(bobToken), 1000)) < 1000);
      assert.ok(await accepted(adaToken), 'ada is not affected');

      await server.store.users.setDisabled(bob.id, null);
      await nextSecond();
      const fresh = await tokenOf(bob);
      assert.ok(await accepted(fresh), 'a token issued after re-enabling works');
      assert.ok(!(await accepted(bobToken)), 'the old token stays refused');

      await server.store.users.setDisabled(bob.id, now());
      await revokeFromElsewhere(server.store, 'user', bob.id);
      assert.ok((await refusedWithin(() => accepted(fresh), 1000)) < 1000, 'the second event reached the gateway');
    });

    it('a removed member is refused for that organization within a second; an event about another organization changes nothing; re-added, new tokens work', async () => {
      const carol = await server.addUser(`carol-${target.dialect}@example.com`);
      const carolToken = await tokenOf(carol);
      await revokeFromElsewhere(server.store, 'member', `org_elsewhere:${carol.id}`);
      await sleep(400);
      assert.ok(await accepted(carolToken));

      assert.equal(await server.store.orgs.removeMember(server.org.id, carol.id), 'ok');
      await revokeFromElsewhere(server.store, 'member', `${server.org.id}:${carol.id}`);
      assert.ok((await refusedWithin(() => accepted(carolToken), 1000)) < 1000);

      await server.store.orgs.addMember(server.org.id, carol.id, 'admin', now());
      await nextSecond();
      assert.ok(await accepted(await tokenOf(carol)));
      assert.ok(!(await accepted(carolToken)));
    });

    it('a guard SDK in another process hears user and member revocations through the stream within a second', async () => {
      const dave = await server.addUser(`dave-${target.dialect}@example.com`);
      const erin = await server.addUser(`erin-${target.dialect}@example.com`);
      const adaToken = await tokenOf(server.user);
      const daveToken = await tokenOf(dave);
      const erinToken = await tokenOf(erin);
      const remote = guard();
      assert.equal(await remote.ready(5000), true);
      const ok = async (token: string) => (await remote.authenticate(`Bearer ${token}`)).ok;
      assert.ok((await ok(daveToken)) && (await ok(erinToken)));

      await server.store.users.setDisabled(dave.id, now());
      await revokeFromElsewhere(server.store, 'user', dave.id);
      assert.ok((await refusedWithin(() => ok(daveToken), 1000)) < 1000);
      const refused = await remote.authenticate(`Bearer ${daveToken}`);
      assert.ok(!refused.ok);
      assert.equal(refused.error.code, 'token_revoked');
      assert.equal(refused.challenge.status, 401);

      await server.store.orgs.removeMember(server.org.id, erin.id);
      await revokeFromElsewhere(server.store, 'member', `${server.org.id}:${erin.id}`);
      assert.ok((await refusedWithin(() => ok(erinToken), 1000)) < 1000);
      assert.ok(await ok(adaToken), 'ada is not affected');

      // Re-enabled and given a new token: the guard accepts it (issued after the event); disabled
      // again, the stream carries the second event (a new sequence number) and that token ends too.
      await server.store.users.setDisabled(dave.id, null);
      await nextSecond();
      const daveAgain = await tokenOf(dave);
      assert.ok(await ok(daveAgain));
      await nextSecond();
      await server.store.users.setDisabled(dave.id, now());
      await revokeFromElsewhere(server.store, 'user', dave.id);
      assert.ok((await refusedWithin(() => ok(daveAgain), 1000)) < 1000);
    });
  });
}
