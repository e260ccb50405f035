/**
 * Step-up through the gateway, on the wire: a tool with `stepUp: { maxAge }` answers a token
 * without a recent sign-in with 403 and TWO challenges in one WWW-Authenticate header (RFC 9110
 * §11.6.1 allows a list):
 *
 *   Bearer error="insufficient_scope", error_description="…", scope="<held> <slug>:step-up", resource_metadata="…",
 *   Bearer error="insufficient_user_authentication", error_description="…", max_age="<tool maxAge>"
 *
 * — the first is what the MCP SDKs act on (RFC 6750 §3.1, MCP "Scope Challenge Handling"), the
 * second is RFC 9470 §3 for clients that understand it. The call never reaches the upstream; other
 * tools keep working; a token with the step-up scope and a recent sign-in goes through, until the
 * sign-in is older than the tool's max age — then 401 `insufficient_user_authentication` (RFC 9470 §3).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { testClock } from '../helpers/clock.ts';
import { serverTargets } from '../helpers/authz.ts';
import type { TestServer } from '../helpers/server.ts';
import { postMcp, signIn, toolCall, type TokenSet } from '../guard/sign-in.ts';
import { parseChallenges, startRecordingUpstream, type Challenge, type RecordingUpstream } from './conditions-fixture.ts';

const MAX_AGE = 3;

describe('step-up challenges at the gateway', { concurrency: true }, () => {
  for (const target of serverTargets()) {
    describe(`${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
      let server: TestServer;
      let upstream: RecordingUpstream;
      let url: string;
      let plain: TokenSet;
      let stepped: TokenSet;
      const clock = testClock();

      const signInFor = (scope: string) => signIn({ url: server.url, mcpUrl: url, email: server.user.email, password: server.password }, { scope });
      const call = (token: string, tool: string) => postMcp(url, toolCall(tool), { token, headers: { 'mcp-protocol-version': '2025-06-18' } });

      before(async () => {
        upstream = await startRecordingUpstream();
        server = await target.start({
          tokens: { accessTokenTtl: 600 },
          applications: [{ slug: 'bank', name: 'Bank', upstream: { url: upstream.url }, autoApprove: true, tools: { move_money: { stepUp: { maxAge: MAX_AGE } } } }],
        }, { clock });
        url = `${server.url}/mcp/bank`;
        plain = await signInFor('bank:read bank:write');
        // The gateway learns the upstream's tools in the background.
        const deadline = Date.now() + 10_000;
        while ((await call(plain.access_token, 'read_balance')).status !== 200 || upstream.toolCalls().length === 0) {
          if (Date.now() > deadline) throw new Error('the gateway never learnt the tools');
          await sleep(50);
        }
      });
      after(async () => {
        await server?.stop();
        await upstream?.stop();
      });

      it('a token without the step-up scope: 403 insufficient_scope naming it, plus RFC 9470 with max_age; the upstream never sees the call', async () => {
        const before = upstream.requests.length;
        const answer = await call(plain.access_token, 'move_money');
        assert.equal(answer.status, 403);
        assert.equal((answer.json as { error: string }).error, 'insufficient_scope');
        const challenges = parseChallenges(answer.headers.get('www-authenticate')!);
        assert.deepEqual(challenges.map((c) => c.scheme), ['Bearer', 'Bearer']);
        const [scope, user] = challenges as [Challenge, Challenge];
        assert.equal(scope.params.error, 'insufficient_scope');
        assert.equal(scope.params.scope, 'bank:read bank:write bank:step-up', 'every scope needed, the held ones included');
        assert.equal(scope.params.resource_metadata, `${server.url}/.well-known/oauth-protected-resource/mcp/bank`);
        assert.equal(user.params.error, 'insufficient_user_authentication');
        assert.equal(user.params.max_age, String(MAX_AGE));
        assert.equal(upstream.requests.length, before);
      });

      it('other tools keep working without a step-up', async () => {
        const answer = await call(plain.access_token, 'read_balance');
        assert.equal(answer.status, 200);
        assert.equal(upstream.toolCalls().at(-1), 'read_balance');
      });

      it('a token with the step-up scope from a recent sign-in goes through', async () => {
        stepped = await signInFor('bank:read bank:write bank:step-up');
        assert.equal(stepped.scope, 'bank:read bank:write bank:step-up');
        const answer = await call(stepped.access_token, 'move_money');
        assert.equal(answer.status, 200, answer.text);
        assert.equal(upstream.toolCalls().at(-1), 'move_money');
      });

      it('once the sign-in is older than the tool’s max age, a token holding the step-up scope gets 401 insufficient_user_authentication (RFC 9470 §3)', async () => {
        const authTime = decodeJwt(stepped.access_token).auth_time as number;
        clock.advance(Math.max(0, authTime + MAX_AGE + 1 - clock.now()));
        const before = upstream.requests.length;
        // The token itself is still within the guard's clock tolerance (its exp is the step-up's end):
        // the step-up rule refuses it by its auth_time. A 401 makes the SDKs refresh, which drops the scope.
        const answer = await call(stepped.access_token, 'move_money');
        assert.equal(answer.status, 401);
        assert.equal((answer.json as { error: string }).error, 'insufficient_user_authentication');
        const challenges = parseChallenges(answer.headers.get('www-authenticate')!);
        assert.equal(challenges.length, 1);
        assert.deepEqual({ ...challenges[0]!.params, error_description: undefined }, {
          error: 'insufficient_user_authentication',
          error_description: undefined,
          max_age: String(MAX_AGE),
          scope: 'bank:read bank:write bank:step-up',
          resource_metadata: `${server.url}/.well-known/oauth-protected-resource/mcp/bank`,
        });
        assert.equal(upstream.requests.length, before);
        // Tools that need no step-up still work with it.
        assert.equal((await call(stepped.access_token, 'read_balance')).status, 200);
      });

      it('parseChallenges reads quoted commas and escapes, and refuses junk', () => {
        assert.deepEqual(parseChallenges('Bearer a="x, y", b="q\\"r", DPoP algs="ES256"'), [
          { scheme: 'Bearer', params: { a: 'x, y', b: 'q"r' } },
          { scheme: 'DPoP', params: { algs: 'ES256' } },
        ]);
        assert.throws(() => parseChallenges('Bearer a="unterminated'));
      });
    });
  }
});
