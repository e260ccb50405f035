/**
 * What a cache may do with an answer that came through the gateway. Every answer depends on the
 * caller's token — a list filtered for it, a resource it may read — so none may be shared with
 * another token:
 * - MCP 2026-07-28 results carrying `cacheScope` (lists, `server/discover`, `resources/read`)
 *   come back `"private"`, with the upstream's `ttlMs` (SEP-2549: a list filtered for one caller
 *   is private and must not be shared across tokens);
 * - the upstream's HTTP `Cache-Control` loses `public` and `s-maxage` and gains `private`
 *   (RFC 9111 §3.5, §5.2.2.7, §5.2.2.10);
 * - `resources/templates/list` is filtered like `resources/list`.
 * Unit tests on the steps, then the real gateway in front of our recording fixture, whose answers
 * a test writes itself (an upstream that marks everything public).
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Application } from '../../../src/core/application.ts';
import { filterMessage, requestMethods, type FilterContext } from '../../../src/gateway/steps/filter-response.ts';
import { privateCacheControl } from '../../../src/gateway/steps/private-cache-control.ts';
import { rewriteJsonBody, SseRewriter } from '../../../src/gateway/steps/stream-response.ts';
import {
  answerTo,
  appUrl,
  exchange,
  httpApp,
  request,
  startFixtureMcp,
  startGateway,
  tokenFor,
  type FixtureMcp,
  type RecordedRequest,
} from '../../helpers/gateway.ts';
import type { TestServer } from '../../helpers/server.ts';
import { app as policyApp } from '../../policy/support.ts';

const MODERN = '2026-07-28';
const META = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const HOUR_MS = 3_600_000;

describe('Cache-Control from the upstream, as the gateway passes it on', () => {
  it('public and s-maxage are dropped, private is added, the rest stays as written', () => {
    assert.equal(privateCacheControl('public, max-age=3600'), 'private, max-age=3600');
    assert.equal(privateCacheControl('max-age=60, s-maxage=600, stale-while-revalidate=30'), 'private, max-age=60, stale-while-revalidate=30');
    assert.equal(privateCacheControl('Public,S-MAXAGE=600,max-age=5'), 'private, max-age=5', 'directive names are case-insensitive');
    assert.equal(privateCacheControl('no-store'), 'private, no-store');
    assert.equal(privateCacheControl('must-revalidate, max-age=10'), 'private, must-revalidate, max-age=10', 'private overrides what must-revalidate allows shared caches');
    assert.equal(privateCacheControl(''), 'private');
  });

  it('a qualified private="…" is replaced by the unqualified one; commas inside quoted strings do not split', () => {
    assert.equal(privateCacheControl('private="set-cookie, x-a", max-age=3600'), 'private, max-age=3600');
    assert.equal(privateCacheControl('no-cache="a, public", public'), 'private, no-cache="a, public"');
    assert.equal(privateCacheControl('private'), 'private');
  });
});

/** A filter context for results that need neither the manifest nor task bindings (they throw if asked). */
function filterContext(application: Application, scopes: string[], method: string): FilterContext {
  return {
    app: application,
    registry: undefined as never,
    bindings: undefined as never,
    owner: 'usr_1 client_1',
    scopes: new Set(scopes),
    methods: requestMethods([request(method)]),
    onToolsChanged: () => {},
  };
}

