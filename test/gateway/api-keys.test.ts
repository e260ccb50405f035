/**
 * API keys as bearer credentials at the gateway, the introspection endpoint and the guard SDK
 * (docs/design/identity.md "API keys"): `Authorization: Bearer pcs_…` resolves into the same
 * permission model as an access token — the key's scopes decide which tools are listed and
 * callable, its resources which arguments, its applications where it works at all; an expired,
 * revoked or foreign key gets 401 invalid_token; a revocation (made by another process, through
 * the store) is refused within a second while other keys keep working; the key shrinks with its
 * creator; last use is recorded, at most once a minute.
 *
 * Keys are written straight to the store with the real key format and the server's pepper, as the
 * issuance service does.
 */
import type { ApiKeyPermissions } from '../../src/store/api-keys.ts';
import type { OrgResource } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { loadRootSecret } from '../../src/core/secrets.ts';
import { randomToken } from '../../src/core/crypto.ts';
import { RpcError } from '../../src/gateway/jsonrpc.ts';
import { createGuard } from '../../src/sdk/guard/index.ts';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from '../../src/api-keys/format.ts';
import { addStaticClient, introspect, serverTargets } from '../helpers/authz.ts';
import type { TestServer } from '../helpers/server.ts';
import { bearerParams, postMcp, toolCall, toolsList } from '../guard/sign-in.ts';
import { testClock } from '../helpers/clock.ts';
import { waitFor } from '../helpers/gateway.ts';
import { startRecordingUpstream, type RecordingUpstream } from './conditions-fixture.ts';

const HEADERS = { 'mcp-protocol-version': '2025-06-18' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface KeyOptions {
  user?: User;
  applications?: string[] | null;
  resources?: string[] | null;
  permissions?: ApiKeyPermissions;
  expiresAt?: number | null;
}

interface World {
  server: TestServer;
  upstream: RecordingUpstream;
  files: string;
  other: string;
  prjA: OrgResource;
  prjC: OrgResource;
  /** A key written to the store as the issuance service writes one. */
  key(options?: KeyOptions): Promise<{ id: string; secret: string }>;
}

/** The servers' clock: the tests move it past the key cache's age and the last-use minute. */
const clock = testClock();
const now = () => clock.now();

async function startWorld(start: (overrides: object) => Promise<TestServer>): Promise<World> {
  const upstream = await startRecordingUpstream([
    { name: 'read_notes', annotations: { readOnlyHint: true } },
    { name: 'write_note', annotations: { readOnlyHint: false, destructiveHint: false } },
    { name: 'close_books', annotations: { readOnlyHint: false, destructiveHint: true } },
  ]);
  const app = (slug: string) => ({
    slug,
    name: `App ${slug}`,
    upstream: { url: upstream.url },
    autoApprove: true,
    tools: { read_notes: { arguments: { projectId: 'project' } }, write_note: { arguments: { projectId: 'project' } }, close_books: { stepUp: { maxAge: 300 } } },
  });
  const server = await start({ applications: [app('files'), app('other')] });
  const { pepper } = loadRootSecret({ secretKey: server.config.secretKey, dataDir: server.config.dataDir }).secrets;
  const ws1 = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'workspace', parentId: null, name: 'Engineering', at: now() });
  const prjA = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'project', parentId: ws1.id, name: 'Alpha', at: now() });
  const ws2 = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'workspace', parentId: null, name: 'Finance', at: now() });
  const prjC = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'project', parentId: ws2.id, name: 'Budget', at: now() });
  const world: World = {
    server,
    upstream,
    files: `${server.url}/mcp/files`,
    other: `${server.url}/mcp/other`,
    prjA,
    prjC,
    async key(options = {}) {
      const secret = generateApiKey();
      const id = `key_${randomToken(12)}`;
      await server.store.apiKeys.create({
        id,
        orgId: server.org.id,
        userId: (options.user ?? server.user).id,
        name: 'CI',
        prefix: apiKeyDisplayPrefix(secret),
        hash: hashApiKey(pepper, secret),
        applications: options.applications === undefined ? null : options.applications,
        resources: options.resources === undefined ? null : options.resources,
        permissions: options.permissions ?? { mode: 'simple', level: 'read' },
        createdAt: now() - 1,
        expiresAt: options.expiresAt === undefined ? null : options.expiresAt,
      });
      return { id, secret };
    },
  };
  // The gateway learns the upstream's tools in the background at start.
  const probe = await world.key({ permissions: { mode: 'simple', level: 'write' } });
  for (let i = 0; i < 200; i++) {
    const answer = await postMcp(world.files, toolsList, { token: probe.secret, headers: HEADERS });
    const tools = (answer.json as { result?: { tools?: unknown[] } })?.result?.tools ?? [];
    const other = await postMcp(world.other, toolsList, { token: probe.secret, headers: HEADERS });
    if (tools.length >= 2 && ((other.json as { result?: { tools?: unknown[] } })?.result?.tools?.length ?? 0) >= 2) break;
    await sleep(50);
  }
  return world;
}

