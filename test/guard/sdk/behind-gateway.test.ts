/**
 * A guard-protected MCP server placed behind the gateway as an HTTP upstream: the gateway never
 * passes the client's token on, it sends a token of its own (audience = the upstream's URL, `act`
 * naming the gateway), and the upstream's guard — configured with nothing but the issuer and its
 * own URL — verifies it and sees the right user, client and scopes, and who acts for them.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { McpServer } from '@modelcontextprotocol/server';
import { decodeJwt } from 'jose';
import { protectMcp, type ProtectedMcp } from '../../../src/sdk/guard/adapters/mcp.ts';
import { createGuard, type Guard } from '../../../src/sdk/guard/index.ts';
import { registerPublic, signIn } from '../../helpers/authz.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { challengeOf, notesApplication, NOTES_SCOPES, rpc, until } from './fixtures.ts';

interface Seen {
  subject: string;
  clientId: string;
  scopes: string[];
  actor: string | undefined;
}

describe('guard SDK: a guarded MCP server behind the gateway', () => {
  let server: TestServer;
  let upstream: Server;
  let upstreamUrl: string;
  let guard: Guard;
  let mcp: ProtectedMcp;
  /** Every Authorization header the upstream received. */
  const received: string[] = [];
  let attach: (handler: (req: IncomingMessage, res: ServerResponse) => void) => void;

  before(async () => {
    // The upstream's port must be known before Portcullis starts (its application names it), and
    // the guard needs Portcullis's issuer: requests wait until the handler is attached.
    const ready = new Promise<(req: IncomingMessage, res: ServerResponse) => void>((resolve) => (attach = resolve));
    upstream = createServer((req, res) => {
      received.push(req.headers.authorization ?? '');
      void ready.then((handler) => handler(req, res));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`;

    server = await startTestServer({
      applications: [notesApplication(upstreamUrl, { whoami: { scope: 'notes:read' }, erase: { scope: 'notes:delete' } })],
    });
    guard = createGuard({
      issuer: server.url,
      resource: upstreamUrl,
      scopesSupported: NOTES_SCOPES,
      toolScopes: { whoami: 'notes:read', erase: 'notes:delete' },
    });
    mcp = protectMcp(guard, () => {
      const mcpServer = new McpServer({ name: 'notes-upstream', version: '1.0.0' });
      const whoami = async (ctx: { http?: { authInfo?: { clientId: string; scopes: string[]; extra?: Record<string, unknown> } } }) => {
        const info = ctx.http?.authInfo;
        const seen: Seen = {
          subject: String(info?.extra?.subject),
          clientId: String(info?.clientId),
          scopes: [...(info?.scopes ?? [])].sort(),
          actor: info?.extra?.actor as string | undefined,
        };
        return { content: [{ type: 'text' as const, text: JSON.stringify(seen) }] };
      };
      mcpServer.registerTool('whoami', { description: 'Who is calling', annotations: { readOnlyHint: true } }, whoami);
      mcpServer.registerTool('erase', { description: 'Erase everything' }, whoami);
      return mcpServer;
    });
    attach(mcp.node);
  });

  after(async () => {
    await mcp?.close();
    await guard?.close();
    await server?.stop();
    upstream?.closeAllConnections();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('the upstream verifies the gateway-minted token: right user, client and scopes, the gateway as actor, never the client token', async () => {
    const gatewayUrl = `${server.url}/mcp/notes`;
    const client = await registerPublic(server);
    const tokens = await signIn(server, client, { resource: gatewayUrl, scope: 'notes:read' });

    const transport = new StreamableHTTPClientTransport(new URL(gatewayUrl), { requestInit: { headers: { authorization: `Bearer ${tokens.access_token}` } } });
    const mcpClient = new Client({ name: 'behind-gateway', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await mcpClient.connect(transport);
    try {
      // The gateway learns the upstream's tools in the background (as itself, through the guard).
      const { value: names } = await until(async () => {
        const listed = (await mcpClient.listTools()).tools.map((t) => t.name);
        return listed.includes('whoami') ? listed : undefined;
      }, 10_000, 'whoami listed through the gateway');
      assert.deepEqual(names, ['whoami'], 'erase needs notes:delete');

      const result = (await mcpClient.callTool({ name: 'whoami', arguments: {} })) as { content: { text: string }[] };
      const seen = JSON.parse(result.content[0]!.text) as Seen;
      assert.deepEqual(seen, { subject: server.user.id, clientId: client.client_id, scopes: ['notes:read'], actor: `${server.url}#gateway` });
    } finally {
      await mcpClient.close();
    }

    assert.ok(received.length > 0);
    assert.ok(!received.some((header) => header.includes(tokens.access_token)), 'the client token never reached the upstream');
    for (const header of received) {
      const claims = decodeJwt(header.replace(/^Bearer /, ''));
      assert.equal(claims.aud, upstreamUrl);
      assert.equal(claims.iss, server.url);
      assert.equal((claims.act as { sub?: string }).sub, `${server.url}#gateway`);
    }
  });

  it('neither token works in the other place: the client token at the upstream, the upstream token at the gateway', async () => {
    const gatewayUrl = `${server.url}/mcp/notes`;
    const client = await registerPublic(server);
    const tokens = await signIn(server, client, { resource: gatewayUrl, scope: 'notes:read' });
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };

    const direct = await rpc(upstreamUrl, list, tokens.access_token);
    assert.equal(direct.status, 401, 'a client token is for the gateway, not for the server behind it');
    assert.equal(challengeOf(direct).error, 'invalid_token');

    const minted = received.map((h) => h.replace(/^Bearer /, '')).find(Boolean);
    assert.ok(minted, 'the upstream has received a gateway token');
    const replayed = await rpc(gatewayUrl, list, minted);
    assert.equal(replayed.status, 401, 'an upstream token is not accepted by the gateway');
    assert.equal(challengeOf(replayed).error, 'invalid_token');
  });
});
