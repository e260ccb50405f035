/**
 * Step-up with the real MCP SDK clients, as they are today, through the gateway. Neither SDK reads
 * RFC 9470's `insufficient_user_authentication`, and both answer a 401 by refreshing — which keeps
 * the old auth_time. What makes them come back with a fresh sign-in is the step-up scope
 * (authz/step-up.ts): the gateway challenges a token without it with 403 `insufficient_scope`
 * naming it (plus the RFC 9470 challenge), the authorization server grants it only after a sign-in
 * within the max age, its tokens expire with it, a refresh never carries it, and a token that
 * holds it after the sign-in got too old is answered 401 `insufficient_user_authentication`
 * (RFC 9470 §3), so the SDK refreshes, loses the scope, and meets the 403.
 *
 * What each SDK does (observed, @modelcontextprotocol/client 2.4 and @modelcontextprotocol/sdk 1.32):
 *
 * v2 (2026-07-28, against a v2-SDK server of ours):
 * - 403 insufficient_scope naming the step-up scope → re-authorizes BY ITSELF with the union of what it
 *   asked for, what it holds and what the challenge names (+ offline_access): the call rejects with
 *   UnauthorizedError and the user is sent to the browser, where the password form comes back.
 * - once the step-up has expired: 401 → refresh (the new token lacks the step-up scope) → retry →
 *   403 → re-authorizes by itself again.
 * - v2 gives up after ONE step-up retry per call: had the expired step-up been answered 403, it would
 *   have refreshed (its union was no wider than its token), retried, met the same 403 and thrown a
 *   403 SdkHttpError without re-authorizing — which is why that case is a 401.
 *
 * v1 (2025-era `initialize`, against server-everything, which no one here wrote):
 * - 403 insufficient_scope → `auth()` with the challenged scope, which REFRESHES (it never opens the
 *   browser on 403), retries once, gets the same 403 and throws StreamableHTTPError 403. The
 *   application steps up by running `auth()` with the challenged scope: the password form comes back.
 * - once the step-up has expired: 401 → refresh → retry → 403 → refresh → 403 → StreamableHTTPError
 *   403, and the application steps up again the same way.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/client';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { serverTargets } from '../helpers/authz.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { startEverything, type SpawnedServer } from '../helpers/gateway.ts';
import { assertNoServerErrors, createMcpClient, requestedScope, type Exchange, type McpTestClient } from '../helpers/mcp-clients.ts';
import type { TestServer } from '../helpers/server.ts';
import { parseChallenges, startRecordingUpstream, type Challenge, type RecordingUpstream } from './conditions-fixture.ts';

const MAX_AGE = 3;

/** `POST /mcp/bank tools/call 403`, leaving out the standalone GET stream and its closing DELETE. */
function wire(exchanges: readonly Exchange[]): string[] {
  return exchanges
    .filter((e) => !(e.method === 'GET' || e.method === 'DELETE') || !e.url.pathname.startsWith('/mcp/'))
    .map((e) => [e.method, e.url.pathname, e.rpc ?? e.grantType, e.status].filter((part) => part !== undefined).join(' '));
}

/** Move the server's clock until a sign-in at `authTime` is older than the max age (by a second). */
function untilStale(clock: TestClock, authTime: number): void {
  clock.advance(Math.max(0, authTime + MAX_AGE + 1 - clock.now()));
}

const signInTime = (client: McpTestClient) => decodeJwt(client.provider.currentTokens!.access_token).auth_time as number;
const hasLoginForm = (body: string) => body.includes('/login"');
const hasConsentForm = (body: string) => body.includes('/consent"');

/** The two challenges of a step-up 403: insufficient_scope first (what the SDKs read), then RFC 9470. */
function assertStepUpChallenge(exchange: Exchange, scope: string): void {
  assert.equal(exchange.status, 403);
  assert.equal(exchange.error, 'insufficient_scope');
  const [first, second] = parseChallenges(exchange.wwwAuthenticate!) as [Challenge, Challenge];
  assert.equal(first.params.error, 'insufficient_scope');
  assert.equal(first.params.scope, scope);
  assert.equal(second.params.error, 'insufficient_user_authentication');
  assert.equal(second.params.max_age, String(MAX_AGE));
}

/** The 401 for a token whose step-up has expired: RFC 9470 §3. */
function assertExpiredStepUp(exchange: Exchange, held: string): void {
  assert.equal(exchange.status, 401);
  assert.equal(exchange.error, 'insufficient_user_authentication');
  const [challenge] = parseChallenges(exchange.wwwAuthenticate!) as [Challenge];
  assert.equal(challenge.params.error, 'insufficient_user_authentication');
  assert.equal(challenge.params.max_age, String(MAX_AGE));
  assert.equal(challenge.params.scope, held);
  assert.ok(challenge.params.resource_metadata);
}

