/**
 * Protocol 2026-07-28 through the gateway: stateless requests with the per-request `_meta`
 * envelope, `server/discover`, and the `Mcp-Method` / `Mcp-Name` headers (SEP-2243), which
 * intermediaries may route and decide on without reading the body. A header that disagrees with
 * the body is refused with HTTP 400 and JSON-RPC -32020 before anything reaches the upstream —
 * otherwise a component deciding on headers and one deciding on the body could be played against
 * each other. The recording fixture shows what the upstream received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  answerTo,
  appUrl,
  exchange,
  httpApp,
  prmUrl,
  request,
  sdkClientFor,
  startFixtureMcp,
  startGateway,
  tokenFor,
  type FixtureMcp,
} from '../../helpers/gateway.ts';
import { assertNoServerErrors, challengeParams, wire } from '../../helpers/mcp-clients.ts';
import type { TestServer } from '../../helpers/server.ts';

const MODERN = '2026-07-28';
const META = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const HEADER_MISMATCH = -32020;

function modern(method: string, params: Record<string, unknown> = {}, id: number | string = 1) {
  return request(method, { ...params, _meta: META }, id);
}

const b64 = (text: string) => `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;
/** A header value as raw UTF-8 bytes on the wire (what an attacker's client can send; fetch takes bytes as Latin-1). */
const rawUtf8 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

