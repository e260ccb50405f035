/**
 * One suite, every adapter (node:http, Express, Hono, MCP SDK v2 server), against a real running
 * Portcullis with real tokens: the resource metadata is served, a request without a token gets 401
 * naming it, a bad token or a token for another resource gets 401 invalid_token, a tool beyond the
 * token's scopes gets 403 naming every scope needed — alone or smuggled in a batch — and an allowed
 * call reaches the server with the caller's identity. None of it is ever a 5xx.
 */
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { getRequestListener } from '@hono/node-server';
import { McpServer } from '@modelcontextprotocol/server';
import express from 'express';
import { Hono } from 'hono';
import { guardExpress } from '../../../src/sdk/guard/adapters/express.ts';
import { guardHono, type GuardEnv } from '../../../src/sdk/guard/adapters/hono.ts';
import { protectMcp } from '../../../src/sdk/guard/adapters/mcp.ts';
import { protectNode } from '../../../src/sdk/guard/adapters/node.ts';
import { createGuard, type Guard, type GuardIdentity, type McpAuthInfo } from '../../../src/sdk/guard/index.ts';
import { startTestServer } from '../../helpers/server.ts';
import { challengeOf, NOTES_SCOPES, rpc, startWorld, type GuardWorld, type Tokens } from './fixtures.ts';

interface Seen {
  subject: string;
  clientId: string;
  scopes: string[];
}

/** What every adapter's server answers to an allowed tools/call: who called (as a tool result). */
function toolResult(id: unknown, seen: Seen) {
  return { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: JSON.stringify(seen) }] } };
}
const fromIdentity = (identity: GuardIdentity): Seen => ({ subject: identity.subject, clientId: identity.clientId, scopes: [...identity.scopes].sort() });
const fromAuthInfo = (info: McpAuthInfo | undefined): Seen => ({ subject: String(info?.extra?.subject), clientId: String(info?.clientId), scopes: [...(info?.scopes ?? [])].sort() });
const idOf = (body: unknown) => (body && typeof body === 'object' && !Array.isArray(body) ? (body as { id?: unknown }).id : null);

interface AdapterCase {
  name: string;
  listener(guard: Guard, path: string): RequestListener;
}

const ADAPTERS: AdapterCase[] = [
  {
    name: 'node:http',
    listener: (guard, path) =>
      protectNode(guard, (req, res, { identity, body }) => {
        if (req.url !== path) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(toolResult(idOf(body), fromIdentity(identity))));
      }),
  },
  {
    name: 'Express',
    listener(guard, path) {
      const app = express();
      app.use(express.json());
      app.use(guardExpress(guard));
      app.post(path, (req, res) => void res.json(toolResult(idOf(req.body), fromIdentity(res.locals.identity as GuardIdentity))));
      return app as unknown as RequestListener;
    },
  },
  {
    name: 'Hono',
    listener(guard, path) {
      const app = new Hono<GuardEnv>();
      app.use(guardHono(guard));
      app.post(path, async (c) => c.json(toolResult(idOf(await c.req.json()), fromIdentity(c.get('identity')))));
      return getRequestListener(app.fetch) as RequestListener;
    },
  },
  {
    name: 'MCP SDK v2 server',
    listener(guard) {
      const mcp = protectMcp(guard, () => {
        const server = new McpServer({ name: 'notes', version: '1.0.0' });
        for (const name of ['read_notes', 'delete_note']) {
          server.registerTool(name, { description: name }, async (ctx) => ({
            content: [{ type: 'text', text: JSON.stringify(fromAuthInfo(ctx.http?.authInfo)) }],
          }));
        }
        return server;
      });
      return mcp.node;
    },
  },
];