describe('cacheScope in results, as the gateway passes them on', () => {
  const application = policyApp({
    resources: { 'notes://secret/*': 'vault:delete', 'notes://*': 'vault:read', 'files://shared/readme': 'vault:write' },
  });

  for (const [method, result] of [
    ['resources/list', { resources: [{ uri: 'notes://a', name: 'a' }] }],
    ['resources/templates/list', { resourceTemplates: [] }],
    ['prompts/list', { prompts: [] }],
    ['resources/read', { contents: [{ uri: 'notes://a', text: 'public 2.0' }] }],
    ['server/discover', { supportedVersions: [MODERN], capabilities: {} }],
    ['tools/call', { content: [] }],
  ] as const) {
    it(`${method}: cacheScope "public" becomes "private", ttlMs kept`, async () => {
      const ctx = filterContext(application, ['vault:read'], method);
      const answer = (await filterMessage(ctx, { jsonrpc: '2.0', id: 1, result: { ...result, ttlMs: HOUR_MS, cacheScope: 'public', resultType: 'complete' } })) as { result: Record<string, unknown> };
      assert.equal(answer.result.cacheScope, 'private');
      assert.equal(answer.result.ttlMs, HOUR_MS);
    });
  }

  it('a result without cacheScope gets none (a legacy-era answer stays legacy)', async () => {
    const answer = (await filterMessage(filterContext(application, ['vault:read'], 'resources/read'), { jsonrpc: '2.0', id: 1, result: { contents: [] } })) as { result: Record<string, unknown> };
    assert.deepEqual(answer.result, { contents: [] });
  });

  it('resources/templates/list shows a template only when the token holds the scope all its URIs need', async () => {
    const templates = [
      { uriTemplate: 'notes://secret/{id}', name: 'secret note' }, // every expansion is under notes://secret/ → vault:delete
      { uriTemplate: 'notes://{folder}/{id}', name: 'any note' }, // some expansions are secret, all are notes:// → vault:read
      { uriTemplate: 'files://shared/{name}', name: 'shared file' }, // only one expansion has an entry of its own → no scope
      { uriTemplate: 'files://shared/readme', name: 'readme' }, // no expression: one URI, its exact entry → vault:write
      { name: 'no template' },
    ];
    const seen = async (scopes: string[]) => {
      const answer = (await filterMessage(filterContext(application, scopes, 'resources/templates/list'), { jsonrpc: '2.0', id: 1, result: { resourceTemplates: templates } })) as {
        result: { resourceTemplates: { name: string }[] };
      };
      return answer.result.resourceTemplates.map((t) => t.name);
    };
    assert.deepEqual(await seen([]), ['shared file']);
    assert.deepEqual(await seen(['vault:read']), ['any note', 'shared file']);
    assert.deepEqual(await seen(['vault:read', 'vault:delete']), ['secret note', 'any note', 'shared file']);
    assert.deepEqual(await seen(['vault:read', 'vault:write']), ['any note', 'shared file', 'readme']);
  });

  it('a JSON answer rewritten for its cacheScope keeps every number as the upstream wrote it', async () => {
    const ctx = filterContext(application, ['vault:read'], 'resources/read');
    const text = '{"jsonrpc":"2.0","id":1,"result":{"contents":[],"_meta":{"rev":12345678901234567890,"ratio":1.50},"ttlMs":60000,"cacheScope":"public"}}';
    assert.equal(await rewriteJsonBody(ctx, text), '{"jsonrpc":"2.0","id":1,"result":{"contents":[],"_meta":{"rev":12345678901234567890,"ratio":1.50},"ttlMs":60000,"cacheScope":"private"}}');
  });

  it('an SSE event carrying cacheScope is rewritten too; other events pass as they came', async () => {
    const rewriter = new SseRewriter(filterContext(application, ['vault:read'], 'resources/read'), (id) => id);
    const out: string[] = [];
    rewriter.on('data', (chunk: Buffer) => out.push(chunk.toString()));
    const done = new Promise((resolve) => rewriter.on('end', resolve));
    rewriter.end(
      `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } })}\n\n` +
        `data: ${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { contents: [], ttlMs: HOUR_MS, cacheScope: 'public' } })}\n\n`,
    );
    await done;
    const messages = out.join('').split('\n\n').filter(Boolean).map((event) => JSON.parse(event.replace(/^data: /, '')));
    assert.equal(messages[0].method, 'notifications/progress');
    assert.equal(messages[1].result.cacheScope, 'private');
    assert.equal(messages[1].result.ttlMs, HOUR_MS);
  });
});

describe('an upstream that marks its tools/list public, through the real gateway', () => {
  let fixture: FixtureMcp;
  let server: TestServer;
  let url: string;

  /** Answer every tools/list as a careless 2026-07-28 server would: shareable by anyone, for an hour. */
  function publicLists(record: RecordedRequest, res: ServerResponse): boolean {
    const message = record.json as { id?: unknown; method?: string } | undefined;
    if (message?.method !== 'tools/list') return false;
    const tools = fixture.tools.map((tool) => ({ inputSchema: { type: 'object' }, ...tool }));
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
    res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { tools, ttlMs: HOUR_MS, cacheScope: 'public', resultType: 'complete' } }));
    return true;
  }

  before(async () => {
    fixture = await startFixtureMcp();
    fixture.intercept(publicLists);
    server = await startGateway([httpApp('fix', fixture.url)]);
    url = appUrl(server, 'fix');
  });
  after(async () => {
    await server?.stop();
    await fixture?.stop();
  });

  it('a read token and a read+delete token each get their own list, marked private, and no shared-cache Cache-Control', async () => {
    const lists: Record<string, string[]> = {};
    for (const scope of ['fix:read', 'fix:read fix:delete']) {
      const token = (await tokenFor(server, 'fix', { scope })).access_token;
      const ex = await exchange(url, request('tools/list', { _meta: META }), { token, headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' } });
      assert.equal(ex.status, 200, ex.text);
      const result = answerTo(ex, 1).result;
      assert.equal(result.cacheScope, 'private', scope);
      assert.equal(result.ttlMs, HOUR_MS, `${scope}: the upstream's ttlMs is kept`);
      const cacheControl = (ex.headers.get('cache-control') ?? '').toLowerCase().split(',').map((d) => d.trim());
      assert.ok(cacheControl.includes('private'), `${scope}: ${cacheControl}`);
      assert.ok(!cacheControl.includes('public') && !cacheControl.some((d) => d.startsWith('s-maxage')), `${scope}: ${cacheControl}`);
      lists[scope] = (result.tools as { name: string }[]).map((t) => t.name);
    }
    assert.deepEqual(lists['fix:read'], ['echo', 'count']);
    assert.deepEqual(lists['fix:read fix:delete'], ['echo', 'count', 'purge', 'legacy']);
    assert.ok(fixture.received('tools/list').some((r) => r.headers['mcp-method'] === 'tools/list'), 'the lists came from the upstream');
  });
});