describe('protocol 2026-07-28 through the gateway', () => {
  let fixture: FixtureMcp;
  let server: TestServer;
  let url: string;
  let token: string;

  before(async () => {
    fixture = await startFixtureMcp({
      tools: [
        { name: 'echo', description: 'Echo', annotations: { readOnlyHint: true } },
        { name: 'purge', description: 'Delete everything', annotations: { readOnlyHint: false, destructiveHint: true } },
        { name: 'café', description: 'A tool with a non-ASCII name', annotations: { readOnlyHint: true } },
      ],
    });
    server = await startGateway([httpApp('fix', fixture.url)]);
    url = appUrl(server, 'fix');
    token = (await tokenFor(server, 'fix', { scope: 'fix:read fix:write fix:delete' })).access_token;
  });
  after(async () => {
    await server?.stop();
    await fixture?.stop();
  });

  /** Send, and assert nothing with this body's id marker reached the upstream. */
  async function refusedBeforeUpstream(body: unknown, headers: Record<string, string>) {
    const before = fixture.requests.length;
    const ex = await exchange(url, body, { token, headers: { 'mcp-protocol-version': MODERN, ...headers } });
    assert.equal(ex.status, 400, ex.text);
    const error = [ex.messages].flat()[0].error;
    assert.equal(error.code, HEADER_MISMATCH);
    assert.equal(fixture.requests.length, before, 'the request never reached the upstream');
    return ex;
  }

  it('headers that agree with the body pass, and reach the upstream with the body', async () => {
    const ex = await exchange(url, modern('tools/call', { name: 'echo', arguments: { text: 'hi' } }), {
      token,
      headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
    });
    assert.equal(ex.status, 200, ex.text);
    assert.equal(answerTo(ex, 1).result.content[0].text, 'hi');
    const seen = fixture.received('tools/call').at(-1)!;
    assert.equal(seen.headers['mcp-method'], 'tools/call');
    assert.equal(seen.headers['mcp-name'], 'echo');
    assert.equal(seen.headers['mcp-session-id'], undefined, 'stateless: no session');
    assert.equal(ex.headers.get('mcp-session-id'), null, 'and the gateway mints none');
  });

  it('Mcp-Name saying "echo" on a body that calls "purge" → 400 / -32020, never forwarded (and the reverse)', async () => {
    await refusedBeforeUpstream(modern('tools/call', { name: 'purge' }), { 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    await refusedBeforeUpstream(modern('tools/call', { name: 'echo' }), { 'mcp-method': 'tools/call', 'mcp-name': 'purge' });
  });

  it('Mcp-Method disagreeing with the body method → 400 / -32020, never forwarded', async () => {
    await refusedBeforeUpstream(modern('tools/call', { name: 'purge' }), { 'mcp-method': 'tools/list' });
    await refusedBeforeUpstream(modern('tools/list'), { 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    // Header names are case-insensitive, values are not: a method is a method exactly.
    await refusedBeforeUpstream(modern('tools/list'), { 'MCP-METHOD': 'Tools/List' });
  });

  it('Mcp-Name look-alikes and encodings: only the exact name passes', async () => {
    // Cyrillic "е" in "еcho", upper case, a trailing zero-width space, a valid sentinel of another name.
    for (const name of [rawUtf8('еcho'), 'Echo', rawUtf8('echo\u200b'), b64('еcho'), b64('purge')]) {
      await refusedBeforeUpstream(modern('tools/call', { name: 'echo' }), { 'mcp-method': 'tools/call', 'mcp-name': name });
    }
    // A sentinel that is not valid base64.
    await refusedBeforeUpstream(modern('tools/call', { name: 'echo' }), { 'mcp-method': 'tools/call', 'mcp-name': '=?base64?not*base64?=' });
    // The sentinel is how a non-ASCII name travels in a header; decoded, it must equal the body's name.
    const ok = await exchange(url, modern('tools/call', { name: 'café' }), { token, headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': b64('café') } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(answerTo(ok, 1).result.content[0].text, 'café done');
    // Unicode-equivalent but different code points (NFD) is not the same name, nor are raw UTF-8 bytes.
    await refusedBeforeUpstream(modern('tools/call', { name: 'café' }), { 'mcp-method': 'tools/call', 'mcp-name': b64('cafe\u0301') });
    await refusedBeforeUpstream(modern('tools/call', { name: 'café' }), { 'mcp-method': 'tools/call', 'mcp-name': rawUtf8('café') });
  });

  it('Mcp-Method or Mcp-Name on a batch cannot describe it: 400 / -32020, never forwarded', async () => {
    await refusedBeforeUpstream([modern('tools/list', {}, 1), modern('tools/call', { name: 'purge' }, 2)], { 'mcp-method': 'tools/list' });
  });

  it('a mismatch is refused even when the token could not call either tool anyway (the header check comes first, and is not a 5xx)', async () => {
    const readOnly = (await tokenFor(server, 'fix', { scope: 'fix:read' })).access_token;
    const before = fixture.requests.length;
    const ex = await exchange(url, modern('tools/call', { name: 'purge' }), { token: readOnly, headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' } });
    assert.equal(ex.status, 400);
    assert.equal(ex.messages[0].error.code, HEADER_MISMATCH);
    assert.equal(fixture.requests.length, before);
  });

  it('server/discover without a token → 401 with resource_metadata (never a 5xx), and nothing reaches the upstream', async () => {
    const before = fixture.requests.length;
    const ex = await exchange(url, modern('server/discover'), { headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' } });
    assert.equal(ex.status, 401);
    const challenge = challengeParams(ex.headers.get('www-authenticate') ?? undefined);
    assert.equal(challenge.resource_metadata, prmUrl(server, 'fix'));
    assert.equal(challenge.error, undefined, 'no error code when no token was sent (RFC 6750 §3.1)');
    assert.equal(fixture.requests.length, before);
  });

  it('server/discover with a token reaches the upstream and its answer comes back', async () => {
    const ex = await exchange(url, modern('server/discover'), { token, headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' } });
    assert.equal(ex.status, 200, ex.text);
    const result = answerTo(ex, 1).result;
    assert.ok(Array.isArray(result.supportedVersions) && result.supportedVersions.includes(MODERN), JSON.stringify(result));
  });

  it('the v2 SDK client: unauthenticated server/discover → 401 → OAuth → stateless 2026-07-28 requests with the headers, no session', async () => {
    const client = await sdkClientFor(server, 'fix', { sdk: 'v2', registration: 'dynamic' });
    try {
      assert.equal(await client.connect(), 'redirected');
      assert.equal(wire(client.exchanges)[0], 'POST /mcp/fix server/discover 401');
      await client.authorize();
      const mark = fixture.requests.length;
      assert.deepEqual(await client.toolNames(), ['echo', 'café']);
      assert.equal((await client.call('café')).content[0]!.text, 'café done');
      const seen = fixture.requests.slice(mark);
      assert.ok(seen.length >= 2);
      for (const r of seen) {
        assert.equal(r.headers['mcp-protocol-version'], MODERN);
        assert.equal(r.headers['mcp-method'], r.rpc[0]);
        assert.equal(r.headers['mcp-session-id'], undefined);
      }
      const call = seen.find((r) => r.rpc[0] === 'tools/call')!;
      assert.equal(call.headers['mcp-name'], b64('café'), 'the SDK sent the non-ASCII name as a sentinel, and the gateway passed it on');
      assertNoServerErrors(client);
    } finally {
      await client.close();
    }
  });
});