const toolNames = (answer: { json: unknown }) => ((answer.json as { result?: { tools?: { name: string }[] } }).result?.tools ?? []).map((t) => t.name).sort();
type RpcBody = { result?: { content?: { text?: string }[] }; error?: { code: number; data?: Record<string, string> } };

async function assertUnauthorized(url: string, secret: string): Promise<void> {
  const answer = await postMcp(url, toolsList, { token: secret, headers: HEADERS });
  assert.equal(answer.status, 401, answer.text);
  assert.equal(bearerParams(answer.headers.get('www-authenticate')).error, 'invalid_token');
}

/**
 * Poll until `url` refuses `secret` with 401. Returns when (ms after the call) the last request
 * that was still accepted had been sent: every request sent `limitMs` or more after the revocation
 * must be refused (how long an answer takes on a busy machine is not what is measured).
 */
async function refusedWithin(url: string, secret: string, limitMs: number): Promise<number> {
  const started = Date.now();
  let lastAccepted = 0;
  for (;;) {
    const sentAt = Date.now() - started;
    const answer = await postMcp(url, toolsList, { token: secret, headers: HEADERS });
    if (answer.status === 401) {
      assert.equal(bearerParams(answer.headers.get('www-authenticate')).error, 'invalid_token');
      return lastAccepted;
    }
    assert.equal(answer.status, 200, answer.text);
    assert.ok(sentAt < limitMs, `a request sent ${sentAt} ms after the revocation was still accepted`);
    lastAccepted = sentAt;
    await sleep(20);
  }
}

