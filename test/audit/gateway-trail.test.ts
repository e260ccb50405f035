/**
 * "Who called what, when, and was it allowed?" — answered from the trail of a real server: an
 * allowed tool call, a denied one and an anonymous probe each leave one record with who, what,
 * the code, the request id the client saw, the session, address and user agent; the token that
 * made the call is on the record too, with its grant. Arguments are kept only as the application
 * opts in: a keyed hash, or the arguments with secrets redacted. With `audit.mode: "off"` calls
 * leave no record; with `"strict"` each answered call's record is there the moment the answer is.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/store/audit.ts';
import { verifyStore } from '../../src/audit/verify.ts';
import { appUrl, exchange, httpApp, initialize, startFixtureMcp, startGateway, tokenFor, type FixtureMcp } from '../helpers/gateway.ts';
import type { TestServer } from '../helpers/server.ts';

const callTool = (name: string, args: Record<string, unknown>, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

/** The application's call records, once the batch they are queued in is written. */
async function gatewayRecords(server: TestServer, app: string): Promise<AuditEvent[]> {
  await server.audit.flush();
  return server.store.audit.list({ app, kind: 'gateway.call', limit: 1000 });
}

describe('the trail of gateway calls (batched, the default)', () => {
  let fixture: FixtureMcp;
  let server: TestServer;

  before(async () => {
    fixture = await startFixtureMcp();
    server = await startGateway([
      httpApp('plain', fixture.url),
      httpApp('hashed', fixture.url, { audit: { arguments: 'hash' } }),
      httpApp('full', fixture.url, { audit: { arguments: 'full', redact: ['^note$'] } }),
    ]);
  });
  after(async () => {
    await server.stop();
    await fixture.stop();
  });

  it('an allowed call, a denied call and an anonymous probe: one record each, with who, what and why', async () => {
    const token = (await tokenFor(server, 'plain', { scope: 'plain:read' })).access_token;
    const url = appUrl(server, 'plain');
    const init = await exchange(url, initialize(), { token, headers: { 'user-agent': 'claude-code/2.1.0' } });
    // The session the server opened, if it keeps sessions.
    const sessionId = init.headers.get('mcp-session-id') ?? undefined;
    const allowed = await exchange(url, callTool('echo', { text: 'hi' }), { token, sessionId, headers: { 'user-agent': 'claude-code/2.1.0' } });
    const denied = await exchange(url, callTool('save', {}, 2), { token, sessionId });
    const anonymous = await exchange(url, callTool('echo', {}));
    assert.equal(allowed.status, 200);
    assert.equal(denied.status, 403, 'save needs plain:write');
    assert.equal(anonymous.status, 401);
    const records = await gatewayRecords(server, 'plain');
    const byRequest = new Map(records.map((r) => [r.details?.requestId, r]));
    const ok = byRequest.get(allowed.headers.get('x-request-id'));
    const no = byRequest.get(denied.headers.get('x-request-id'));
    const anon = byRequest.get(anonymous.headers.get('x-request-id'));
    assert.ok(ok && no && anon, 'every request has its record, found by the id the client was given');
    assert.deepEqual(
      { orgId: ok.orgId, subject: ok.subject, tool: ok.tool, decision: ok.decision, reason: ok.reason, clientId: typeof ok.clientId },
      { orgId: server.org.id, subject: server.user.id, tool: 'echo', decision: 'allow', reason: null, clientId: 'string' },
    );
    assert.deepEqual(
      { sessionId: ok.details?.sessionId, upstreamStatus: ok.details?.upstreamStatus, userAgent: ok.details?.userAgent, clientIp: ok.details?.clientIp, calls: ok.details?.calls },
      { sessionId: sessionId, upstreamStatus: 200, userAgent: 'claude-code/2.1.0', clientIp: '127.0.0.1', calls: [{ method: 'tools/call', tool: 'echo' }] },
    );
    assert.deepEqual([no.decision, no.reason, no.tool, no.subject], ['deny', 'insufficient_scope', 'save', server.user.id]);
    assert.deepEqual([anon.decision, anon.reason, anon.subject, anon.orgId], ['deny', 'invalid_token', null, null]);
    assert.equal(ok.details?.arguments, undefined, 'arguments are not kept unless the application opts in');
  });

  it('the token behind the calls is on the record: issued, with its grant, in the organization', async () => {
    await server.audit.flush();
    const tokens = await server.store.audit.list({ orgId: server.org.id, kind: 'token.issued', limit: 1000 });
    assert.ok(tokens.length >= 1);
    assert.equal(tokens[0]!.subject, server.user.id);
    assert.equal(tokens[0]!.reason, 'authorization_code');
    assert.equal(typeof tokens[0]!.details?.grantId, 'string');
    const consents = await server.store.audit.list({ orgId: server.org.id, kind: 'consent.given', limit: 1000 });
    assert.ok(consents.length >= 1, 'the consent that made the grant is on the record');
    const signIns = await server.store.audit.list({ kind: 'signin.succeeded', subject: server.user.id, limit: 1000 });
    assert.ok(signIns.length >= 1, 'and the sign-in');
  });

  it("arguments as the application opts in: a keyed hash that matches identical calls, or redacted values", async () => {
    const token = (await tokenFor(server, 'hashed', { scope: 'hashed:read' })).access_token;
    await exchange(appUrl(server, 'hashed'), callTool('echo', { text: 'secret plan' }), { token });
    await exchange(appUrl(server, 'hashed'), callTool('echo', { text: 'secret plan' }, 2), { token });
    await exchange(appUrl(server, 'hashed'), callTool('echo', { text: 'other' }, 3), { token });
    const hashed = (await gatewayRecords(server, 'hashed')).filter((r) => r.tool === 'echo');
    assert.equal(hashed.length, 3);
    const hashes = hashed.map((r) => (r.details?.arguments as { hash: string }).hash);
    assert.equal(hashes[0], hashes[1], 'identical arguments, identical hash');
    assert.notEqual(hashes[0], hashes[2]);
    assert.ok(!JSON.stringify(hashed).includes('secret plan'), 'the value itself is nowhere');

    const fullToken = (await tokenFor(server, 'full', { scope: 'full:read' })).access_token;
    await exchange(appUrl(server, 'full'), callTool('echo', { text: 'hello', password: 'hunter2', note: 'private', nested: { apiKey: 'k-123', keep: 1 } }), { token: fullToken });
    const [full] = (await gatewayRecords(server, 'full')).filter((r) => r.tool === 'echo');
    assert.deepEqual(full!.details?.arguments, {
      value: { text: 'hello', password: '[redacted]', note: '[redacted]', nested: { apiKey: '[redacted]', keep: 1 } },
    });
  });

  it('every organization chain verifies', async () => {
    assert.equal((await verifyStore(server.store)).ok, true);
  });
});

