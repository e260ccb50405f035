/**
 * The Store contract: what the rest of Portcullis relies on, asserted once per implementation
 * (SQLite always; PostgreSQL when PORTCULLIS_TEST_DATABASE_URL is set). Every test gets a fresh,
 * fully migrated database. Errors are matched by `code`, never by message.
 */
import type { Store } from '../../src/store/store.ts';
import type { SessionRecord } from '../../src/store/sessions.ts';
import type { SigningKeyRecord } from '../../src/store/signing-keys.ts';
import type { OidcRecordInput } from '../../src/store/oidc.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PortcullisError } from '../../src/core/errors.ts';
import { inWorkers, pgClient, storesUnderTest } from '../helpers/stores.ts';

/** A fixed "now" (epoch seconds), far from the real clock so that nothing depends on it. */
const NOW = 1_800_000_000;

const isConflict = (err: unknown) => err instanceof PortcullisError && err.code === 'conflict';
const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();

function code(id: string, extra: Partial<OidcRecordInput> = {}): OidcRecordInput {
  return { model: 'AuthorizationCode', id, payload: JSON.stringify({ jti: id }), grantId: 'grant-1', expiresAt: NOW + 60, ...extra };
}

/** Poll `probe` until it returns true (or fail after `ms`). */
async function until(what: string, probe: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

for (const target of storesUnderTest()) {
  describe(`store contract: ${target.name}`, { skip: target.skip }, () => {
    describe('oidc', () => {
      it('finds a stored record by id, by uid and by user code, within its own model only', async () => {
        const store = await target.make();
        const device: OidcRecordInput = {
          model: 'DeviceCode',
          id: 'dc-1',
          payload: '{"a":1}',
          grantId: 'grant-1',
          userCode: 'WDJB-MJHT',
          uid: 'uid-1',
          expiresAt: NOW + 600,
        };
        await store.oidc.upsert(device);
        await store.oidc.upsert({ model: 'Session', id: 'dc-1', payload: '{"other":true}', uid: 'uid-1' });

        const expected = { ...device, parentId: null, consumedAt: null, killedAt: null, accountId: null };
        assert.deepEqual(await store.oidc.find('DeviceCode', 'dc-1'), expected);
        assert.deepEqual(await store.oidc.findByUid('DeviceCode', 'uid-1'), expected);
        assert.deepEqual(await store.oidc.findByUserCode('DeviceCode', 'WDJB-MJHT'), expected);
        assert.equal((await store.oidc.find('Session', 'dc-1'))?.payload, '{"other":true}');
        assert.equal((await store.oidc.findByUid('Session', 'uid-1'))?.payload, '{"other":true}');

        assert.equal(await store.oidc.find('DeviceCode', 'nope'), undefined);
        assert.equal(await store.oidc.find('AccessToken', 'dc-1'), undefined);
        assert.equal(await store.oidc.findByUid('Interaction', 'uid-1'), undefined);
        assert.equal(await store.oidc.findByUserCode('DeviceCode', 'XXXX-XXXX'), undefined);
      });

      it('stores optional fields as null when they are not given', async () => {
        const store = await target.make();
        await store.oidc.upsert({ model: 'Grant', id: 'g', payload: '{}' });
        assert.deepEqual(await store.oidc.find('Grant', 'g'), {
          model: 'Grant',
          id: 'g',
          payload: '{}',
          grantId: null,
          userCode: null,
          uid: null,
          parentId: null,
          expiresAt: null,
          consumedAt: null,
          killedAt: null,
          accountId: null,
        });
      });

      it('upsert replaces the payload but keeps the consumed and killed marks', async () => {
        const store = await target.make();
        await store.oidc.upsert(code('c1'));
        assert.equal(await store.oidc.consume('AuthorizationCode', 'c1', NOW), true);
        await store.oidc.upsert(code('c1', { payload: '{"v":2}', expiresAt: NOW + 120 }));
        const consumed = await store.oidc.find('AuthorizationCode', 'c1');
        assert.equal(consumed?.payload, '{"v":2}');
        assert.equal(consumed?.expiresAt, NOW + 120);
        assert.equal(consumed?.consumedAt, NOW);
        assert.equal(await store.oidc.consume('AuthorizationCode', 'c1', NOW + 1), false, 'an upsert must not make a code redeemable again');

        await store.oidc.upsert({ model: 'RefreshToken', id: 'rt', payload: '{}' });
        await store.oidc.kill('RefreshToken', ['rt'], NOW + 5);
        await store.oidc.upsert({ model: 'RefreshToken', id: 'rt', payload: '{"v":2}' });
        const killed = await store.oidc.find('RefreshToken', 'rt');
        assert.equal(killed?.payload, '{"v":2}');
        assert.equal(killed?.killedAt, NOW + 5);
      });

      it('consumes a code once: later consumes answer false and keep the first time', async () => {
        const store = await target.make();
        await store.oidc.upsert(code('c1'));
        assert.equal(await store.oidc.consume('AuthorizationCode', 'c1', NOW), true);
        assert.equal(await store.oidc.consume('AuthorizationCode', 'c1', NOW + 1), false);
        assert.equal((await store.oidc.find('AuthorizationCode', 'c1'))?.consumedAt, NOW);
        assert.equal(await store.oidc.consume('AuthorizationCode', 'missing', NOW), false);
        assert.equal(await store.oidc.consume('DeviceCode', 'c1', NOW), false, 'same id, other model');
      });

      it('lets exactly one of 40 concurrent redemptions of one code win', async () => {
        const store = await target.make();
        await store.oidc.upsert(code('c1'));
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => store.oidc.consume('AuthorizationCode', 'c1', NOW + i)),
        );
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal((await store.oidc.find('AuthorizationCode', 'c1'))?.consumedAt, NOW + results.indexOf(true));
      });

      it('lets exactly one redemption win when several processes share the database', async () => {
        const location = await target.location();
        const store = await location.open();
        await store.migrate();
        await store.oidc.upsert(code('c1'));
        const wins = await inWorkers<number>(location, 4, { job: 'consume', model: 'AuthorizationCode', id: 'c1', attempts: 10 });
        assert.equal(
          wins.reduce((a, b) => a + b, 0),
          1,
          `wins per process: ${wins.join(', ')}`,
        );
        assert.notEqual((await store.oidc.find('AuthorizationCode', 'c1'))?.consumedAt, null);
      });

      if (target.dialect === 'postgres') {
        it('redemptions that race on several connections at once still have one winner', async () => {
          const location = await target.location();
          const store = await location.open();
          await store.migrate();
          await store.oidc.upsert(code('c1'));
          // Hold the row so that every redemption is in flight at once, each on its own connection.
          const holder = await pgClient(location.schema);
          await holder.query('BEGIN');
          await holder.query("SELECT 1 FROM oidc_records WHERE model = 'AuthorizationCode' AND id = 'c1' FOR UPDATE");
          const pending = Promise.all(Array.from({ length: 30 }, (_, i) => store.oidc.consume('AuthorizationCode', 'c1', NOW + i)));
          const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
          const inFlight = async () =>
            Number(
              (
                await holder.query<{ n: string }>(
                  `SELECT count(DISTINCT pid) AS n FROM pg_locks
                   WHERE relation = 'oidc_records'::regclass AND mode = 'RowExclusiveLock' AND pid <> $1`,
                  [holderPid],
                )
              ).rows[0].n,
            );
          let connections = 0;
          try {
            // The pool opens connections one by one; wait for a plateau rather than a number it may not reach.
            await until('several redemptions are waiting on the row', async () => (connections = await inFlight()) >= 4);
            await sleep(100);
            connections = await inFlight();
          } finally {
            await holder.query('COMMIT');
          }
          const results = await pending;
          if (process.env.PCT_DEBUG) console.log(`connections redeeming at once: ${connections}`);
          assert.ok(connections >= 4, `only ${connections} connections were redeeming at once`);
          assert.equal(results.filter(Boolean).length, 1);
        });
      }

      it('destroy removes one record and nothing else', async () => {
        const store = await target.make();
        await store.oidc.upsert(code('c1'));
        await store.oidc.upsert(code('c2'));
        await store.oidc.upsert({ model: 'AccessToken', id: 'c1', payload: '{}' });
        await store.oidc.destroy('AuthorizationCode', 'c1');
        await store.oidc.destroy('AuthorizationCode', 'never-existed');
        assert.equal(await store.oidc.find('AuthorizationCode', 'c1'), undefined);
        assert.ok(await store.oidc.find('AuthorizationCode', 'c2'));
        assert.ok(await store.oidc.find('AccessToken', 'c1'));
      });

      it("revoking a grant removes every model's records for that grant and nothing else", async () => {
        const store = await target.make();
        const models = ['AuthorizationCode', 'AccessToken', 'RefreshToken', 'DeviceCode', 'Grant'];
        for (const model of models) {
          await store.oidc.upsert({ model, id: `${model}-1`, payload: '{}', grantId: 'grant-1' });
          await store.oidc.upsert({ model, id: `${model}-2`, payload: '{}', grantId: 'grant-2' });
        }
        await store.oidc.upsert({ model: 'Session', id: 's', payload: '{}' });
        await store.oidc.consume('AuthorizationCode', 'AuthorizationCode-1', NOW);

        assert.equal(await store.oidc.revokeByGrantId('grant-1'), models.length);
        for (const model of models) {
          assert.equal(await store.oidc.find(model, `${model}-1`), undefined, `${model} of grant-1`);
          assert.ok(await store.oidc.find(model, `${model}-2`), `${model} of grant-2`);
        }
        assert.ok(await store.oidc.find('Session', 's'));
        assert.equal(await store.oidc.revokeByGrantId('grant-1'), 0);
      });

      it('children lists the records rotated from a parent, in that model only', async () => {
        const store = await target.make();
        await store.oidc.upsert({ model: 'RefreshToken', id: 'r1', payload: '{}' });
        await store.oidc.upsert({ model: 'RefreshToken', id: 'r2', payload: '{}', parentId: 'r1' });
        await store.oidc.upsert({ model: 'RefreshToken', id: 'r3', payload: '{}', parentId: 'r1' });
        await store.oidc.upsert({ model: 'RefreshToken', id: 'r4', payload: '{}', parentId: 'r2' });
        await store.oidc.upsert({ model: 'AccessToken', id: 'a1', payload: '{}', parentId: 'r1' });
        const children = await store.oidc.children('RefreshToken', 'r1');
        assert.deepEqual(ids(children), ['r2', 'r3']);
        assert.ok(children.every((c) => c.model === 'RefreshToken' && c.parentId === 'r1'));
        assert.deepEqual(await store.oidc.children('RefreshToken', 'r4'), []);
      });

      it('kill marks live records, never consumed ones, and keeps the first kill time', async () => {
        const store = await target.make();
        for (const id of ['live', 'consumed', 'killed']) await store.oidc.upsert({ model: 'RefreshToken', id, payload: '{}' });
        await store.oidc.upsert({ model: 'AccessToken', id: 'live', payload: '{}' });
        await store.oidc.consume('RefreshToken', 'consumed', NOW);
        await store.oidc.kill('RefreshToken', ['killed'], NOW + 1);

        await store.oidc.kill('RefreshToken', ['live', 'consumed', 'killed', 'unknown'], NOW + 2);
        const live = await store.oidc.find('RefreshToken', 'live');
        const consumed = await store.oidc.find('RefreshToken', 'consumed');
        const killed = await store.oidc.find('RefreshToken', 'killed');
        assert.equal(live?.killedAt, NOW + 2);
        assert.equal(live?.consumedAt, null);
        assert.equal(consumed?.killedAt, null);
        assert.equal(consumed?.consumedAt, NOW);
        assert.equal(killed?.killedAt, NOW + 1);
        assert.equal((await store.oidc.find('AccessToken', 'live'))?.killedAt, null, 'same id, other model');
        assert.equal(await store.oidc.find('RefreshToken', 'unknown'), undefined);
        await store.oidc.kill('RefreshToken', [], NOW + 3);
      });

      it('deleteExpired removes records expired before now and keeps the rest', async () => {
        const store = await target.make();
        await store.oidc.upsert(code('old', { expiresAt: NOW - 10 }));
        await store.oidc.upsert(code('older', { expiresAt: NOW - 1000 }));
        await store.oidc.upsert(code('fresh', { expiresAt: NOW + 10 }));
        await store.oidc.upsert({ model: 'Grant', id: 'forever', payload: '{}' });
        assert.equal(await store.oidc.deleteExpired(NOW), 2);
        assert.equal(await store.oidc.find('AuthorizationCode', 'old'), undefined);
        assert.equal(await store.oidc.find('AuthorizationCode', 'older'), undefined);
        assert.ok(await store.oidc.find('AuthorizationCode', 'fresh'));
        assert.ok(await store.oidc.find('Grant', 'forever'));
        assert.equal(await store.oidc.deleteExpired(NOW), 0);
      });
    });

    describe('users', () => {
      it('creates a user and finds it by id and by e-mail in any case', async () => {
        const store = await target.make();
        const before = Math.floor(Date.now() / 1000);
        const user = await store.users.create({ email: 'Ada@Example.com', name: 'Ada', passwordHash: '$argon2id$x' });
        assert.match(user.id, /\S/);
        assert.equal(user.email, 'Ada@Example.com');
        assert.equal(user.name, 'Ada');
        assert.equal(user.passwordHash, '$argon2id$x');
        assert.equal(user.isAdmin, false);
        assert.equal(user.disabledAt, null);
        assert.ok(user.createdAt >= before && user.createdAt <= Math.floor(Date.now() / 1000) + 1);
        assert.deepEqual(await store.users.findById(user.id), user);
        assert.deepEqual(await store.users.findByEmail('ada@example.com'), user);
        assert.deepEqual(await store.users.findByEmail('ADA@EXAMPLE.COM'), user);
        assert.equal(await store.users.findByEmail('bob@example.com'), undefined);
        assert.equal(await store.users.findById('usr_nope'), undefined);
      });

      it('defaults name and password to null and keeps isAdmin a boolean', async () => {
        const store = await target.make();
        const admin = await store.users.create({ email: 'root@example.com', isAdmin: true });
        assert.equal(admin.name, null);
        assert.equal(admin.passwordHash, null);
        assert.equal((await store.users.findById(admin.id))?.isAdmin, true);
        const member = await store.users.create({ email: 'm@example.com' });
        assert.equal((await store.users.findById(member.id))?.isAdmin, false);
      });

      it('refuses a second user with the same e-mail in another case, and leaves the first untouched', async () => {
        const store = await target.make();
        const first = await store.users.create({ email: 'ada@example.com', name: 'Ada', passwordHash: 'h1' });
        await assert.rejects(store.users.create({ email: 'ADA@example.COM', name: 'Mallory', passwordHash: 'h2', isAdmin: true }), isConflict);
        assert.equal(await store.users.count(), 1);
        assert.deepEqual(await store.users.findByEmail('ada@example.com'), first);
        assert.deepEqual(await store.users.list(), [first]);
      });

      it('lets exactly one of several concurrent sign-ups with one e-mail succeed', async () => {
        const store = await target.make();
        const emails = ['eve@example.com', 'EVE@example.com', 'Eve@Example.com', 'eve@EXAMPLE.com', 'eVe@example.com'];
        const results = await Promise.allSettled([...emails, ...emails].map((email) => store.users.create({ email })));
        const created = results.filter((r) => r.status === 'fulfilled');
        assert.equal(created.length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(isConflict(r.reason), String(r.reason));
        assert.equal(await store.users.count(), 1);
      });

      it('sets a password, lists every user and counts them', async () => {
        const store = await target.make();
        assert.equal(await store.users.count(), 0);
        assert.deepEqual(await store.users.list(), []);
        const a = await store.users.create({ email: 'a@example.com' });
        const b = await store.users.create({ email: 'b@example.com', passwordHash: 'old' });
        await store.users.setPassword(b.id, 'new');
        assert.equal((await store.users.findById(b.id))?.passwordHash, 'new');
        assert.equal((await store.users.findById(a.id))?.passwordHash, null);
        assert.equal(await store.users.count(), 2);
        assert.deepEqual(byId(await store.users.list()), byId([a, { ...b, passwordHash: 'new' }]));
      });
    });

    describe('clients', () => {
      it('stores a client and reads its metadata back', async () => {
        const store = await target.make();
        const metadata = { client_name: 'Claude', redirect_uris: ['http://127.0.0.1/cb'], nested: { a: [1, true, null] } };
        await store.clients.upsert({ clientId: 'c1', metadata, kind: 'dynamic', createdAt: NOW });
        assert.deepEqual(await store.clients.find('c1'), { clientId: 'c1', metadata, kind: 'dynamic', createdAt: NOW, lastUsedAt: null });
        assert.equal(await store.clients.find('c2'), undefined);
        await store.clients.upsert({ clientId: 'c2', metadata: {}, kind: 'static' });
        const c2 = await store.clients.find('c2');
        assert.ok(c2 && Math.abs(c2.createdAt - Date.now() / 1000) < 60, 'createdAt defaults to now');
        assert.deepEqual((await store.clients.list()).map((c) => c.clientId).sort(), ['c1', 'c2']);
      });

      it('upsert replaces metadata but keeps createdAt and lastUsedAt', async () => {
        const store = await target.make();
        await store.clients.upsert({ clientId: 'c1', metadata: { v: 1 }, kind: 'dynamic', createdAt: NOW });
        await store.clients.markUsed('c1', NOW + 5);
        await store.clients.upsert({ clientId: 'c1', metadata: { v: 2 }, kind: 'dynamic', createdAt: NOW + 100 });
        assert.deepEqual(await store.clients.find('c1'), { clientId: 'c1', metadata: { v: 2 }, kind: 'dynamic', createdAt: NOW, lastUsedAt: NOW + 5 });
      });

      it('deletes a client, answering whether there was one', async () => {
        const store = await target.make();
        await store.clients.upsert({ clientId: 'c1', metadata: {}, kind: 'static', createdAt: NOW });
        assert.equal(await store.clients.delete('c1'), true);
        assert.equal(await store.clients.delete('c1'), false);
        assert.equal(await store.clients.find('c1'), undefined);
      });

      it('deleteUnusedDynamic removes only never-used dynamic clients older than the cutoff', async () => {
        const store = await target.make();
        const cutoff = NOW - 3600;
        await store.clients.upsert({ clientId: 'old-unused-dynamic', metadata: {}, kind: 'dynamic', createdAt: cutoff - 10 });
        await store.clients.upsert({ clientId: 'old-used-dynamic', metadata: {}, kind: 'dynamic', createdAt: cutoff - 10 });
        await store.clients.markUsed('old-used-dynamic', cutoff - 5);
        await store.clients.upsert({ clientId: 'new-unused-dynamic', metadata: {}, kind: 'dynamic', createdAt: cutoff + 10 });
        await store.clients.upsert({ clientId: 'old-unused-static', metadata: {}, kind: 'static', createdAt: cutoff - 10 });
        assert.equal(await store.clients.deleteUnusedDynamic(cutoff), 1);
        assert.deepEqual((await store.clients.list()).map((c) => c.clientId).sort(), ['new-unused-dynamic', 'old-unused-static', 'old-used-dynamic']);
      });
    });

    describe('signingKeys', () => {
      const key = (kid: string, createdAt: number, retiredAt: number | null = null): SigningKeyRecord => ({
        kid,
        alg: 'ES256',
        publicJwk: JSON.stringify({ kty: 'EC', kid }),
        privateJwkSealed: `sealed:${kid}`,
        createdAt,
        retiredAt,
      });
      const byKid = (keys: SigningKeyRecord[]) => [...keys].sort((a, b) => a.kid.localeCompare(b.kid));

      it('lists the keys it was given', async () => {
        const store = await target.make();
        assert.deepEqual(await store.signingKeys.list(), []);
        const keys = [key('k1', NOW - 100, NOW - 50), key('k2', NOW)];
        for (const k of keys) await store.signingKeys.insert(k);
        assert.deepEqual(byKid(await store.signingKeys.list()), keys);
      });

      it('retireAllExcept retires every other active key and leaves retired ones as they were', async () => {
        const store = await target.make();
        await store.signingKeys.insert(key('k0', NOW - 300, NOW - 200));
        await store.signingKeys.insert(key('k1', NOW - 100));
        await store.signingKeys.insert(key('k2', NOW - 50));
        await store.signingKeys.insert(key('k3', NOW));
        await store.signingKeys.retireAllExcept('k3', NOW + 1);
        assert.deepEqual(
          byKid(await store.signingKeys.list()).map((k) => [k.kid, k.retiredAt]),
          [
            ['k0', NOW - 200],
            ['k1', NOW + 1],
            ['k2', NOW + 1],
            ['k3', null],
          ],
        );
      });

      it('deleteRetiredBefore removes keys retired before the time, never active ones', async () => {
        const store = await target.make();
        await store.signingKeys.insert(key('long-retired', NOW - 300, NOW - 200));
        await store.signingKeys.insert(key('just-retired', NOW - 100, NOW - 10));
        await store.signingKeys.insert(key('active-old', NOW - 1000));
        assert.equal(await store.signingKeys.deleteRetiredBefore(NOW - 50), 1);
        assert.deepEqual(byKid(await store.signingKeys.list()).map((k) => k.kid), ['active-old', 'just-retired']);
      });

      it('deleteRetired removes one retired key, and refuses an active or unknown one', async () => {
        const store = await target.make();
        await store.signingKeys.insert(key('retired', NOW - 300, NOW - 200));
        await store.signingKeys.insert(key('other-retired', NOW - 250, NOW - 200));
        await store.signingKeys.insert(key('active', NOW));
        assert.equal(await store.signingKeys.deleteRetired('active'), false);
        assert.equal(await store.signingKeys.deleteRetired('unknown'), false);
        assert.equal(await store.signingKeys.deleteRetired('retired'), true);
        assert.equal(await store.signingKeys.deleteRetired('retired'), false, 'gone already');
        assert.deepEqual(byKid(await store.signingKeys.list()).map((k) => k.kid), ['active', 'other-retired']);
      });
    });

    describe('revocations', () => {
      it('add is idempotent per kind and id, returning the same sequence number', async () => {
        const store = await target.make();
        const seq = await store.revocations.add({ kind: 'grant', id: 'g1', at: NOW, expiresAt: NOW + 3600 });
        assert.equal(await store.revocations.add({ kind: 'grant', id: 'g1', at: NOW + 5, expiresAt: NOW + 7200 }), seq);
        const other = await store.revocations.add({ kind: 'token', id: 'g1', at: NOW, expiresAt: NOW + 3600 });
        assert.notEqual(other, seq);
        assert.deepEqual(
          (await store.revocations.since(0)).map((e) => [e.kind, e.id]),
          [
            ['grant', 'g1'],
            ['token', 'g1'],
          ],
        );
        const concurrent = await Promise.all(
          Array.from({ length: 20 }, () => store.revocations.add({ kind: 'user', id: 'u1', at: NOW, expiresAt: NOW + 60 })),
        );
        assert.equal(new Set(concurrent).size, 1);
        assert.equal((await store.revocations.since(0)).filter((e) => e.kind === 'user').length, 1);
      });

      it('a user disabled again (or a member removed again) moves the event forward under a new sequence number', async () => {
        const store = await target.make();
        const first = await store.revocations.add({ kind: 'user', id: 'u1', at: NOW, expiresAt: NOW + 600 });
        const member = await store.revocations.add({ kind: 'member', id: 'org_1:u1', at: NOW, expiresAt: NOW + 600 });
        // A poller has seen both; the user is re-enabled, re-added, then disabled and removed again.
        const seen = Math.max(first, member);
        const again = await store.revocations.add({ kind: 'user', id: 'u1', at: NOW + 50, expiresAt: NOW + 650 });
        const memberAgain = await store.revocations.add({ kind: 'member', id: 'org_1:u1', at: NOW + 50, expiresAt: NOW + 650 });
        assert.ok(again > seen && memberAgain > again);
        assert.deepEqual(await store.revocations.since(seen), [
          { seq: again, kind: 'user', id: 'u1', at: NOW + 50, expiresAt: NOW + 650 },
          { seq: memberAgain, kind: 'member', id: 'org_1:u1', at: NOW + 50, expiresAt: NOW + 650 },
        ]);
        // One row per (kind, id): the old event is gone, and an older or repeated event changes nothing.
        assert.equal((await store.revocations.since(0)).length, 2);
        assert.equal(await store.revocations.add({ kind: 'user', id: 'u1', at: NOW + 10, expiresAt: NOW + 600 }), again);
        assert.equal(await store.revocations.add({ kind: 'user', id: 'u1', at: NOW + 50, expiresAt: NOW + 650 }), again);
        // A grant stays revoked once: its event never moves.
        const grant = await store.revocations.add({ kind: 'grant', id: 'g1', at: NOW, expiresAt: NOW + 60 });
        assert.equal(await store.revocations.add({ kind: 'grant', id: 'g1', at: NOW + 50, expiresAt: NOW + 120 }), grant);
      });

      it('since replays events after a sequence number, in order, up to a limit', async () => {
        const store = await target.make();
        const seqs: number[] = [];
        for (const [i, kind] of (['grant', 'token', 'user', 'key', 'session'] as const).entries()) {
          seqs.push(await store.revocations.add({ kind, id: `id-${i}`, at: NOW + i, expiresAt: NOW + 3600 }));
        }
        assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
        assert.equal(new Set(seqs).size, seqs.length);
        const all = await store.revocations.since(0);
        assert.deepEqual(all, [
          { seq: seqs[0], kind: 'grant', id: 'id-0', at: NOW, expiresAt: NOW + 3600 },
          { seq: seqs[1], kind: 'token', id: 'id-1', at: NOW + 1, expiresAt: NOW + 3600 },
          { seq: seqs[2], kind: 'user', id: 'id-2', at: NOW + 2, expiresAt: NOW + 3600 },
          { seq: seqs[3], kind: 'key', id: 'id-3', at: NOW + 3, expiresAt: NOW + 3600 },
          { seq: seqs[4], kind: 'session', id: 'id-4', at: NOW + 4, expiresAt: NOW + 3600 },
        ]);
        assert.deepEqual(await store.revocations.since(seqs[1]), all.slice(2));
        assert.deepEqual(await store.revocations.since(seqs[1], 2), all.slice(2, 4));
        assert.deepEqual(await store.revocations.since(seqs[4]), []);
      });

      it('isRevoked answers for the exact kind and id', async () => {
        const store = await target.make();
        await store.revocations.add({ kind: 'key', id: 'k1', at: NOW, expiresAt: NOW + 60 });
        assert.equal(await store.revocations.isRevoked('key', 'k1'), true);
        assert.equal(await store.revocations.isRevoked('token', 'k1'), false);
        assert.equal(await store.revocations.isRevoked('key', 'k2'), false);
      });

      it('deleteExpired drops old events, and later events never reuse their numbers', async () => {
        const store = await target.make();
        const kept = await store.revocations.add({ kind: 'grant', id: 'long', at: NOW, expiresAt: NOW + 3600 });
        const gone = await store.revocations.add({ kind: 'grant', id: 'short', at: NOW, expiresAt: NOW - 1 });
        assert.equal(await store.revocations.deleteExpired(NOW), 1);
        assert.equal(await store.revocations.isRevoked('grant', 'short'), false);
        assert.equal(await store.revocations.isRevoked('grant', 'long'), true);
        assert.deepEqual((await store.revocations.since(0)).map((e) => e.seq), [kept]);
        // A consumer that saw `gone` replays from it: a reused number would hide the next event.
        const next = await store.revocations.add({ kind: 'grant', id: 'next', at: NOW, expiresAt: NOW + 3600 });
        assert.ok(next > gone, `seq ${next} reused after ${gone}`);
        assert.deepEqual((await store.revocations.since(gone)).map((e) => e.id), ['next']);
      });

      if (target.dialect === 'postgres') {
        it('never shows an event after a later one, so consumers replaying from their last seq miss nothing', async () => {
          const location = await target.location();
          const store = await location.open();
          await store.migrate();
          // Another process is in the middle of revoking grant g1: its insert is not committed yet.
          const other = await pgClient(location.schema);
          await other.query('BEGIN');
          await other.query("INSERT INTO revocations (kind, id, at, expires_at) VALUES ('grant', 'g1', $1, $2)", [NOW, NOW + 60]);
          const otherPid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
          const blockedByOther = async () =>
            Number(
              (await other.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [otherPid]))
                .rows[0].n,
            ) > 0;

          const first = store.revocations.add({ kind: 'grant', id: 'g1', at: NOW, expiresAt: NOW + 60 });
          let second: Promise<number> | undefined;
          let seen: { seq: number; id: string }[] = [];
          try {
            await until('the first add waits for the other process', blockedByOther);
            second = store.revocations.add({ kind: 'grant', id: 'g2', at: NOW, expiresAt: NOW + 60 });
            await Promise.race([second, sleep(300)]);
            seen = await store.revocations.since(0); // a gateway polls meanwhile
          } finally {
            await other.query('ROLLBACK');
          }
          await Promise.all([first, second]);
          const watermark = Math.max(0, ...seen.map((e) => e.seq));
          const replayed = await store.revocations.since(watermark);
          assert.deepEqual([...seen, ...replayed].map((e) => e.id).sort(), ['g1', 'g2'], `saw ${JSON.stringify(seen)} first`);
        });
      }
    });

    describe('oneTime', () => {
      it('gives a value back once, then never again', async () => {
        const store = await target.make();
        await store.oneTime.put('setup', 'k1', 'v1', NOW + 60);
        assert.equal(await store.oneTime.consume('setup', 'k1', NOW), 'v1');
        assert.equal(await store.oneTime.consume('setup', 'k1', NOW), undefined);
        assert.equal(await store.oneTime.consume('setup', 'never', NOW), undefined);
      });

      it('keeps kinds apart', async () => {
        const store = await target.make();
        await store.oneTime.put('setup', 'k', 'setup-value', NOW + 60);
        await store.oneTime.put('reset', 'k', 'reset-value', NOW + 60);
        assert.equal(await store.oneTime.consume('invite', 'k', NOW), undefined);
        assert.equal(await store.oneTime.consume('reset', 'k', NOW), 'reset-value');
        assert.equal(await store.oneTime.consume('setup', 'k', NOW), 'setup-value');
      });

      it('does not return an expired value', async () => {
        const store = await target.make();
        await store.oneTime.put('setup', 'k1', 'v1', NOW + 60);
        assert.equal(await store.oneTime.consume('setup', 'k1', NOW + 61), undefined);
        assert.equal(await store.oneTime.consume('setup', 'k1', NOW + 3600), undefined);
      });

      it('gives the value to exactly one of 30 concurrent consumers', async () => {
        const store = await target.make();
        await store.oneTime.put('code', 'abc', 'the-value', NOW + 60);
        const results = await Promise.all(Array.from({ length: 30 }, () => store.oneTime.consume('code', 'abc', NOW)));
        assert.deepEqual(results.filter((r) => r !== undefined), ['the-value']);
      });

      it('deleteExpired removes only expired values', async () => {
        const store = await target.make();
        await store.oneTime.put('setup', 'old', 'v', NOW - 1);
        await store.oneTime.put('setup', 'new', 'v', NOW + 60);
        assert.equal(await store.oneTime.deleteExpired(NOW), 1);
        assert.equal(await store.oneTime.consume('setup', 'new', NOW), 'v');
      });
    });

    describe('sessions', () => {
      async function withUsers(store: Store) {
        const ada = await store.users.create({ email: 'ada@example.com' });
        const bob = await store.users.create({ email: 'bob@example.com' });
        const session = (id: string, userId: string, createdAt = NOW, expiresAt = NOW + 3600): SessionRecord => ({
          id,
          userId,
          createdAt,
          expiresAt,
          lastSeenAt: createdAt,
          authTime: createdAt - 5,
          amr: ['pwd', 'otp'],
          ip: '203.0.113.7',
          userAgent: 'Mozilla/5.0',
        });
        return { ada, bob, session };
      }

      it('stores a session and finds it', async () => {
        const store = await target.make();
        const { ada, session } = await withUsers(store);
        const s = session('s1', ada.id);
        await store.sessions.create(s);
        assert.deepEqual(await store.sessions.find('s1'), s);
        const bare = { ...session('s2', ada.id), amr: [], ip: null, userAgent: null };
        await store.sessions.create(bare);
        assert.deepEqual(await store.sessions.find('s2'), bare);
        assert.equal(await store.sessions.find('s3'), undefined);
      });

      it('touch moves lastSeenAt only', async () => {
        const store = await target.make();
        const { ada, session } = await withUsers(store);
        await store.sessions.create(session('s1', ada.id));
        await store.sessions.touch('s1', NOW + 30);
        assert.deepEqual(await store.sessions.find('s1'), { ...session('s1', ada.id), lastSeenAt: NOW + 30 });
      });

      it("lists and deletes one user's sessions without touching another's", async () => {
        const store = await target.make();
        const { ada, bob, session } = await withUsers(store);
        await store.sessions.create(session('a1', ada.id, NOW));
        await store.sessions.create(session('a2', ada.id, NOW + 10));
        await store.sessions.create(session('b1', bob.id));
        assert.deepEqual(ids(await store.sessions.listForUser(ada.id)), ['a1', 'a2']);
        await store.sessions.delete('a1');
        assert.equal(await store.sessions.find('a1'), undefined);
        assert.equal(await store.sessions.deleteForUser(ada.id), 1);
        assert.deepEqual(await store.sessions.listForUser(ada.id), []);
        assert.deepEqual(ids(await store.sessions.listForUser(bob.id)), ['b1']);
      });

      it('deleteExpired removes expired sessions only', async () => {
        const store = await target.make();
        const { ada, session } = await withUsers(store);
        await store.sessions.create(session('old', ada.id, NOW - 7200, NOW - 1));
        await store.sessions.create(session('live', ada.id, NOW, NOW + 60));
        assert.equal(await store.sessions.deleteExpired(NOW), 1);
        assert.deepEqual(ids(await store.sessions.listForUser(ada.id)), ['live']);
      });
    });

    describe('demo', () => {
      it('keeps projects and their notes', async () => {
        const store = await target.make();
        assert.deepEqual(await store.demo.listProjects(), []);
        await store.demo.putProject({ id: 'p1', name: 'Apollo', createdAt: NOW });
        await store.demo.putProject({ id: 'p2', name: 'Gemini', createdAt: NOW + 1 });
        await store.demo.putProject({ id: 'p1', name: 'Apollo 11', createdAt: NOW });
        assert.deepEqual(byId(await store.demo.listProjects()), [
          { id: 'p1', name: 'Apollo 11', createdAt: NOW },
          { id: 'p2', name: 'Gemini', createdAt: NOW + 1 },
        ]);

        const note = { id: 'n1', projectId: 'p1', title: 'Launch', body: 'T-minus 10', updatedAt: NOW };
        await store.demo.putNote(note);
        await store.demo.putNote({ id: 'n2', projectId: 'p1', title: 'Landing', body: '', updatedAt: NOW + 1 });
        await store.demo.putNote({ id: 'n3', projectId: 'p2', title: 'Orbit', body: 'x', updatedAt: NOW });
        assert.deepEqual(await store.demo.getNote('n1'), note);
        assert.deepEqual(ids(await store.demo.listNotes('p1')), ['n1', 'n2']);
        assert.deepEqual(ids(await store.demo.listNotes('p2')), ['n3']);
        assert.deepEqual(await store.demo.listNotes('p3'), []);

        await store.demo.putNote({ ...note, title: 'Launch!', body: 'liftoff', updatedAt: NOW + 5 });
        assert.deepEqual(await store.demo.getNote('n1'), { ...note, title: 'Launch!', body: 'liftoff', updatedAt: NOW + 5 });
        assert.equal(await store.demo.deleteNote('n1'), true);
        assert.equal(await store.demo.deleteNote('n1'), false);
        assert.equal(await store.demo.getNote('n1'), undefined);
      });
    });

    describe('lifecycle', () => {
      it('answers ping while open', async () => {
        const store = await target.make();
        await store.ping();
        assert.equal(store.dialect, target.dialect);
      });
    });
  });
}