/** Poll until the gateway has learnt the upstream's tools (it lists them in the background). */
async function untilListed(client: McpTestClient, tool: string): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const names = await client.toolNames();
    if (names.includes(tool)) return names;
    if (Date.now() > deadline) throw new Error(`${tool} never listed: ${names.join(', ')}`);
    await sleep(50);
  }
}

describe('step-up with the MCP SDK v2 client', { concurrency: true }, () => {
  for (const target of serverTargets()) {
    describe(`${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
      let server: TestServer;
      const clock = testClock();
      let upstream: RecordingUpstream;
      let client: McpTestClient;
      const HELD = 'bank:read bank:write';
      const WITH_STEP_UP = 'bank:read bank:write bank:step-up';

      before(async () => {
        upstream = await startRecordingUpstream();
        server = await target.start({
          tokens: { accessTokenTtl: 600 },
          applications: [{ slug: 'bank', name: 'Bank', upstream: { url: upstream.url }, autoApprove: true, tools: { move_money: { stepUp: { maxAge: MAX_AGE } } } }],
        }, { clock });
        client = await createMcpClient({ ...server, mcpUrl: `${server.url}/mcp/bank` }, { sdk: 'v2', registration: 'dynamic' });
      });
      after(async () => {
        await client?.close();
        await server?.stop();
        await upstream?.stop();
      });

      it('signs in; the tools that need no step-up work, and the sensitive one is listed', async () => {
        assert.equal(await client.connect(), 'redirected');
        await client.authorize();
        assert.equal(client.provider.currentTokens!.scope, HELD);
        assert.deepEqual(await untilListed(client, 'move_money'), ['read_balance', 'move_money']);
        assert.equal((await client.call('read_balance')).content[0]!.text, 'read_balance done');
      });

      it('with a sign-in older than the max age, the sensitive call gets 403 naming the step-up scope; v2 re-authorizes by itself', async () => {
        untilStale(clock, signInTime(client));
        const mark = client.mark();
        await assert.rejects(client.call('move_money'), UnauthorizedError);
        const seen = client.since(mark);
        assert.deepEqual(wire(seen), ['POST /mcp/bank tools/call 403'], 'no refresh: it cannot widen the grant');
        assertStepUpChallenge(seen[0]!, WITH_STEP_UP);
        assert.equal(requestedScope(client.provider.pendingAuthorization), `${WITH_STEP_UP} offline_access`);
        assert.ok(!upstream.toolCalls().includes('move_money'), 'the upstream never saw it');
      });

      it('the browser asks for the password again (not a silent reuse of its session), then consent; the call succeeds', async () => {
        const mark = client.mark();
        const { pages } = await client.authorize();
        const login = pages.find((page) => hasLoginForm(page.body));
        assert.ok(login, 'the password form');
        assert.match(login.body, /Confirm it is you/);
        assert.match(pages.find((page) => hasConsentForm(page.body))!.body, /for 3 seconds after you sign in/);
        const tokens = client.provider.currentTokens!;
        assert.equal(tokens.scope, WITH_STEP_UP);
        assert.ok(tokens.expires_in! <= MAX_AGE, 'the step-up token expires with the step-up');
        const moved = await client.call('move_money');
        assert.equal(moved.content[0]!.text, 'move_money done');
        assert.deepEqual(wire(client.since(mark)), [
          'POST /oauth/token authorization_code 200',
          'POST /mcp/bank server/discover 200',
          'POST /mcp/bank tools/call 200',
        ]);
        assert.equal(upstream.toolCalls().at(-1), 'move_money');
      });

      it('after the step-up expires: 401 insufficient_user_authentication → refresh (without the step-up scope) → 403 → re-authorizes by itself', async () => {
        untilStale(clock, signInTime(client));
        const calls = upstream.toolCalls().length;
        const mark = client.mark();
        await assert.rejects(client.call('move_money'), UnauthorizedError);
        const seen = client.since(mark);
        assert.deepEqual(wire(seen), ['POST /mcp/bank tools/call 401', 'POST /oauth/token refresh_token 200', 'POST /mcp/bank tools/call 403']);
        assertExpiredStepUp(seen[0]!, WITH_STEP_UP);
        assertStepUpChallenge(seen[2]!, WITH_STEP_UP);
        assert.equal(client.provider.currentTokens!.scope, HELD, 'the refreshed token does not carry the step-up forward');
        assert.equal(requestedScope(client.provider.pendingAuthorization), `${WITH_STEP_UP} offline_access`);
        assert.equal(upstream.toolCalls().length, calls, 'the upstream never saw it');
      });

      it('meanwhile the other tools keep working with the refreshed token', async () => {
        const mark = client.mark();
        assert.equal((await client.call('read_balance')).content[0]!.text, 'read_balance done');
        assert.deepEqual(wire(client.since(mark)), ['POST /mcp/bank tools/call 200']);
      });

      it('the browser asks for the password again, and the sensitive call succeeds again', async () => {
        const { pages } = await client.authorize();
        assert.ok(pages.some((page) => hasLoginForm(page.body)), 'the password form again');
        assert.equal(client.provider.currentTokens!.scope, WITH_STEP_UP);
        assert.equal((await client.call('move_money')).content[0]!.text, 'move_money done');
        assertNoServerErrors(client);
      });
    });
  }
});

describe('step-up with the MCP SDK v1 client, in front of server-everything', { concurrency: true }, () => {
  for (const target of serverTargets()) {
    describe(`${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
      let server: TestServer;
      const clock = testClock();
      let everything: SpawnedServer;
      let client: McpTestClient;
      // get-env is read-only (everything:read) and shows the server's environment: it needs a step-up.
      const HELD = 'everything:read everything:write';
      const WITH_STEP_UP = 'everything:read everything:write everything:step-up';
      const is403 = (err: unknown) => err instanceof StreamableHTTPError && err.code === 403;

      before(async () => {
        everything = await startEverything();
        server = await target.start({
          tokens: { accessTokenTtl: 600 },
          applications: [{ slug: 'everything', name: 'Everything', upstream: { url: everything.url }, autoApprove: true, tools: { 'get-env': { stepUp: { maxAge: MAX_AGE } } } }],
        }, { clock });
        client = await createMcpClient({ ...server, mcpUrl: `${server.url}/mcp/everything` }, { sdk: 'v1', registration: 'dynamic' });
      });
      after(async () => {
        await client?.close();
        await server?.stop();
        await everything?.stop();
      });

      it('signs in; echo works without a step-up', async () => {
        assert.equal(await client.connect(), 'redirected');
        await client.authorize();
        assert.equal(client.provider.currentTokens!.scope, HELD);
        await untilListed(client, 'get-env');
        const echoed = await client.call('echo', { message: 'hello' });
        assert.match(echoed.content[0]!.text!, /hello/);
      });

      it('with an old sign-in, get-env gets 403 naming the step-up scope; v1 refreshes in vain and throws 403 (it never opens the browser)', async () => {
        untilStale(clock, signInTime(client));
        const mark = client.mark();
        await assert.rejects(client.call('get-env'), is403);
        const seen = client.since(mark);
        assert.deepEqual(wire(seen), ['POST /mcp/everything tools/call 403', 'POST /oauth/token refresh_token 200', 'POST /mcp/everything tools/call 403']);
        assertStepUpChallenge(seen[0]!, WITH_STEP_UP);
        assert.equal(seen[1]!.scope, undefined, 'v1 refreshes without asking for a scope');
        assert.equal(client.provider.currentTokens!.scope, HELD, 'the refresh did not grant the step-up');
        assert.equal(client.provider.pendingAuthorization, undefined);
      });

      it('the application steps up with the challenged scope: the password form comes back, then get-env works', async () => {
        assert.equal(await client.requestScope(WITH_STEP_UP), 'REDIRECT');
        const { pages } = await client.authorize();
        assert.ok(pages.some((page) => hasLoginForm(page.body)), 'the password form, not a silent reuse');
        assert.equal(client.provider.currentTokens!.scope, WITH_STEP_UP);
        const env = await client.call('get-env');
        assert.equal(env.isError, undefined);
        assert.match(env.content[0]!.text!, /PORT/, 'the upstream ran it');
      });

      it('after the step-up expires: 401 → refresh → 403 → refresh → 403, thrown; stepping up again works', async () => {
        untilStale(clock, signInTime(client));
        const mark = client.mark();
        await assert.rejects(client.call('get-env'), is403);
        const seen = client.since(mark);
        assert.deepEqual(wire(seen), [
          'POST /mcp/everything tools/call 401',
          'POST /oauth/token refresh_token 200',
          'POST /mcp/everything tools/call 403',
          'POST /oauth/token refresh_token 200',
          'POST /mcp/everything tools/call 403',
        ]);
        assertExpiredStepUp(seen[0]!, WITH_STEP_UP);
        assertStepUpChallenge(seen[2]!, WITH_STEP_UP);
        assert.equal(client.provider.currentTokens!.scope, HELD);
        // Other tools keep working meanwhile.
        assert.match((await client.call('echo', { message: 'still here' })).content[0]!.text!, /still here/);

        assert.equal(await client.requestScope(WITH_STEP_UP), 'REDIRECT');
        const { pages } = await client.authorize();
        assert.ok(pages.some((page) => hasLoginForm(page.body)));
        assert.equal((await client.call('get-env')).isError, undefined);
        assertNoServerErrors(client);
      });
    });
  }
});