for (const target of serverTargets()) {
  describe(`gateway: API keys as bearer credentials (${target.dialect})`, { concurrency: 1, skip: target.skip }, () => {
    let w: World;
    before(async () => {
      w = await startWorld((overrides) => target.start(overrides, { clock }));
    });
    after(async () => {
      await w?.server.stop();
      await w?.upstream.stop();
    });

    it('a read key lists only the tools its level allows, calls them, and is told which scope to ask for otherwise', async () => {
      const { id, secret } = await w.key();
      assert.deepEqual(toolNames(await postMcp(w.files, toolsList, { token: secret, headers: HEADERS })), ['read_notes']);
      const calls = w.upstream.requests.length;
      const read = await postMcp(w.files, toolCall('read_notes', { projectId: w.prjA.id }), { token: secret, headers: HEADERS });
      assert.equal((read.json as RpcBody).result?.content?.[0]?.text, 'read_notes done', read.text);
      // The upstream never sees the key: it gets the gateway's own token, naming the key as the client.
      const forwarded = w.upstream.requests.slice(calls).find((r) => r.messages.some((m) => m.method === 'tools/call'))!;
      const auth = String(forwarded.headers.authorization);
      assert.ok(!auth.includes(secret));
      const claims = decodeJwt(auth.replace(/^Bearer /, ''));
      assert.equal(claims.client_id, `key:${id}`);
      assert.equal(claims.sub, w.server.user.id);
      assert.equal(claims.org_id, w.server.org.id);
      assert.deepEqual(claims.res, { '*': 'read' });
      assert.equal(claims.scope, 'files:read');

      const write = await postMcp(w.files, toolCall('write_note', { projectId: w.prjA.id }), { token: secret, headers: HEADERS });
      assert.equal(write.status, 403);
      assert.equal(bearerParams(write.headers.get('www-authenticate')).error, 'insufficient_scope');
    });

    it('a read-write key limited to one project reaches that project only', async () => {
      const { secret } = await w.key({ permissions: { mode: 'simple', level: 'write' }, resources: [w.prjA.id] });
      assert.deepEqual(toolNames(await postMcp(w.files, toolsList, { token: secret, headers: HEADERS })), ['read_notes', 'write_note']);
      const ok = await postMcp(w.files, toolCall('write_note', { projectId: w.prjA.id }), { token: secret, headers: HEADERS });
      assert.equal((ok.json as RpcBody).result?.content?.[0]?.text, 'write_note done', ok.text);
      const before = w.upstream.toolCalls().length;
      const refused = await postMcp(w.files, toolCall('read_notes', { projectId: w.prjC.id }), { token: secret, headers: HEADERS });
      assert.deepEqual((refused.json as RpcBody).error?.data, { code: 'policy_denied', rule: 'resource-access', resource: `project:${w.prjC.id}`, help: `${new URL(w.files).origin}/docs/denials#policy_denied` });
      assert.equal(w.upstream.toolCalls().length, before);
    });

    it('a key has no sign-in: a step-up tool is refused by policy, not with a challenge it cannot answer', async () => {
      const { secret } = await w.key({ permissions: { mode: 'granular', levels: { [w.prjA.id]: 'delete' } } });
      const answer = await postMcp(w.files, toolCall('close_books'), { token: secret, headers: HEADERS });
      assert.equal(answer.status, 200);
      const body = answer.json as RpcBody;
      assert.equal(body.error?.code, RpcError.POLICY);
      assert.equal(body.error?.data?.code, 'policy_denied');
      assert.equal(body.error?.data?.rule, 'step-up');
    });

    it('a key is bound to its applications: elsewhere it is 401 invalid_token', async () => {
      const { secret } = await w.key({ applications: ['other'] });
      await assertUnauthorized(w.files, secret);
      assert.equal((await postMcp(w.other, toolsList, { token: secret, headers: HEADERS })).status, 200);
    });

    it('expired, unknown and mangled keys get 401 invalid_token', async () => {
      const expired = await w.key({ expiresAt: now() - 1 });
      await assertUnauthorized(w.files, expired.secret);
      await assertUnauthorized(w.files, generateApiKey());
      const { secret } = await w.key();
      await assertUnauthorized(w.files, `${secret.slice(0, -1)}${secret.endsWith('a') ? 'b' : 'a'}`);
      await assertUnauthorized(w.files, secret.slice(0, 20));
    });

    it('a key revoked by another process is refused within a second, while the creator\'s other keys keep working', async () => {
      const doomed = await w.key();
      const kept = await w.key();
      assert.equal((await postMcp(w.files, toolsList, { token: doomed.secret, headers: HEADERS })).status, 200);
      // What the revoking service does, in another process: the store, not this process's list.
      assert.equal(await w.server.store.apiKeys.revoke(doomed.id, w.server.user.id, now()), true);
      await w.server.store.revocations.add({ kind: 'key', id: doomed.id, at: now(), expiresAt: now() + 3600 });
      assert.ok((await refusedWithin(w.files, doomed.secret, 1000)) < 1000);
      assert.equal((await postMcp(w.files, toolsList, { token: kept.secret, headers: HEADERS })).status, 200);
    });

    it('a key shrinks with its creator: a demoted admin\'s read-write key loses write at once; disabling the creator ends it', async () => {
      const carol = await w.server.addUser(`carol-${randomToken(4)}@example.com`, undefined, { role: 'admin' });
      const { secret } = await w.key({ user: carol, permissions: { mode: 'simple', level: 'write' } });
      const write = () => postMcp(w.files, toolCall('write_note', { projectId: w.prjA.id }), { token: secret, headers: HEADERS });
      assert.equal(((await write()).json as RpcBody).result?.content?.[0]?.text, 'write_note done');

      // Carol becomes a plain member who may only view Alpha: the change feed (fanout/) drops the
      // cached key, without waiting for the cache's 5 s (the clock does not move).
      assert.equal(await w.server.store.orgs.setRole(w.server.org.id, carol.id, 'member'), 'ok');
      await w.server.store.orgs.setResourceMember(w.prjA.id, carol.id, 'viewer', now());
      const answer = await waitFor(async () => {
        const res = await write();
        return res.status === 403 ? res : undefined;
      }, "the key to lose its creator's old role");
      assert.equal(bearerParams(answer.headers.get('www-authenticate')).error, 'insufficient_scope');
      assert.deepEqual(toolNames(await postMcp(w.files, toolsList, { token: secret, headers: HEADERS })), ['read_notes']);

      // Disabled (by another process): every key of hers is refused within a second.
      await w.server.store.users.setDisabled(carol.id, now());
      await w.server.store.revocations.add({ kind: 'user', id: carol.id, at: now(), expiresAt: now() + 3600 });
      assert.ok((await refusedWithin(w.files, secret, 1000)) < 1000);
    });

    it('last use (time and address) is recorded, at most once a minute per key', async () => {
      const { id, secret } = await w.key();
      assert.equal((await w.server.store.apiKeys.get(id))!.lastUsedAt, null);
      await postMcp(w.files, toolsList, { token: secret, headers: HEADERS });
      let first: number | null = null;
      for (let i = 0; i < 100 && first === null; i++) {
        first = (await w.server.store.apiKeys.get(id))!.lastUsedAt;
        if (first === null) await sleep(20);
      }
      assert.ok(first !== null && Math.abs(first - now()) <= 2);
      assert.match(String((await w.server.store.apiKeys.get(id))!.lastUsedIp), /127\.0\.0\.1/);
      clock.advance(2);
      for (let i = 0; i < 5; i++) await postMcp(w.files, toolsList, { token: secret, headers: HEADERS });
      await sleep(200);
      assert.equal((await w.server.store.apiKeys.get(id))!.lastUsedAt, first, 'not written again within the minute');
      clock.advance(60);
      await postMcp(w.files, toolsList, { token: secret, headers: HEADERS });
      let second: number | null = first;
      for (let i = 0; i < 100 && second === first; i++) {
        second = (await w.server.store.apiKeys.get(id))!.lastUsedAt;
        if (second === first) await sleep(20);
      }
      assert.ok(second !== null && Math.abs(second - now()) <= 2, 'written again once the minute is over');
    });

    it('introspection (RFC 7662) describes a key to a resource server it may be used with, and only to one', async () => {
      const { id, secret } = await w.key({ applications: ['files'], resources: [w.prjA.id] });
      const filesServer = await addStaticClient(w.server, { portcullis_resources: [w.files], client_name: 'Files resource server' });
      const answer = await introspect(w.server, filesServer, secret);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.active, true);
      assert.equal(answer.body.client_id, `key:${id}`);
      assert.equal(answer.body.sub, w.server.user.id);
      assert.equal(answer.body.scope, 'files:read');
      assert.equal(answer.body.org_id, w.server.org.id);
      assert.deepEqual(answer.body.res, { [w.prjA.id]: 'read' });
      assert.equal(answer.body.aud, w.files);

      const otherServer = await addStaticClient(w.server, { portcullis_resources: [w.other], client_name: 'Other resource server' });
      assert.deepEqual((await introspect(w.server, otherServer, secret)).body, { active: false });
      const revoked = await w.key();
      await w.server.store.apiKeys.revoke(revoked.id, w.server.user.id, now());
      await w.server.store.revocations.add({ kind: 'key', id: revoked.id, at: now(), expiresAt: now() + 3600 });
      await sleep(400);
      assert.deepEqual((await introspect(w.server, filesServer, revoked.secret)).body, { active: false });
    });

    it('the token the upstream got on a key\'s behalf is refused by its guard as soon as the key is revoked', async () => {
      const { id, secret } = await w.key();
      const calls = w.upstream.requests.length;
      await postMcp(w.files, toolCall('read_notes', { projectId: w.prjA.id }), { token: secret, headers: HEADERS });
      const forwarded = w.upstream.requests.slice(calls).find((r) => r.messages.some((m) => m.method === 'tools/call'))!;
      const minted = String(forwarded.headers.authorization);
      const rs = await addStaticClient(w.server, { portcullis_resources: [w.upstream.url], client_name: 'Upstream guard' });
      const guard = createGuard({
        issuer: w.server.url,
        resource: w.upstream.url,
        scopesSupported: ['files:read'],
        toolScopes: {},
        revocations: { streamUrl: `${w.server.url}/oauth/revocations`, clientId: rs.client_id, clientSecret: rs.client_secret },
      });
      try {
        assert.equal(await guard.ready(5000), true);
        const seen = await guard.authenticate(minted);
        assert.ok(seen.ok);
        assert.equal(seen.identity.clientId, `key:${id}`);
        assert.equal(seen.identity.actor, `${w.server.url}#gateway`);
        await w.server.store.apiKeys.revoke(id, w.server.user.id, now());
        await w.server.store.revocations.add({ kind: 'key', id, at: now(), expiresAt: now() + 3600 });
        const started = Date.now();
        for (;;) {
          const sentAt = Date.now() - started;
          if (!(await guard.authenticate(minted)).ok) break;
          assert.ok(sentAt < 1000, 'the upstream guard still accepts the minted token');
          await sleep(20);
        }
      } finally {
        await guard.close();
      }
    });

    it('the guard SDK in another process accepts a key through introspection, and refuses it within a second of its revocation', async () => {
      const { id, secret } = await w.key({ applications: ['files'] });
      const rs = await addStaticClient(w.server, { portcullis_resources: [w.files], client_name: 'Files guard' });
      const credentials = { clientId: rs.client_id, clientSecret: rs.client_secret };
      const guard = createGuard({
        issuer: w.server.url,
        resource: w.files,
        scopesSupported: ['files:read', 'files:write'],
        toolScopes: { read_notes: 'files:read', write_note: 'files:write' },
        revocations: { streamUrl: `${w.server.url}/oauth/revocations`, ...credentials },
        introspection: { ...credentials, cacheMs: 60_000 },
      });
      try {
        assert.equal(await guard.ready(5000), true);
        const result = await guard.authenticate(`Bearer ${secret}`);
        assert.ok(result.ok, result.ok ? '' : result.error.rule);
        assert.equal(result.identity.subject, w.server.user.id);
        assert.equal(result.identity.clientId, `key:${id}`);
        assert.equal(result.identity.orgId, w.server.org.id);
        assert.equal(guard.authorizeTool(result.identity, 'read_notes').ok, true);
        assert.equal(guard.authorizeTool(result.identity, 'write_note').ok, false);

        const foreign = await w.key({ applications: ['other'] });
        const refusedForeign = await guard.authenticate(`Bearer ${foreign.secret}`);
        assert.ok(!refusedForeign.ok);
        assert.equal(refusedForeign.challenge.status, 401);

        // Revoked elsewhere: the stream reports it and the (long-cached) answer is dropped.
        const started = Date.now();
        await w.server.store.apiKeys.revoke(id, w.server.user.id, now());
        await w.server.store.revocations.add({ kind: 'key', id, at: now(), expiresAt: now() + 3600 });
        for (;;) {
          const sentAt = Date.now() - started;
          const again = await guard.authenticate(`Bearer ${secret}`);
          if (!again.ok) {
            assert.equal(again.challenge.status, 401);
            assert.match(again.challenge.headers['www-authenticate']!, /error="invalid_token"/);
            break;
          }
          assert.ok(sentAt < 1000, 'the guard still accepts a revoked key');
          await sleep(20);
        }
      } finally {
        await guard.close();
      }
    });
  });
}
