/**
 * The processes behind a stdio upstream, as an operator relies on them behaving: quiet ones are
 * stopped after `idleTimeout`, crashed ones come back with exponential back-off (requests meanwhile
 * fail fast, never hang), `maxProcesses` is a hard cap (→ 'overloaded', 503 at the gateway),
 * stderr lands in the log (bounded), and `close()` leaves nothing running — not even what a
 * server started itself. Processes are checked by pid in /proc, not by asking the bridge.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import type { StdioUpstream } from '../../../src/core/application.ts';
import { silentLogger } from '../../../src/core/log.ts';
import type { CallerIdentity } from '../../../src/gateway/caller.ts';
import { createStdioUpstream, type StdioBridge, type StdioUpstreamOptions } from '../../../src/gateway/upstreams/stdio/index.ts';
import { isPortcullisError } from '../../../src/core/errors.ts';
import { isUpstreamFailure } from '../../../src/gateway/upstreams/upstream.ts';
import { toExchange, waitFor, type Exchange } from '../../helpers/gateway.ts';
import { bridgeClient, caller, captureLog, FIXTURE, isAlive, serverProcesses, stdioUpstream, textOf } from './helpers.ts';

let apps = 0;

function bridgeFor(extra: Partial<StdioUpstream> = {}, options: Partial<StdioUpstreamOptions> = {}): { bridge: StdioBridge; slug: string } {
  const slug = `life-${process.pid}-${++apps}`;
  const bridge = createStdioUpstream(stdioUpstream([FIXTURE], extra), { application: slug, log: silentLogger(), ...options });
  after(() => bridge.close());
  return { bridge, slug };
}

const headers = (sessionId?: string, accept = 'application/json, text/event-stream') => {
  const h = new Headers({ 'content-type': 'application/json', accept });
  if (sessionId) h.set('mcp-session-id', sessionId);
  return h;
};

async function post(bridge: StdioBridge, who: CallerIdentity, body: unknown, sessionId?: string): Promise<Exchange> {
  const response = (await bridge.send({ method: 'POST', headers: headers(sessionId), signal: new AbortController().signal, caller: who, messages: [body] })) as Response;
  return toExchange(response, await response.text());
}

async function session(bridge: StdioBridge, who: CallerIdentity): Promise<string> {
  const init = await post(bridge, who, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
  assert.equal(init.status, 200, init.text);
  return init.headers.get('mcp-session-id')!;
}

const whoami = (id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'whoami', arguments: {} } });
const pidOf = (ex: Exchange) => JSON.parse(ex.messages.find((m) => 'result' in m).result.content[0].text).pid as number;

describe('stdio processes: idle, crash, cap', () => {
  it('a quiet process stops after idleTimeout; its session survives and the next request starts a fresh one', async () => {
    const { bridge, slug } = bridgeFor({ idleTimeout: 1 });
    const ada = caller('ada');
    const sessionId = await session(bridge, ada);
    const first = pidOf(await post(bridge, ada, whoami(), sessionId));
    assert.deepEqual(serverProcesses(slug).map((p) => p.pid), [first]);
    const started = Date.now();
    await waitFor(() => !isAlive(first), 'the idle process to stop', 5000);
    assert.ok(Date.now() - started >= 500, 'not stopped before it was idle');
    await waitFor(() => bridge.processes().length === 0, 'the bridge to notice');

    const second = pidOf(await post(bridge, ada, whoami(2), sessionId));
    assert.notEqual(second, first);
  });

  it('a process with a client listening on its GET stream is not idle', async () => {
    const { bridge } = bridgeFor({ idleTimeout: 1 });
    const ada = caller('ada');
    const client = await bridgeClient(bridge, ada); // opens the GET stream, as SDK clients do
    const pid = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).pid;
    await sleep(1800);
    assert.ok(isAlive(pid), 'still serving a connected client');
    await client.close();
    await waitFor(() => !isAlive(pid), 'the process to stop once nobody listens', 5000);
  });

  it('a crash fails what was in flight with a JSON-RPC error at once, refuses requests during back-off, and restarts (sooner than it would a second time)', async () => {
    const captured = captureLog();
    const { bridge } = bridgeFor({}, { backoff: { initialMs: 300 }, log: captured.log });
    const ada = caller('ada');
    const client = await bridgeClient(bridge, ada);
    const pid = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).pid as number;

    // In flight, its answer begun (progress is streaming): the failure arrives as a JSON-RPC error.
    let progressed!: () => void;
    const firstProgress = new Promise<void>((resolve) => (progressed = resolve));
    const inFlight = client.callTool({ name: 'slow', arguments: { ms: 5000, steps: 50 } }, { onprogress: () => progressed() });
    await firstProgress;
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await assert.rejects(inFlight, (err: { code?: number }) => err.code === -32001);
    assert.ok(Date.now() - killedAt < 1000, 'answered at once, not after a timeout');

    // During back-off: refused at once (the gateway answers 502).
    await assert.rejects(
      bridge.send({ method: 'POST', headers: headers(), signal: new AbortController().signal, caller: ada, messages: [{ jsonrpc: '2.0', id: 0, method: 'initialize', params: {} }] }),
      (err: unknown) => isPortcullisError(err) && err.code === 'upstream_unavailable',
    );

    // Restarted by itself (a client is connected); the same session carries on.
    const restarted = await waitFor(() => bridge.processes()[0]?.pid, 'a restart', 5000);
    assert.notEqual(restarted, pid);
    const resumed = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} })));
    assert.equal(resumed.pid, restarted);
    assert.deepEqual(resumed.counts, { initialize: 1, initialized: 1 });

    // Crash again right away: the next delay doubles.
    process.kill(restarted, 'SIGKILL');
    await waitFor(() => bridge.processes()[0]?.pid !== undefined && bridge.processes()[0]!.pid !== restarted, 'a second restart', 5000);
    const delays = captured.lines.filter((l) => l.msg === 'stdio MCP server exited unexpectedly').map((l) => l.restartInMs);
    assert.deepEqual(delays, [300, 600]);
    await client.close();
  });

  it('a server that exits while answering: the request gets a JSON-RPC error, never a hang', async () => {
    const { bridge } = bridgeFor({}, { backoff: { initialMs: 200 } });
    const ada = caller('ada');
    const sessionId = await session(bridge, ada);
    const crashed = await post(bridge, ada, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'crash', arguments: {} } }, sessionId).catch((err) => err);
    // Either the answer had not begun (upstream_unavailable → 502) or it carries a JSON-RPC error.
    if (isUpstreamFailure(crashed)) assert.equal(crashed.code, 'upstream_unavailable');
    else assert.equal(crashed.messages[0].error.code, -32001);
  });

  it('a command that cannot start, or never initializes, fails fast with the right kind', async () => {
    const missing = createStdioUpstream({ ...stdioUpstream([]), command: '/nonexistent/mcp-server' }, { application: 'missing', log: silentLogger() });
    after(() => missing.close());
    await assert.rejects(
      missing.send({ method: 'POST', headers: headers(), signal: new AbortController().signal, caller: caller('ada'), messages: [{ jsonrpc: '2.0', id: 0, method: 'initialize', params: {} }] }),
      (err: unknown) => isPortcullisError(err) && err.code === 'upstream_unavailable',
    );
    const { bridge: silent, slug } = bridgeFor({ args: ['-e', 'setInterval(() => {}, 1000)'] }, { startupTimeoutMs: 400 });
    await assert.rejects(
      silent.send({ method: 'POST', headers: headers(), signal: new AbortController().signal, caller: caller('ada'), messages: [{ jsonrpc: '2.0', id: 0, method: 'initialize', params: {} }] }),
      (err: unknown) => isPortcullisError(err) && err.code === 'upstream_timeout',
    );
    await waitFor(() => serverProcesses(slug).length === 0, 'the silent process to be stopped');
  });

  it('maxProcesses: a new user is refused ("overloaded") while every process is busy; a quiet one makes room', async () => {
    const { bridge, slug } = bridgeFor({ maxProcesses: 1 });
    const ada = caller('ada');
    const grace = caller('grace');
    const adaClient = await bridgeClient(bridge, ada); // listening: not quiet
    await adaClient.callTool({ name: 'whoami', arguments: {} });
    await assert.rejects(session(bridge, grace), (err: unknown) => isPortcullisError(err) && err.code === 'upstream_overloaded');
    assert.equal(serverProcesses(slug).length, 1);

    await adaClient.close(); // now quiet: Grace's process takes its place, once Ada's is gone
    const graceSession = await session(bridge, grace);
    const gracePid = pidOf(await post(bridge, grace, whoami(), graceSession));
    assert.deepEqual(serverProcesses(slug).map((p) => [p.pid, p.env.PORTCULLIS_USER_SUB]), [[gracePid, 'grace']]);
  });
});

describe('stdio processes: stderr and shutdown', () => {
  it('stderr goes to the log line by line, cut to size and limited in number', async () => {
    const captured = captureLog();
    const { bridge } = bridgeFor({}, { log: captured.log });
    const ada = caller('ada');
    const sessionId = await session(bridge, ada);
    const call = (id: number, args: Record<string, unknown>) => post(bridge, ada, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'spam', arguments: args } }, sessionId);
    await call(1, { lines: 2, text: 'hello from the server' });
    const stderr = () => captured.lines.filter((l) => l.msg === 'stdio server stderr');
    await waitFor(() => stderr().length >= 3, 'stderr lines in the log');
    assert.deepEqual(stderr().map((l) => l.stderr), ['stdio fixture ready', 'hello from the server 0', 'hello from the server 1']);
    assert.ok(stderr().every((l) => typeof l.serverPid === 'number'));

    await call(2, { lines: 1, text: 'x'.repeat(5000) });
    const long = await waitFor(() => stderr().find((l) => l.truncated), 'the long line');
    assert.equal(long.stderr.length, 2001);

    await call(3, { lines: 1000, text: 'flood' });
    await bridge.close();
    assert.ok(stderr().length <= 200, `at most 200 lines per window, got ${stderr().length}`);
    // Counted once the process's stderr ends.
    const leftOut = await waitFor(() => captured.lines.find((l) => l.msg === 'stdio server stderr: lines left out (too many)'), 'the count of lines left out');
    assert.ok(leftOut.suppressed >= 800, `suppressed ${leftOut.suppressed}`);
  });

  it('close() stops every process and whatever they started (the whole process group)', async () => {
    const slug = `life-${process.pid}-group`;
    // A server that leaves a child of its own behind (as wrappers such as npx or a shell do).
    const bridge = createStdioUpstream(
      { ...stdioUpstream([]), command: '/bin/sh', args: ['-c', 'sleep 300 & exec "$0" "$@"', process.execPath, FIXTURE] },
      { application: slug, log: silentLogger() },
    );
    const clients = [await bridgeClient(bridge, caller('ada')), await bridgeClient(bridge, caller('grace'))];
    for (const client of clients) await client.callTool({ name: 'whoami', arguments: {} });
    const running = serverProcesses(slug);
    assert.equal(running.length, 4, 'two servers, each with a sleep of its own');
    await bridge.close();
    await waitFor(() => running.every((p) => !isAlive(p.pid)), 'every process and child to be gone', 5000);
    for (const client of clients) await client.close();
  });
});
