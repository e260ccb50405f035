/**
 * `addDeviceLogin` as a stdio MCP server's author uses it: a few lines add the five sign-in tools
 * to their MCP SDK server (v1 or v2), and `accessToken()` gives their own tools a token for their
 * backend — here, the Portcullis-protected demo MCP endpoint — renewed without their help.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport as V1Memory } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client as V2Client } from '@modelcontextprotocol/client';
import { InMemoryTransport as V2Memory, McpServer as V2McpServer } from '@modelcontextprotocol/server';
import { addDeviceLogin, isDeviceLoginError, signInFirstResult, type ToolRegistry } from '../../src/sdk/device-login/index.ts';
import { approveDeviceOverHttp } from '../helpers/device.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';

type Call = (name: string, args?: Record<string, unknown>) => Promise<{ isError?: boolean; content: Array<{ text?: string }>; structuredContent?: any }>;

describe('addDeviceLogin on an MCP SDK server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ tokens: { accessTokenTtl: 2 } });
  });
  after(() => server.stop());

  for (const sdk of ['v1', 'v2'] as const) {
    it(`${sdk}: the author's server gains the sign-in tools, and its own tool calls the backend with a fresh token`, async () => {
      const mcp: ToolRegistry = sdk === 'v1' ? new V1McpServer({ name: 'notes', version: '1.0.0' }) : new V2McpServer({ name: 'notes', version: '1.0.0' });
      // —— what the author writes ——
      const login = addDeviceLogin(mcp, { issuer: server.url, resource: server.mcpUrl, authFile: join(mkdtempSync(join(tmpdir(), 'kit-')), 'auth.json'), openBrowser: false });
      mcp.registerTool('backend_status', { description: 'Calls the backend' }, async () => {
        let token: string;
        try {
          token = await login.accessToken();
        } catch (err) {
          if (isDeviceLoginError(err)) return signInFirstResult(server.mcpUrl, err.code === 'signed_out' ? 'signed_out' : 'not_signed_in') as never;
          throw err;
        }
        const response = await fetch(server.mcpUrl, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'notes', version: '1' } } }),
        });
        await response.body?.cancel();
        return { content: [{ type: 'text', text: `backend answered ${response.status}` }] } as never;
      });
      // ————————————————————————
      let call: Call;
      let names: () => Promise<string[]>;
      if (sdk === 'v1') {
        const [a, b] = V1Memory.createLinkedPair();
        await (mcp as unknown as V1McpServer).connect(b);
        const client = new V1Client({ name: 'host', version: '1' });
        await client.connect(a);
        call = async (name, args = {}) => (await client.callTool({ name, arguments: args })) as never;
        names = async () => (await client.listTools()).tools.map((t) => t.name);
      } else {
        const [a, b] = V2Memory.createLinkedPair();
        await (mcp as unknown as V2McpServer).connect(b);
        const client = new V2Client({ name: 'host', version: '1' });
        await client.connect(a);
        call = async (name, args = {}) => (await client.callTool({ name, arguments: args })) as never;
        names = async () => (await client.listTools()).tools.map((t) => t.name);
      }

      assert.deepEqual((await names()).sort(), ['auth_complete', 'auth_login', 'auth_logout', 'auth_status', 'auth_switch', 'backend_status']);
      assert.equal((await call('backend_status')).structuredContent.code, 'not_signed_in');
      const started = await call('auth_login');
      await approveDeviceOverHttp(server, started.structuredContent.user_code, { email: server.user.email, password: TEST_PASSWORD });
      const done = await call('auth_complete', { wait_seconds: 10 });
      assert.equal(done.structuredContent.status, 'signed_in');
      assert.equal(done.structuredContent.user.email, 'ada@example.com');
      assert.equal((await call('backend_status')).content[0]!.text, 'backend answered 200');
      await new Promise((resolve) => setTimeout(resolve, 2500)); // the first access token has expired
      assert.equal((await call('backend_status')).content[0]!.text, 'backend answered 200');
      assert.equal((await call('auth_logout')).structuredContent.status, 'signed_out');
      assert.equal((await call('backend_status')).structuredContent.code, 'not_signed_in');
    });
  }
});
