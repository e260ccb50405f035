/**
 * Conditions through the gateway, over real HTTP, in front of a recording MCP server: IP allow-lists
 * (IPv4, IPv6, IPv4-mapped, X-Forwarded-For only with trustProxy) and time windows (time zones,
 * days, per application and per tool). A denied call is a JSON-RPC error (HTTP 200) carrying
 * `data: { code: "policy_denied", rule, resource }` and never reaches the upstream; an allowed one does.
 *
 * The time windows are built around the real current time (open: the hour on either side of now,
 * counted on the weekday it starts; closed: two hours later, or tomorrow), so no test waits for a
 * clock; the edge cases (midnight, daylight saving, boundaries) are in test/policy with fixed clocks.
 */
import type { TimeWindow } from '../../src/core/time-windows.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApplicationDefinition } from '../../src/core/application.ts';
import { RpcError } from '../../src/gateway/jsonrpc.ts';
import { serverTargets } from '../helpers/authz.ts';
import type { TestServer } from '../helpers/server.ts';
import { postMcp, signIn, toolCall, toolsList } from '../guard/sign-in.ts';
import { startRecordingUpstream, type RecordingUpstream } from './conditions-fixture.ts';

const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Weekday and minutes after midnight at `instant` in `timeZone` (via Date#toLocaleString). */
function wallClock(instant: number, timeZone: string): { day: number; minutes: number } {
  const weekday = new Date(instant).toLocaleString('en-US', { timeZone, weekday: 'short' });
  const [hour, minute] = new Date(instant).toLocaleString('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).split(':');
  return { day: WEEKDAY[weekday]!, minutes: Number(hour) * 60 + Number(minute) };
}

const hhmm = (minutes: number) => {
  const m = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

/** Open now: from an hour ago to an hour from now, on the weekday it started (it may span midnight). */
function openWindow(timeZone: string): TimeWindow {
  const start = wallClock(Date.now() - 3600_000, timeZone);
  return { from: hhmm(start.minutes), to: hhmm(start.minutes + 120), days: [start.day], timeZone };
}

/** Closed now: the same hours, but only on the next weekday. */
function closedByDay(timeZone: string): TimeWindow {
  const open = openWindow(timeZone);
  return { ...open, days: [(open.days![0]! + 1) % 7] };
}

/** Closed now: from two to three hours from now, any day. */
function closedByHour(timeZone: string): TimeWindow {
  const now = wallClock(Date.now(), timeZone);
  return { from: hhmm(now.minutes + 120), to: hhmm(now.minutes + 180), timeZone };
}

function app(slug: string, upstream: string, extra: Partial<ApplicationDefinition> = {}): ApplicationDefinition {
  return { slug, name: `App ${slug}`, upstream: { url: upstream }, autoApprove: true, ...extra };
}

const scopesOf = (slug: string) => `${slug}:read ${slug}:write ${slug}:delete`;

interface Gatewayed {
  server: TestServer;
  upstream: RecordingUpstream;
  /** Token for the application at /mcp/<slug>, with all its tool scopes. */
  token(slug: string): Promise<string>;
}

async function startGatewayed(start: () => Promise<TestServer>, upstream: RecordingUpstream): Promise<Gatewayed> {
  const server = await start();
  const tokens = new Map<string, Promise<string>>();
  return {
    server,
    upstream,
    token(slug) {
      let token = tokens.get(slug);
      if (!token) {
        token = signIn({ url: server.url, mcpUrl: `${server.url}/mcp/${slug}`, email: server.user.email, password: server.password }, { scope: scopesOf(slug) }).then((t) => t.access_token);
        tokens.set(slug, token);
      }
      return token;
    },
  };
}

/** The gateway knows the upstream's tools (it lists them in the background at start). */
async function untilToolsKnown(url: string, token: string, count: number, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await postMcp(url, toolsList, { token, headers: { 'mcp-protocol-version': '2025-06-18', ...headers } });
    const tools = (answer.json as { result?: { tools?: unknown[] } })?.result?.tools;
    if (tools?.length === count) return;
    if (Date.now() > deadline) throw new Error(`the gateway did not learn the tools of ${url}: ${answer.status} ${answer.text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface PolicyError {
  jsonrpc: string;
  id: unknown;
  error: { code: number; message: string; data: { code: string; rule: string; resource: string } };
}

/** A call refused by policy: HTTP 200, a JSON-RPC error for the same id, never forwarded. */
async function assertDenied(g: Gatewayed, url: string, token: string, message: object, expected: { rule: string; resource: string }, init: { headers?: Record<string, string> } = {}) {
  const before = g.upstream.requests.length;
  const answer = await postMcp(url, message, { token, headers: { 'mcp-protocol-version': '2025-06-18', ...init.headers } });
  assert.equal(answer.status, 200, `a policy denial is a JSON-RPC result, not an HTTP error: ${answer.text}`);
  const body = answer.json as PolicyError;
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.id, (message as { id: unknown }).id);
  assert.equal(body.error.code, RpcError.POLICY);
  assert.deepEqual(body.error.data, { code: 'policy_denied', ...expected, help: `${g.server.config.publicUrl}/docs/denials#policy_denied` });
  assert.equal(g.upstream.requests.length, before, 'the upstream never saw the denied request');
}

/** A call that goes through: the upstream runs the tool. */
async function assertAllowed(g: Gatewayed, url: string, token: string, tool: string, init: { headers?: Record<string, string> } = {}) {
  const calls = g.upstream.toolCalls().length;
  const answer = await postMcp(url, toolCall(tool), { token, headers: { 'mcp-protocol-version': '2025-06-18', ...init.headers } });
  assert.equal(answer.status, 200, answer.text);
  const body = answer.json as { result?: { content?: Array<{ text?: string }> }; error?: unknown };
  assert.equal(body.error, undefined, answer.text);
  assert.equal(body.result?.content?.[0]?.text, `${tool} done`);
  assert.deepEqual(g.upstream.toolCalls().slice(calls), [tool], 'the upstream ran it');
}

describe('conditions through the gateway', { concurrency: true }, () => {
  for (const target of serverTargets()) {
    describe(`time windows and IP allow-lists, ${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
      let g: Gatewayed;
      const url = (slug: string) => `${g.server.url}/mcp/${slug}`;

      before(async () => {
        const upstream = await startRecordingUpstream();
        g = await startGatewayed(
          () =>
            target.start({
              applications: [
                // Open now in Kolkata (UTC+5:30) and in New York; close_account only in a window that is closed.
                app('office', upstream.url, {
                  timeWindows: [closedByHour('UTC'), openWindow('Asia/Kolkata')],
                  tools: { close_account: { timeWindows: [closedByDay('America/New_York'), closedByHour('Europe/Paris')] }, move_money: { timeWindows: [openWindow('America/New_York')] } },
                }),
                app('afterhours', upstream.url, { timeWindows: [closedByHour('UTC'), closedByDay('Australia/Sydney')] }),
                app('netlock', upstream.url, { ipAllow: ['10.0.0.0/8', '2001:db8::/32'] }),
                app('local', upstream.url, { ipAllow: ['127.0.0.0/8', '::1'], tools: { close_account: { ipAllow: ['192.0.2.0/24'] } } }),
              ],
            }),
          upstream,
        );
        await untilToolsKnown(url('office'), await g.token('office'), 3);
        await untilToolsKnown(url('local'), await g.token('local'), 3);
      });
      after(async () => {
        await g?.server.stop();
        await g?.upstream.stop();
      });

      it('inside the application’s window (in its time zone), calls reach the upstream', async () => {
        const token = await g.token('office');
        await assertAllowed(g, url('office'), token, 'read_balance');
        await assertAllowed(g, url('office'), token, 'move_money');
      });

      it('a tool whose own windows are closed (wrong day, wrong hour) is refused; the rest of the application is not', async () => {
        const token = await g.token('office');
        await assertDenied(g, url('office'), token, toolCall('close_account', {}, 7), { rule: 'time-window', resource: 'tool:close_account' });
        await assertAllowed(g, url('office'), token, 'read_balance');
      });

      it('outside every window of the application, every request is refused: tool calls, tools/list, initialize', async () => {
        const token = await g.token('afterhours');
        await assertDenied(g, url('afterhours'), token, toolCall('read_balance', {}, 11), { rule: 'time-window', resource: 'app:afterhours' });
        await assertDenied(g, url('afterhours'), token, toolsList, { rule: 'time-window', resource: 'app:afterhours' });
        const initialize = { jsonrpc: '2.0', id: 3, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
        await assertDenied(g, url('afterhours'), token, initialize, { rule: 'time-window', resource: 'app:afterhours' });
      });

      it('in a batch, one denied request stops the whole batch from being forwarded', async () => {
        const token = await g.token('office');
        const before = g.upstream.requests.length;
        const answer = await postMcp(url('office'), [toolCall('read_balance', {}, 1), toolCall('close_account', {}, 2)], { token, headers: { 'mcp-protocol-version': '2025-06-18' } });
        assert.equal(answer.status, 200, answer.text);
        assert.equal(g.upstream.requests.length, before, 'nothing of the batch reached the upstream');
        const [first, second] = answer.json as PolicyError[];
        assert.equal(first!.id, 1);
        assert.equal(first!.error.code, RpcError.POLICY);
        assert.equal(first!.error.data.code, 'batch_refused');
        assert.equal(second!.id, 2);
        assert.deepEqual(second!.error.data, { code: 'policy_denied', rule: 'time-window', resource: 'tool:close_account', help: `${g.server.config.publicUrl}/docs/denials#policy_denied` });
      });

      it('a caller outside the application’s networks is refused, and X-Forwarded-For is ignored without trustProxy', async () => {
        const token = await g.token('netlock');
        await assertDenied(g, url('netlock'), token, toolCall('read_balance'), { rule: 'ip-allow', resource: 'app:netlock' });
        await assertDenied(g, url('netlock'), token, toolCall('read_balance'), { rule: 'ip-allow', resource: 'app:netlock' }, { headers: { 'x-forwarded-for': '10.1.2.3' } });
        await assertDenied(g, url('netlock'), token, toolsList, { rule: 'ip-allow', resource: 'app:netlock' });
        // Outside the networks nobody opens the GET stream or ends a session either.
        for (const method of ['GET', 'DELETE']) {
          const before = g.upstream.requests.length;
          const res = await fetch(url('netlock'), { method, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-session-id': 'any' } });
          const body = (await res.json()) as PolicyError;
          assert.equal(res.status, 403, method);
          assert.deepEqual(body.error.data, { code: 'policy_denied', rule: 'ip-allow', resource: 'app:netlock', help: `${g.server.config.publicUrl}/docs/denials#policy_denied` });
          assert.equal(g.upstream.requests.length, before, `${method} never reached the upstream`);
        }
      });

      it('inside the application’s networks, calls go through; a tool with its own narrower list is refused', async () => {
        const token = await g.token('local');
        await assertAllowed(g, url('local'), token, 'read_balance');
        await assertAllowed(g, url('local'), token, 'move_money');
        await assertDenied(g, url('local'), token, toolCall('close_account'), { rule: 'ip-allow', resource: 'tool:close_account' });
      });
    });

    describe(`X-Forwarded-For behind a trusted proxy, ${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
      let g: Gatewayed;
      let url: string;

      before(async () => {
        const upstream = await startRecordingUpstream();
        g = await startGatewayed(
          () =>
            target.start({
              trustProxy: true,
              applications: [app('partner', upstream.url, { ipAllow: ['203.0.113.0/24'], tools: { close_account: { ipAllow: ['203.0.113.128/25'] } } })],
            }),
          upstream,
        );
        url = `${g.server.url}/mcp/partner`;
      });
      after(async () => {
        await g?.server.stop();
        await g?.upstream.stop();
      });

      it('the address the proxy appended decides', async () => {
        const token = await g.token('partner');
        const via = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
        await untilToolsKnown(url, token, 3, via('203.0.113.9').headers);
        await assertAllowed(g, url, token, 'read_balance', via('203.0.113.9'));
        await assertAllowed(g, url, token, 'close_account', via('203.0.113.200'));
        await assertDenied(g, url, token, toolCall('close_account'), { rule: 'ip-allow', resource: 'tool:close_account' }, via('203.0.113.9'));
        await assertDenied(g, url, token, toolCall('read_balance'), { rule: 'ip-allow', resource: 'app:partner' }, via('198.51.100.7'));
      });

      it('an address the client put in front of the header is not believed: only the last hop counts', async () => {
        const token = await g.token('partner');
        // What a proxy forwards when the client sent "X-Forwarded-For: 203.0.113.9" itself.
        await assertDenied(g, url, token, toolCall('read_balance'), { rule: 'ip-allow', resource: 'app:partner' }, { headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' } });
        await assertAllowed(g, url, token, 'read_balance', { headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' } });
      });

      it('without the header, the socket peer (127.0.0.1) decides', async () => {
        await assertDenied(g, url, await g.token('partner'), toolCall('read_balance'), { rule: 'ip-allow', resource: 'app:partner' });
      });
    });
  }

  describe('IPv6 and IPv4-mapped peers (a dual-stack listener)', { concurrency: 1 }, () => {
    let g: Gatewayed;
    let port: string;

    before(async () => {
      const upstream = await startRecordingUpstream();
      g = await startGatewayed(
        () =>
          serverTargets()[0]!.start({
            host: '::',
            applications: [
              app('v6only', upstream.url, { ipAllow: ['::1/128'] }),
              app('v4only', upstream.url, { ipAllow: ['127.0.0.0/8'] }),
            ],
          }),
        upstream,
      );
      port = new URL(g.server.url).port;
      await untilToolsKnown(`http://[::1]:${port}/mcp/v6only`, await g.token('v6only'), 3);
    });
    after(async () => {
      await g?.server.stop();
      await g?.upstream.stop();
    });

    it('an IPv6 peer (::1) matches an IPv6 list and not an IPv4 one', async () => {
      await assertAllowed(g, `http://[::1]:${port}/mcp/v6only`, await g.token('v6only'), 'read_balance');
      await assertDenied(g, `http://[::1]:${port}/mcp/v4only`, await g.token('v4only'), toolCall('read_balance'), { rule: 'ip-allow', resource: 'app:v4only' });
    });

    it('an IPv4 peer on the dual-stack socket (::ffff:127.0.0.1) matches the IPv4 list, not ::1', async () => {
      await assertAllowed(g, `http://127.0.0.1:${port}/mcp/v4only`, await g.token('v4only'), 'read_balance');
      await assertDenied(g, `http://127.0.0.1:${port}/mcp/v6only`, await g.token('v6only'), toolCall('read_balance'), { rule: 'ip-allow', resource: 'app:v6only' });
    });
  });
});
