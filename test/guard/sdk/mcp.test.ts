/**
 * The MCP SDK v2 server integration (`protectMcp`), driven by the real MCP SDK clients with real
 * Portcullis tokens: the v2 client at protocol 2026-07-28 (JSON answers) and the v1 client at the
 * 2025 protocol (SSE answers) each see only the tools their token may call; a call reaches the tool
 * with the verified `authInfo`; a tool beyond the token — scoped in the guard's `toolScopes` or
 * declared beside the tool with `toolScope()` — is refused with 403 naming every scope needed.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/server';
import { protectMcp, toolScope, type ProtectedMcp } from '../../../src/sdk/guard/adapters/mcp.ts';
import { createGuard, TOOL_SCOPE_META, type Guard } from '../../../src/sdk/guard/index.ts';
import { startTestServer } from '../../helpers/server.ts';
import { challengeOf, challengeParams, NOTES_SCOPES, rpc, startWorld, type GuardWorld, type Tokens } from './fixtures.ts';

interface Seen {
  subject: unknown;
  clientId: string;
  scopes: string[];
  resource: string | undefined;
}

function notesServer(): McpServer {
  const server = new McpServer({ name: 'notes', version: '1.0.0' });
  const whoami = async (ctx: { http?: { authInfo?: { clientId: string; scopes: string[]; resource?: URL; extra?: Record<string, unknown> } } }) => {
    const info = ctx.http?.authInfo;
    const seen: Seen = { subject: info?.extra?.subject, clientId: String(info?.clientId), scopes: [...(info?.scopes ?? [])].sort(), resource: info?.resource?.href };
    return { content: [{ type: 'text' as const, text: JSON.stringify(seen) }] };
  };
  server.registerTool('read_notes', { description: 'Read the notes' }, whoami);
  server.registerTool('add_note', { description: 'Add a note', ...toolScope('notes:write') }, whoami);
  server.registerTool('delete_note', { description: 'Delete a note' }, whoami);
  server.registerTool('server_time', { description: 'No scope: any valid token' }, whoami);
  return server;
}

interface Recorded {
  status: number;
  wwwAuthenticate: string | null;
}

function recordingFetch(log: Recorded[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    log.push({ status: response.status, wwwAuthenticate: response.headers.get('www-authenticate') });
    return response;
  };
}

describe('guard SDK: MCP SDK v2 servers (protectMcp)', () => {
  let world: GuardWorld;
  let guard: Guard;
  let mcp: ProtectedMcp;
  let http: Server;
  let url: string;
  let readOnly: Tokens;
  let readWrite: Tokens;
  before(async () => {
    world = await startWorld({ start: startTestServer });
    guard = createGuard({
      issuer: world.server.url,
      resource: world.resource,
      scopesSupported: NOTES_SCOPES,
      toolScopes: { read_notes: 'notes:read', delete_note: 'notes:delete' },
    });
    mcp = protectMcp(guard, notesServer);
    http = createServer(mcp.node);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}${new URL(world.resource).pathname}`;
    [readOnly, readWrite] = await Promise.all([world.tokens('notes:read'), world.tokens('notes:read notes:write')]);
  });
  after(async () => {
    await mcp?.close();
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    await guard?.close();
    await world?.server.stop();
  });

  async function v2(token: string, log: Recorded[] = []) {
    const transport = new V2Transport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } }, fetch: recordingFetch(log) });
    const client = new V2Client({ name: 'guard-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(transport);
    return client;
  }

  async function v1(token: string) {
    const transport = new V1Transport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    const client = new V1Client({ name: 'guard-test', version: '1.0.0' });
    await client.connect(transport);
    return client;
  }

  it('v2 client (2026-07-28): tools/list shows only the tools the token may call, and a call sees the verified authInfo', async () => {
    const client = await v2(readOnly.access_token);
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['read_notes', 'server_time']);
      const result = (await client.callTool({ name: 'read_notes', arguments: {} })) as { content: { text: string }[] };
      const seen = JSON.parse(result.content[0]!.text) as Seen;
      assert.deepEqual(seen, { subject: world.server.user.id, clientId: readOnly.client.client_id, scopes: ['notes:read'], resource: world.resource });
    } finally {
      await client.close();
    }
  });

  it('v1 client (2025 protocol, SSE answers): the same filtering; a scope declared beside the tool counts', async () => {
    const client = await v1(readWrite.access_token);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['add_note', 'read_notes', 'server_time']);
      const addNote = tools.find((t) => t.name === 'add_note')!;
      assert.equal((addNote._meta as Record<string, unknown>)[TOOL_SCOPE_META], 'notes:write', 'the declared scope is visible to clients');
      const result = (await client.callTool({ name: 'add_note', arguments: {} })) as { content: { text: string }[] };
      assert.deepEqual((JSON.parse(result.content[0]!.text) as Seen).scopes, ['notes:read', 'notes:write']);
    } finally {
      await client.close();
    }
  });

  it('v2 client: a call beyond the token is refused with 403 naming every scope needed (toolScopes or declared beside the tool)', async () => {
    const log: Recorded[] = [];
    const client = await v2(readOnly.access_token, log);
    try {
      for (const [tool, scope] of [
        ['delete_note', 'notes:read notes:delete'],
        ['add_note', 'notes:read notes:write'],
      ]) {
        log.length = 0;
        await assert.rejects(client.callTool({ name: tool!, arguments: {} }));
        const refusal = log.find((r) => r.status === 403);
        assert.ok(refusal, `${tool}: no 403 among ${JSON.stringify(log)}`);
        const challenge = challengeParams(refusal.wwwAuthenticate ?? undefined);
        assert.equal(challenge.error, 'insufficient_scope', tool);
        assert.equal(challenge.scope, scope, tool);
        assert.equal(challenge.resource_metadata, guard.resourceMetadataUrl, tool);
        assert.ok(log.every((r) => r.status < 500));
      }
    } finally {
      await client.close();
    }
  });

  it('2025 protocol on the wire: 403 for both kinds of declaration, and tools/list filtered in the SSE answer', async () => {
    const headers = { 'mcp-protocol-version': '2025-06-18' };
    for (const [tool, scope] of [
      ['delete_note', 'notes:read notes:delete'],
      ['add_note', 'notes:read notes:write'],
    ]) {
      const answer = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } }, readOnly.access_token, headers);
      assert.equal(answer.status, 403, `${tool}: ${answer.text}`);
      assert.equal(challengeOf(answer).scope, scope);
    }
    const listed = await rpc(url, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, readOnly.access_token, headers);
    assert.equal(listed.status, 200);
    const names = ((listed.body.result as { tools: { name: string }[] }).tools ?? []).map((t) => t.name).sort();
    assert.deepEqual(names, ['read_notes', 'server_time']);
  });

  it('an unauthenticated server/discover or initialize gets 401 with the metadata URL (never a 5xx)', async () => {
    const discover = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'server/discover', params: {} }, undefined, { 'mcp-protocol-version': '2026-07-28' });
    assert.equal(discover.status, 401);
    assert.equal(challengeOf(discover).resource_metadata, guard.resourceMetadataUrl);
    const initialize = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    assert.equal(initialize.status, 401);
    // A client without a token fails to connect on the 401, not on a server error.
    const log: Recorded[] = [];
    const transport = new V2Transport(new URL(url), { fetch: recordingFetch(log) });
    await assert.rejects(new V2Client({ name: 'anonymous', version: '1' }).connect(transport));
    assert.ok(log.length > 0 && log.every((r) => r.status === 401), JSON.stringify(log));
  });
});
