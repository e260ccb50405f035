/**
 * The record step (src/gateway/steps/record.ts): every request through the gateway — allowed,
 * refused at any step, or failed upstream — is handed to `recordDecision` once, with who called,
 * what the body asked for, the decision, the denial's code and rule, and the upstream's status.
 * The gateway runs here on its own, with a fake upstream and a verifier that knows two bearers.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parseDefinition } from '../../src/applications/registry.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { verifyStore } from '../../src/audit/verify.ts';
import { gatewayDecisionRecorder } from '../../src/audit/gateway-decisions.ts';
import { resolveApplication, type Application } from '../../src/core/application.ts';
import { PortcullisError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createGateway, type DecisionRecord } from '../../src/gateway/gateway.ts';
import { RpcError } from '../../src/gateway/jsonrpc.ts';
import { upstreamError, type Upstream, type UpstreamCall } from '../../src/gateway/upstreams/upstream.ts';
import type { VerifiedToken } from '../../src/shared/verify.ts';
import { storesUnderTest } from '../helpers/stores.ts';

const app: Application = resolveApplication(parseDefinition({ slug: 'rec', name: 'Recorded', upstream: { url: 'http://127.0.0.1:9/mcp' } }), 'http://localhost');

function tokenOf(subject: string): VerifiedToken {
  return {
    token: subject,
    subject,
    clientId: 'client-1',
    scopes: new Set(app.scopes.map((s) => s.name)),
    audience: [app.resource],
    grantId: 'grant-1',
    jti: 'jti-1',
    expiresAt: Number.MAX_SAFE_INTEGER,
    issuedAt: 0,
    authTime: 0,
    acr: undefined,
    amr: [],
    orgId: 'org-1',
    levels: undefined,
    claims: {},
  };
}

/** What the fake upstream does next. */
let answer: (call: UpstreamCall) => Promise<Response>;
const jsonAnswer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('the record step', () => {
  const records: DecisionRecord[] = [];
  let server: Server;
  let url: string;

  before(async () => {
    const upstream: Upstream = { send: (call) => answer(call), close: async () => {} };
    const handle = createGateway({
      registry: {
        // Only `approved` is callable (policy's tool-review rule).
        tool: (_slug: string, name: string) => (name === 'approved' ? { status: 'approved', annotations: null } : undefined),
      } as never,
      bindings: {} as never,
      verifierFor: () => async (bearer) => {
        if (bearer === 'ada') return tokenOf('ada');
        throw new PortcullisError('token_revoked', 'the access token has been revoked', { rule: 'revocation' });
      },
      orgTree: async () => ({}) as never,
      upstreamFor: () => upstream,
      resourceMetadataUrl: () => 'http://localhost/.well-known/oauth-protected-resource/mcp/rec',
      refreshManifest: () => {},
      clientIp: () => '127.0.0.1',
      recordDecision: (record) => void records.push(record),
      log: silentLogger(),
    });
    server = createServer((req, res) => void handle(req, res, app));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp/rec`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    records.length = 0;
    answer = async () => jsonAnswer(200, { jsonrpc: '2.0', id: 1, result: { content: [] } });
  });

  async function post(body: string, bearer: string | null = 'ada'): Promise<{ status: number; headers: Headers; json: any; record: DecisionRecord }> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body,
    });
    const json = await res.json();
    assert.equal(records.length, 1, 'one record per request');
    return { status: res.status, headers: res.headers, json, record: records[0]! };
  }

  const call = (name: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } });

  it('an allowed call: who, what, allow, and the upstream status', async () => {
    const { status, record } = await post(call('approved'));
    assert.equal(status, 200);
    assert.equal(record.decision, 'allow');
    assert.deepEqual(
      { app: record.app, subject: record.subject, clientId: record.clientId, orgId: record.orgId, httpMethod: record.httpMethod },
      { app: 'rec', subject: 'ada', clientId: 'client-1', orgId: 'org-1', httpMethod: 'POST' },
    );
    assert.deepEqual(record.calls, [{ method: 'tools/call', tool: 'approved' }]);
    assert.equal(record.code, undefined);
    assert.equal(record.upstreamStatus, 200);
    assert.ok(record.durationMs >= 0 && record.at > 0);
  });

  it('no credential: deny, invalid_token, and no caller', async () => {
    const { status, record } = await post(call('approved'), null);
    assert.equal(status, 401);
    assert.deepEqual([record.decision, record.code, record.subject], ['deny', 'invalid_token', undefined]);
  });

  it('a refused token: deny with its finer code and rule', async () => {
    const { status, record } = await post(call('approved'), 'mallory');
    assert.equal(status, 401);
    assert.deepEqual([record.decision, record.code, record.rule], ['deny', 'token_revoked', 'revocation']);
  });

  it('a policy denial: a JSON-RPC error in a 200, recorded as deny with the rule', async () => {
    const { status, json, record } = await post(call('unreviewed'));
    assert.equal(status, 200);
    assert.equal(json.error.code, RpcError.POLICY);
    // data.help: the denial reference's entry, below the server's public URL (RFC 6749 §5.2 error_uri's kin).
    assert.deepEqual(json.error.data, { code: 'policy_denied', rule: 'tool-review', resource: 'tool:unreviewed', help: 'http://localhost/docs/denials#policy_denied' });
    assert.deepEqual([record.decision, record.code, record.rule, record.upstreamStatus], ['deny', 'policy_denied', 'tool-review', undefined]);
  });

  it('a body that is not JSON: 400 / -32700 with data.code, recorded as deny', async () => {
    const { status, json, record } = await post('{not json');
    assert.equal(status, 400);
    assert.equal(json.error.code, RpcError.PARSE);
    assert.equal(json.error.data.code, 'invalid_request');
    assert.deepEqual([record.decision, record.code, record.rule], ['deny', 'invalid_request', 'parse']);
    assert.deepEqual(record.calls, []);
  });

  it('an upstream too slow: 504, recorded as allowed with the failure', async () => {
    answer = async () => {
      throw upstreamError('timeout', 'slow');
    };
    const { status, json, record } = await post(call('approved'));
    assert.equal(status, 504);
    assert.deepEqual([json.id, json.error.code, json.error.data.code], [1, RpcError.UPSTREAM, 'upstream_timeout']);
    assert.deepEqual([record.decision, record.code, record.rule, record.upstreamStatus], ['allow', 'upstream_timeout', 'upstream-timeout', undefined]);
  });

  it('an upstream answering 503: 503 with its Retry-After, and its status recorded', async () => {
    answer = async () => jsonAnswer(503, { oops: 'stack trace here' }, { 'retry-after': '7' });
    const { status, headers, json, record } = await post(call('approved'));
    assert.equal(status, 503);
    assert.equal(headers.get('retry-after'), '7');
    assert.equal(json.error.code, RpcError.UPSTREAM);
    assert.ok(!JSON.stringify(json).includes('stack trace'));
    assert.equal(json.error.data.code, 'upstream_overloaded');
    assert.deepEqual([record.decision, record.code, record.upstreamStatus], ['allow', 'upstream_overloaded', 503]);
  });
  it('the answer names its request id, the same id the record keeps', async () => {
    const { headers, record } = await post(call('approved'));
    assert.match(headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(record.requestId, headers.get('x-request-id'));
    assert.equal(record.clientIp, '127.0.0.1');
  });

  it("an upstream answering with a JSON-RPC error: allowed, and the error's code on the record", async () => {
    answer = async () => jsonAnswer(200, { jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'Unknown tool' } });
    const { status, json, record } = await post(call('approved'));
    assert.equal(status, 200);
    assert.equal(json.error.code, -32602);
    assert.deepEqual([record.decision, record.upstreamStatus, record.upstreamError], ['allow', 200, -32602]);
  });
});

/** A gateway whose answers wait for their record (strict audit): `settle` decides how each record ends. */
describe('strict audit: the answer waits for its record', () => {
  let server: Server;
  let url: string;
  let settle: (record: DecisionRecord) => Promise<void>;

  before(async () => {
    const upstream: Upstream = { send: async () => jsonAnswer(200, { jsonrpc: '2.0', id: 7, result: { content: [] } }), close: async () => {} };
    const handle = createGateway({
      registry: { tool: () => ({ status: 'approved', annotations: null }) } as never,
      bindings: {} as never,
      verifierFor: () => async () => tokenOf('ada'),
      orgTree: async () => ({}) as never,
      upstreamFor: () => upstream,
      resourceMetadataUrl: () => 'http://localhost/.well-known/oauth-protected-resource/mcp/rec',
      refreshManifest: () => {},
      clientIp: () => '127.0.0.1',
      recordDecision: (record) => settle(record),
      holdAnswers: true,
      log: silentLogger(),
    });
    server = createServer((req, res) => void handle(req, res, app).catch(() => res.destroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp/rec`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const send = () =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer ada' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'approved', arguments: {} } }),
    });

  it('no byte of the answer leaves before the record is committed', async () => {
    let commit!: () => void;
    let recorded!: () => void;
    const seen = new Promise<void>((resolve) => (recorded = resolve));
    settle = () => {
      recorded();
      return new Promise<void>((resolve) => (commit = resolve));
    };
    let answered = false;
    const response = send().then((res) => {
      answered = true;
      return res;
    });
    await seen;
    // The upstream has answered and the record is being written: the client still has nothing.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(answered, false, 'the answer waited for its record');
    commit();
    const res = await response;
    assert.equal(res.status, 200);
    assert.equal((await res.json()).result !== undefined, true);
  });

  it('a record that cannot be committed: no answer but 503 with Retry-After and data.code unavailable', async () => {
    settle = async () => {
      throw new Error('database gone');
    };
    const res = await send();
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    const body = await res.json();
    assert.equal(body.error.data.code, 'unavailable');
    assert.equal(body.result, undefined, 'the upstream\'s result is not handed out');
  });
});