const call = (id: number, name: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

describe('guard SDK adapters', () => {
  let world: GuardWorld;
  let guard: Guard;
  let readOnly: Tokens;
  let otherAudience: string;
  before(async () => {
    world = await startWorld({ start: startTestServer });
    guard = createGuard({
      issuer: world.server.url,
      resource: world.resource,
      scopesSupported: NOTES_SCOPES,
      defaultScopes: ['notes:read'],
      toolScopes: { read_notes: 'notes:read', delete_note: 'notes:delete' },
    });
    [readOnly, { access_token: otherAudience }] = await Promise.all([world.tokens('notes:read'), world.tokens('demo:read', world.server.mcpUrl)]);
  });
  after(async () => {
    await guard?.close();
    await world?.server.stop();
  });

  for (const adapter of ADAPTERS) {
    describe(adapter.name, () => {
      let http: Server;
      let base: string;
      let url: string;
      before(async () => {
        const path = new URL(world.resource).pathname;
        http = createServer(adapter.listener(guard, path));
        await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
        base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
        url = `${base}${path}`;
      });
      after(async () => {
        http?.closeAllConnections();
        await new Promise((resolve) => http?.close(resolve));
      });

      it('serves the Protected Resource Metadata without a token (RFC 9728)', async () => {
        const response = await fetch(`${base}${guard.resourceMetadataPath}`);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('access-control-allow-origin'), '*');
        const document = (await response.json()) as Record<string, unknown>;
        assert.equal(document.resource, world.resource);
        assert.deepEqual(document.authorization_servers, [world.server.url]);
        assert.deepEqual(document.scopes_supported, NOTES_SCOPES);
      });

      it('answers a request without a token with 401 naming the metadata, and no error code (RFC 6750 §3.1)', async () => {
        const answer = await rpc(url, call(1, 'read_notes'));
        assert.equal(answer.status, 401);
        const challenge = challengeOf(answer);
        assert.equal(challenge.resource_metadata, guard.resourceMetadataUrl);
        assert.equal(challenge.scope, 'notes:read');
        assert.equal(challenge.error, undefined);
        assert.match(answer.headers.get('access-control-expose-headers') ?? '', /www-authenticate/);
      });

      it('refuses a malformed, forged or foreign-audience token with 401 invalid_token', async () => {
        const [, payload] = readOnly.access_token.split('.');
        const forged = readOnly.access_token.replace(payload!, Buffer.from(JSON.stringify({ sub: 'someone-else' })).toString('base64url'));
        for (const [what, header] of [
          ['garbage', 'Bearer garbage'],
          ['not a bearer token', `Basic ${Buffer.from('a:b').toString('base64')}`],
          ['a forged payload', `Bearer ${forged}`],
          ['a token for another resource', `Bearer ${otherAudience}`],
        ]) {
          const answer = await rpc(url, call(1, 'read_notes'), undefined, { authorization: header! });
          assert.equal(answer.status, 401, what);
          assert.equal(challengeOf(answer).error, 'invalid_token', what);
          assert.equal(challengeOf(answer).resource_metadata, guard.resourceMetadataUrl, what);
        }
      });

      it('lets an allowed tools/call through with the caller identity', async () => {
        const answer = await rpc(url, call(7, 'read_notes'), readOnly.access_token);
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.body.id, 7);
        const result = answer.body.result as { content: { text: string }[] };
        const seen = JSON.parse(result.content[0]!.text) as Seen;
        assert.equal(seen.subject, world.server.user.id);
        assert.equal(seen.clientId, readOnly.client.client_id);
        assert.deepEqual(seen.scopes, ['notes:read']);
      });

      it('refuses a tool beyond the token with 403 naming every scope needed, also inside a batch', async () => {
        for (const message of [call(2, 'delete_note'), [call(3, 'read_notes'), call(4, 'delete_note')]]) {
          const answer = await rpc(url, message, readOnly.access_token);
          assert.equal(answer.status, 403, answer.text);
          const challenge = challengeOf(answer);
          assert.equal(challenge.error, 'insufficient_scope');
          assert.equal(challenge.scope, 'notes:read notes:delete');
          assert.equal(challenge.resource_metadata, guard.resourceMetadataUrl);
          assert.equal(answer.body.error, 'insufficient_scope');
        }
      });

      it('never answers a CORS preflight with a challenge', async () => {
        const response = await fetch(url, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
        await response.arrayBuffer();
        assert.ok(response.status !== 401 && response.status < 500, `preflight got ${response.status}`);
      });
    });
  }
});
