/**
 * Resources and prompts through the gateway, when an administrator assigns scopes to them: the
 * lists show a token only what its scopes allow, and reading, subscribing or getting beyond them
 * is refused with 403 insufficient_scope naming every scope needed. Against server-everything's
 * own resources (`demo://resource/static/document/*`) and prompts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  answerTo,
  appUrl,
  exchange,
  httpApp,
  openSession,
  prmUrl,
  request,
  startEverything,
  startGateway,
  tokenFor,
  type SpawnedServer,
} from '../../helpers/gateway.ts';
import { challengeParams } from '../../helpers/mcp-clients.ts';
import type { TestServer } from '../../helpers/server.ts';

const DOCS = 'demo://resource/static/document/';

describe('resources and prompts with assigned scopes (server-everything)', () => {
  let everything: SpawnedServer;
  let server: TestServer;
  let url: string;
  const sessions: Record<'reader' | 'writer', { token: string; sessionId: string; protocolVersion: string }> = {} as never;

  before(async () => {
    everything = await startEverything();
    server = await startGateway([httpApp('every', everything.url, { resources: { [`${DOCS}*`]: 'every:write' }, prompts: { 'args-prompt': 'every:write' } })]);
    url = appUrl(server, 'every');
    for (const [who, scope] of [
      ['reader', 'every:read'],
      ['writer', 'every:read every:write'],
    ] as const) {
      const token = (await tokenFor(server, 'every', { scope })).access_token;
      sessions[who] = { token, ...(await openSession(url, token)) };
    }
  });
  after(async () => {
    await server?.stop();
    await everything?.stop();
  });

  const ask = (who: 'reader' | 'writer', method: string, params: Record<string, unknown> = {}) => exchange(url, request(method, params), sessions[who]);

  function assertRefused(ex: Awaited<ReturnType<typeof ask>>): void {
    assert.equal(ex.status, 403, ex.text);
    const challenge = challengeParams(ex.headers.get('www-authenticate') ?? undefined);
    assert.equal(challenge.error, 'insufficient_scope');
    assert.equal(challenge.scope, 'every:read every:write');
    assert.equal(challenge.resource_metadata, prmUrl(server, 'every'));
  }

  it('resources/list hides the documents from a reader; a writer sees them', async () => {
    const all = (answerTo(await ask('writer', 'resources/list'), 1).result.resources as { uri: string }[]).map((r) => r.uri);
    const documents = all.filter((uri) => uri.startsWith(DOCS));
    assert.ok(documents.length > 0, 'server-everything lists documents');
    const seen = (answerTo(await ask('reader', 'resources/list'), 1).result.resources as { uri: string }[]).map((r) => r.uri);
    assert.deepEqual(seen, all.filter((uri) => !uri.startsWith(DOCS)));
  });

  it('resources/read and resources/subscribe of a document: 403 for the reader, allowed for the writer', async () => {
    const all = (answerTo(await ask('writer', 'resources/list'), 1).result.resources as { uri: string }[]).map((r) => r.uri);
    const document = all.find((uri) => uri.startsWith(DOCS))!;
    assertRefused(await ask('reader', 'resources/read', { uri: document }));
    assertRefused(await ask('reader', 'resources/subscribe', { uri: document }));
    const read = await ask('writer', 'resources/read', { uri: document });
    assert.equal(answerTo(read, 1).result.contents[0].uri, document);
    // A URI outside the assigned prefix needs no scope (server-everything's templated resources).
    const other = 'demo://resource/dynamic/text/1';
    assert.equal(answerTo(await ask('reader', 'resources/read', { uri: other }), 1).result.contents[0].uri, other, 'unassigned resources need no scope');
  });

  it('prompts/list hides args-prompt from a reader, and prompts/get of it is refused; other prompts work', async () => {
    const all = (answerTo(await ask('writer', 'prompts/list'), 1).result.prompts as { name: string }[]).map((p) => p.name);
    assert.ok(all.includes('args-prompt') && all.includes('simple-prompt'));
    const seen = (answerTo(await ask('reader', 'prompts/list'), 1).result.prompts as { name: string }[]).map((p) => p.name);
    assert.deepEqual(seen, all.filter((name) => name !== 'args-prompt'));
    assertRefused(await ask('reader', 'prompts/get', { name: 'args-prompt', arguments: { city: 'Paris' } }));
    assert.ok(answerTo(await ask('reader', 'prompts/get', { name: 'simple-prompt' }), 1).result.messages.length > 0);
    assert.ok(answerTo(await ask('writer', 'prompts/get', { name: 'args-prompt', arguments: { city: 'Paris' } }), 1).result.messages.length > 0);
  });
});