describe('the record step into the audit log', () => {
  it("a gateway decision becomes one audit event (who, app, tool, decision, code) and the chain verifies", async () => {
    const location = await storesUnderTest()[0]!.location();
    const store = await location.open();
    await store.migrate();
    const audit = new AuditLog(store, silentLogger(), () => 1_800_000_000);
    const recordInto = gatewayDecisionRecorder(audit, 'batched');
    recordInto({
      at: 1_800_000_000_500, app: 'rec', orgId: 'org-1', subject: 'ada', clientId: 'client-1', httpMethod: 'POST',
      calls: [{ method: 'tools/call', tool: 'wipe' }], decision: 'deny', code: 'insufficient_scope', rule: 'required-scope', durationMs: 0.25,
      requestId: 'req-1', clientIp: '192.0.2.7', userAgent: 'claude-code/2.1',
    });
    recordInto({ at: 1_800_000_001_000, app: 'rec', httpMethod: 'POST', calls: [], decision: 'deny', code: 'invalid_token', durationMs: 0.1, requestId: 'req-2', clientIp: '192.0.2.8' });
    await audit.flush();
    const events = await store.audit.list({});
    const denied = events.find((e) => e.subject === 'ada');
    assert.ok(denied, 'the decision was written');
    assert.deepEqual(
      { kind: denied.kind, at: denied.at, orgId: denied.orgId, actor: denied.actor, clientId: denied.clientId, app: denied.app, tool: denied.tool, decision: denied.decision, reason: denied.reason },
      { kind: 'gateway.call', at: 1_800_000_000, orgId: 'org-1', actor: 'ada', clientId: 'client-1', app: 'rec', tool: 'wipe', decision: 'deny', reason: 'insufficient_scope' },
    );
    assert.deepEqual(
      { rule: denied.details?.rule, requestId: denied.details?.requestId, clientIp: denied.details?.clientIp, userAgent: denied.details?.userAgent },
      { rule: 'required-scope', requestId: 'req-1', clientIp: '192.0.2.7', userAgent: 'claude-code/2.1' },
    );
    assert.equal(events.length, 2, 'the anonymous refusal is on the record too');
    // One chain for org-1, one for records of no organization.
    assert.deepEqual(await verifyStore(store), { ok: true, checked: 2, chains: 2 });
    await store.close();
  });
});