describe('audit modes', () => {
  let fixture: FixtureMcp;
  before(async () => {
    fixture = await startFixtureMcp();
  });
  after(() => fixture.stop());

  it('"off": calls leave no record (tokens and sign-ins still do)', async () => {
    const server = await startGateway([httpApp('quiet', fixture.url)], { audit: { mode: 'off' } });
    try {
      const token = (await tokenFor(server, 'quiet', { scope: 'quiet:read' })).access_token;
      const answer = await exchange(appUrl(server, 'quiet'), callTool('echo', { text: 'x' }), { token });
      assert.equal(answer.status, 200);
      await server.audit.flush();
      assert.deepEqual(await server.store.audit.list({ kind: 'gateway.call' }), []);
      assert.ok((await server.store.audit.list({ kind: 'token.issued' })).length >= 1);
    } finally {
      await server.stop();
    }
  });

  it('"strict": the record of every answered call is stored by the time its answer arrives', async () => {
    const server = await startGateway([httpApp('strict', fixture.url)], { audit: { mode: 'strict', batchMs: 5000 } });
    try {
      const token = (await tokenFor(server, 'strict', { scope: 'strict:read' })).access_token;
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => exchange(appUrl(server, 'strict'), callTool('echo', { text: `${i}` }, i), { token })));
      // No waiting: a batch timer of 5 s would leave them all unwritten in batched mode.
      const stored = new Set((await server.store.audit.list({ app: 'strict', kind: 'gateway.call', limit: 1000 })).map((r) => r.details?.requestId));
      for (const answer of answers) {
        assert.equal(answer.status, 200);
        assert.ok(stored.has(answer.headers.get('x-request-id')), 'answered, so recorded');
      }
    } finally {
      await server.stop();
    }
  });
});
