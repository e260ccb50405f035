/**
 * Real MCP SDK clients connecting to the demo MCP server through Portcullis — one suite over a
 * table of clients, once per registration kind (pre-registered, dynamic registration, Client ID
 * Metadata Document) and per store: discovery → registration → sign-in and consent → tools →
 * refresh on 401 (three racing refreshes included) → step-up for a tool beyond the token's
 * scope → revocation → back to the browser. What each SDK does differently is in its row:
 *
 * - v1 (`@modelcontextprotocol/sdk` 1.x, 2025-era `initialize`). On 403 insufficient_scope
 *   (observed, SDK 1.32) it takes the challenge's scope, runs `auth()`, which REFRESHES the token (a
 *   refresh cannot widen a grant, RFC 6749 §6), retries once, gets the same 403 and throws
 *   StreamableHTTPError 403 — it never opens the browser by itself: the application steps up by
 *   discarding the tokens and running `auth()` with the challenged scope.
 * - v2 (`@modelcontextprotocol/client` 2.x, protocol 2026-07-28, SDK 2.4). Its first request is an
 *   unauthenticated `server/discover` probe, which must get 401 like any other method; it requires
 *   the AS metadata `issuer` to equal the PRM's `authorization_servers[0]` and the callback's `iss`
 *   (RFC 9207) to equal that issuer; it adds `offline_access` (and `prompt=consent`) when the AS
 *   lists that scope and its metadata lists refresh_token; it refreshes only on 401. On 403
 *   insufficient_scope it re-authorizes BY ITSELF (no refresh) with the union of what it asked for,
 *   what it holds and what the challenge names, and the call rejects with UnauthorizedError.
 *
 * Also: a client that names no token_endpoint_auth_method registers as confidential and signs in
 * with its secret; its consent is remembered, so its step-up asks only for the new scope. And a
 * user who says no.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OAuthError as V2OAuthError, UnauthorizedError as V2Unauthorized } from '@modelcontextprotocol/client';
import { UnauthorizedError as V1Unauthorized } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { OAuthError as V1OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { decodeJwt } from 'jose';
import { serverTargets } from '../helpers/authz.ts';
import {
  assertNoServerErrors,
  challengeParams,
  METADATA_DOCUMENT_PATH,
  minimalClientMetadata,
  passExpiry,
  REGISTRATIONS,
  requestedScope,
  startClientStory,
  wire,
  type ClientStory,
  type Exchange,
  type McpTestClient,
  type Sdk,
} from '../helpers/mcp-clients.ts';
import type { TestServer } from '../helpers/server.ts';
import { checkboxValues } from '../helpers/user-agent.ts';

const DEFAULT_SCOPE = 'demo:read demo:write';
const STEP_UP_SCOPE = 'demo:read demo:write demo:delete';
const DEFAULT_TOOLS = ['list_projects', 'list_notes', 'read_note', 'create_project', 'write_note'];

/** One row per SDK generation: what differs in how it connects and steps up. */
interface SdkRow {
  sdk: Sdk;
  title: string;
  /** The first request it makes, unauthenticated. */
  probe: 'initialize' | 'server/discover';
  /** What it asks for when it authorizes for `scope` (a client whose metadata lists refresh_token). */
  asks(scope: string): string;
  /** It sends prompt=consent (v2, because of offline_access). */
  promptsConsent: boolean;
  /** What a call rejects with when the client was sent to the browser. */
  sentToBrowser: (err: unknown) => boolean;
  /** What authorizing rejects with when the user denies. */
  denied: (err: unknown) => boolean;
  /** What a call beyond the token's scope rejects with. */
  beyondScope: (err: unknown) => boolean;
  /** The exchanges of such a call: v1 refreshes in vain and retries; v2 goes to the browser at once. */
  beyondScopeWire: string[];
  /**
   * Ask the user for `scope` after a 403 insufficient_scope for it: v1 needs the application to
   * re-authorize; v2 has already sent the user to the browser by itself.
   */
  stepUp(client: McpTestClient, scope: string): Promise<void>;
}

const isStatus = (status: number) => (err: unknown) => err instanceof StreamableHTTPError && err.code === status;

const SDKS: SdkRow[] = [
  {
    sdk: 'v1',
    title: 'MCP SDK v1 client',
    probe: 'initialize',
    asks: (scope) => scope,
    promptsConsent: false,
    sentToBrowser: (err) => err instanceof V1Unauthorized,
    denied: (err) => err instanceof V1OAuthError && err.errorCode === 'access_denied',
    beyondScope: isStatus(403),
    beyondScopeWire: ['POST /mcp tools/call 403', 'POST /oauth/token refresh_token 200', 'POST /mcp tools/call 403'],
    async stepUp(client, scope) {
      assert.equal(client.provider.pendingAuthorization, undefined, 'v1 does not open the browser on 403');
      assert.equal(await client.requestScope(scope), 'REDIRECT');
    },
  },
  {
    sdk: 'v2',
    title: 'MCP SDK v2 client (2026-07-28)',
    probe: 'server/discover',
    asks: (scope) => `${scope} offline_access`,
    promptsConsent: true,
    sentToBrowser: (err) => err instanceof V2Unauthorized,
    denied: (err) => err instanceof V2OAuthError && err.code === 'access_denied',
    beyondScope: (err) => err instanceof V2Unauthorized,
    beyondScopeWire: ['POST /mcp tools/call 403'],
    async stepUp() {
      // Already on its way to the browser (see beyondScope).
    },
  },
];

/** A 403 insufficient_scope answer naming every scope the call needs. */
function assertInsufficientScope(refused: Exchange, scope: string): void {
  assert.equal(refused.error, 'insufficient_scope');
  const challenge = challengeParams(refused.wwwAuthenticate);
  assert.equal(challenge.error, 'insufficient_scope');
  assert.equal(challenge.scope, scope);
}

for (const row of SDKS) {
  describe(row.title, { concurrency: true }, () => {
    for (const target of serverTargets()) {
      for (const registration of REGISTRATIONS) {
        describe(`${registration} client, ${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
          let story: ClientStory;
          let server: TestServer;
          let client: McpTestClient;
          let noteId: string;

          before(async () => {
            story = await startClientStory(target, row.sdk, registration);
            ({ server, client } = story);
          });
          after(() => story?.stop());

          it(`probes with ${row.probe}, gets 401, discovers the authorization server, registers, and opens the browser`, async () => {
            assert.equal(await client.connect(), 'redirected');
            const first = client.exchanges[0]!;
            assert.equal(first.rpc, row.probe);
            assert.equal(first.auth, undefined, 'no token yet');
            assert.equal(first.status, 401, 'the unauthenticated probe gets 401, not 4xx/5xx of another kind');
            const challenge = challengeParams(first.wwwAuthenticate);
            assert.equal(challenge.resource_metadata, `${server.url}/.well-known/oauth-protected-resource/mcp`);
            assert.equal(challenge.scope, DEFAULT_SCOPE);

            const expected = [`POST /mcp ${row.probe} 401`, 'GET /.well-known/oauth-protected-resource/mcp 200', 'GET /.well-known/oauth-authorization-server 200'];
            if (registration === 'dynamic') expected.push('POST /oauth/register 201');
            assert.deepEqual(wire(client.exchanges), expected);

            const clientId = client.provider.client?.client_id;
            if (registration === 'dynamic') assert.match(clientId ?? '', /^dyn_/);
            if (registration === 'metadata-document') {
              assert.equal(clientId, story.documentHost!.url(METADATA_DOCUMENT_PATH));
              // What makes clients choose a metadata document over registering (Claude also needs `none`).
              const metadata = client.provider.authorizationServerMetadata!;
              assert.equal(metadata.client_id_metadata_document_supported, true);
              assert.ok((metadata.token_endpoint_auth_methods_supported as string[]).includes('none'));
            }
            // v2 stamps what it stores with the issuer it validated against the PRM.
            if (row.sdk === 'v2') assert.equal(client.provider.client?.issuer, server.url);

            const authorization = client.provider.pendingAuthorization!;
            assert.equal(`${authorization.origin}${authorization.pathname}`, `${server.url}/oauth/authorize`);
            assert.equal(authorization.searchParams.get('client_id'), clientId);
            assert.equal(authorization.searchParams.get('response_type'), 'code');
            assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
            assert.equal(authorization.searchParams.get('resource'), server.mcpUrl);
            assert.equal(requestedScope(authorization), row.asks(DEFAULT_SCOPE));
            assert.equal(authorization.searchParams.get('prompt'), row.promptsConsent ? 'consent' : null);
            assertNoServerErrors(client);
          });

          it('signs in and consents in the browser, passes the iss check, and connects with a token bound to the MCP server', async () => {
            const mark = client.mark();
            const { callback, pages } = await client.authorize();
            assert.ok(pages.some((page) => page.body.includes('/consent"')), 'the user saw the consent page');
            assert.equal(callback.searchParams.get('iss'), server.url);
            assert.deepEqual(wire(client.since(mark)).slice(0, 2), ['POST /oauth/token authorization_code 200', `POST /mcp ${row.probe} 200`]);
            const tokens = client.provider.currentTokens!;
            assert.equal(tokens.token_type.toLowerCase(), 'bearer');
            assert.equal(tokens.scope, DEFAULT_SCOPE, 'the token response names its scope (step-up depends on it)');
            assert.ok(tokens.refresh_token, 'the client gets a refresh token');
            const claims = decodeJwt(tokens.access_token);
            assert.equal(claims.aud, server.mcpUrl);
            assert.equal(claims.sub, server.user.id);
            assert.equal(claims.client_id, client.provider.client!.client_id);
            if (story.documentHost) assert.ok(story.documentHost.hits(METADATA_DOCUMENT_PATH) >= 1, 'the server fetched the metadata document');
          });

          it('lists the read and write tools, and not delete_note', async () => {
            assert.deepEqual(await client.toolNames(), DEFAULT_TOOLS);
          });

          it('writes a note and reads it back', async () => {
            const project = (await client.call('create_project', { name: `${row.sdk} ${registration}` })).structuredContent.project;
            const written = await client.call('write_note', { projectId: project.id, title: 'Plan', body: 'Ship the gateway.' });
            assert.equal(written.isError, undefined);
            noteId = written.structuredContent.note.id;
            const read = await client.call('read_note', { noteId });
            assert.equal(read.structuredContent.note.body, 'Ship the gateway.');
            assert.equal(read.structuredContent.note.projectId, project.id);
          });

          it('parallel calls after the token expired each refresh with the same refresh token, and all go through (refresh grace)', async () => {
            const before = client.provider.currentTokens!;
            passExpiry(story.clock, before.access_token);
            const mark = client.mark();
            // The three refreshes race for real: none is sent before all three are on their way.
            client.holdRefreshesUntil(3);
            const results = await Promise.all([client.toolNames(), client.call('read_note', { noteId }), client.call('list_projects')]);
            assert.deepEqual(results[0], DEFAULT_TOOLS);
            assert.equal(results[1].structuredContent.note.id, noteId);
            assert.equal(results[2].isError, undefined);
            const seen = client.since(mark);
            // Each request got 401 and refreshed on its own: the racers must get tokens, not invalid_grant.
            assert.deepEqual(
              wire(seen).sort(),
              [
                ...['POST /mcp tools/list 401', 'POST /mcp tools/call 401', 'POST /mcp tools/call 401'],
                ...Array(3).fill('POST /oauth/token refresh_token 200'),
                ...['POST /mcp tools/list 200', 'POST /mcp tools/call 200', 'POST /mcp tools/call 200'],
              ].sort(),
            );
            const presented = seen.filter((e) => e.grantType === 'refresh_token').map((e) => e.refreshToken);
            assert.deepEqual(presented, Array(3).fill(before.refresh_token), 'all three refreshes raced with the same refresh token');
            assert.equal(client.provider.pendingAuthorization, undefined, 'nobody was sent back to the browser');
          });

          it('refreshes on 401 once the access token has expired again, with the refresh token it kept from the race', async () => {
            const before = client.provider.currentTokens!;
            passExpiry(story.clock, before.access_token);
            const mark = client.mark();
            const read = await client.call('read_note', { noteId });
            assert.equal(read.structuredContent.note.id, noteId);
            assert.deepEqual(wire(client.since(mark)), ['POST /mcp tools/call 401', 'POST /oauth/token refresh_token 200', 'POST /mcp tools/call 200']);
            assert.equal(challengeParams(client.since(mark)[0]!.wwwAuthenticate).error, 'invalid_token');
            const after = client.provider.currentTokens!;
            assert.notEqual(after.access_token, before.access_token);
            assert.notEqual(after.refresh_token, before.refresh_token, 'refresh tokens rotate');
            assert.equal(after.scope, DEFAULT_SCOPE);
          });

          it('is refused delete_note with 403 insufficient_scope naming every scope needed, and is led to ask for them', async () => {
            const held = client.provider.currentTokens!;
            const mark = client.mark();
            await assert.rejects(client.call('delete_note', { noteId }), row.beyondScope);
            const seen = client.since(mark);
            assert.deepEqual(wire(seen), row.beyondScopeWire, 'a refresh cannot widen the grant');
            for (const refused of seen.filter((e) => e.status === 403)) assertInsufficientScope(refused, STEP_UP_SCOPE);
            if (row.sdk === 'v2') assert.equal(client.provider.currentTokens, held, 'the tokens it holds are kept until the new ones arrive');
            await row.stepUp(client, STEP_UP_SCOPE);
            assert.equal(requestedScope(client.provider.pendingAuthorization), row.asks(STEP_UP_SCOPE));
            assertNoServerErrors(client);
          });

          it('after consenting to the larger scope, deletes the note', async () => {
            const { pages } = await client.authorize();
            assert.ok(!pages.some((page) => page.body.includes('/login"')), 'the browser is still signed in: consent only');
            assert.equal(client.provider.currentTokens!.scope, STEP_UP_SCOPE);
            assert.deepEqual(await client.toolNames(), [...DEFAULT_TOOLS, 'delete_note']);
            const deleted = await client.call('delete_note', { noteId });
            assert.equal(deleted.structuredContent.deleted, noteId);
            assert.equal((await client.call('read_note', { noteId })).isError, true, 'the note is gone');
          });

          it('after its refresh token is revoked, the next call is refused and the client is sent back to the browser', async () => {
            assert.equal(await client.revokeRefreshToken(), 200);
            assert.equal(client.exchanges.at(-1)!.url.href, `${server.url}/oauth/revoke`, 'at the endpoint the AS metadata names');
            const mark = client.mark();
            await assert.rejects(client.call('list_projects'), row.sentToBrowser);
            const seen = client.since(mark);
            assert.deepEqual(wire(seen), ['POST /mcp tools/call 401', 'POST /oauth/token refresh_token 400']);
            assert.equal(challengeParams(seen[0]!.wwwAuthenticate).error, 'invalid_token');
            assert.equal(seen[1]!.error, 'invalid_grant');
            assert.equal(client.provider.currentTokens, undefined, 'the client threw its tokens away');
            // Least privilege: the new authorization asks for the defaults again, not every scope the server has.
            assert.equal(requestedScope(client.provider.pendingAuthorization), row.asks(DEFAULT_SCOPE));
            assertNoServerErrors(client);
          });

          it('re-authorizes and works again', async () => {
            await client.authorize();
            assert.equal(client.provider.currentTokens!.scope, DEFAULT_SCOPE);
            assert.deepEqual(await client.toolNames(), DEFAULT_TOOLS);
            assertNoServerErrors(client);
          });
        });
      }
    }
  });

  describe(`${row.title} that registers without naming an auth method (confidential: client_secret_basic)`, { concurrency: true }, () => {
    for (const target of serverTargets()) {
      describe(`${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
        let story: ClientStory;
        let client: McpTestClient;

        before(async () => {
          story = await startClientStory(target, row.sdk, 'dynamic', { metadata: minimalClientMetadata });
          ({ client } = story);
        });
        after(() => story?.stop());

        it('gets a secret from registration (kept hashed at rest) and authenticates with it at the token endpoint', async () => {
          assert.equal(await client.connect(), 'redirected');
          const registered = client.provider.client!;
          assert.equal(registered.token_endpoint_auth_method, 'client_secret_basic');
          assert.ok(registered.client_secret, 'the registration response carries the secret once');
          const stored = await story.server.store.clients.find(registered.client_id);
          assert.notEqual(stored?.metadata.client_secret, registered.client_secret, 'the store keeps only a hash of it');

          // The user allows reading only.
          const mark = client.mark();
          await client.authorize({ untick: ['demo:write'] });
          const redeem = client.since(mark).find((e) => e.grantType === 'authorization_code')!;
          assert.equal(redeem.status, 200);
          assert.equal(redeem.auth, 'basic');
          assert.equal(client.provider.currentTokens!.scope, 'demo:read');
          assert.deepEqual(await client.toolNames(), ['list_projects', 'list_notes', 'read_note']);
        });

        it('a write it was refused once: the step-up asks the user again, for demo:write only (demo:read is remembered)', async () => {
          await assert.rejects(client.call('create_project', { name: 'Refused' }), row.beyondScope);
          await row.stepUp(client, DEFAULT_SCOPE);
          // No offline_access from v2 here: it adds it only when the client's own metadata lists refresh_token.
          assert.equal(requestedScope(client.provider.pendingAuthorization), DEFAULT_SCOPE);
          const { pages } = await client.authorize();
          const consent = pages.find((page) => page.body.includes('/consent"'));
          assert.ok(consent, 'the user is asked again, not silently given the same token');
          assert.deepEqual(checkboxValues(consent.body, 'grant'), ['0|demo:write']);
          assert.equal(client.provider.currentTokens!.scope, DEFAULT_SCOPE);
          const created = await client.call('create_project', { name: 'Allowed now' });
          assert.equal(created.structuredContent.project.name, 'Allowed now');
        });

        it('steps up with consent for demo:delete only: its earlier consent is remembered, since its identity is proven', async () => {
          const mark = client.mark();
          await assert.rejects(client.call('delete_note', { noteId: 'note_missing' }), row.beyondScope);
          // v1's refresh in vain authenticates with the secret too.
          for (const refresh of client.since(mark).filter((e) => e.grantType === 'refresh_token')) assert.deepEqual([refresh.status, refresh.auth], [200, 'basic']);
          await row.stepUp(client, STEP_UP_SCOPE);
          const { pages } = await client.authorize();
          const consent = pages.find((page) => page.body.includes('/consent"'));
          assert.ok(consent, 'the user is asked');
          assert.deepEqual(checkboxValues(consent.body, 'grant'), ['0|demo:delete']);
          assert.equal(client.provider.currentTokens!.scope, STEP_UP_SCOPE);
          const missing = await client.call('delete_note', { noteId: 'note_missing' });
          assert.equal(missing.isError, true, 'the call reaches the tool, which reports the note as not found');
          assertNoServerErrors(client);
        });

        it('disconnecting revokes with its secret; the next call goes back to the browser, where consent is asked afresh', async () => {
          assert.equal(await client.revokeRefreshToken(), 200);
          assert.equal(client.exchanges.at(-1)!.auth, 'basic');
          const mark = client.mark();
          await assert.rejects(client.call('list_projects'), row.sentToBrowser);
          const seen = client.since(mark);
          assert.deepEqual(wire(seen), ['POST /mcp tools/call 401', 'POST /oauth/token refresh_token 400']);
          assert.equal(seen[1]!.error, 'invalid_grant');
          const { pages } = await client.authorize();
          const consent = pages.find((page) => page.body.includes('/consent"'));
          assert.ok(consent, 'a revoked grant is not remembered');
          assert.deepEqual(checkboxValues(consent.body, 'grant'), ['0|demo:read', '0|demo:write']);
          assert.deepEqual(await client.toolNames(), DEFAULT_TOOLS);
          assertNoServerErrors(client);
        });
      });
    }
  });

  describe(`${row.title} whose user says no`, { concurrency: true }, () => {
    for (const target of serverTargets()) {
      describe(`${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
        let story: ClientStory;
        let client: McpTestClient;

        before(async () => {
          story = await startClientStory(target, row.sdk, 'dynamic');
          ({ client } = story);
        });
        after(() => story?.stop());

        it('denies at the consent screen: the callback carries access_denied (and, for v2, the right iss) and nothing is redeemed', async () => {
          assert.equal(await client.connect(), 'redirected');
          const mark = client.mark();
          // v2 checks iss on the error callback too: an IssuerMismatchError here would mean it lacked the right one (RFC 9207 §2).
          await assert.rejects(client.authorize({ decision: 'deny' }), row.denied);
          assert.deepEqual(wire(client.since(mark)), []);
          assert.equal(client.provider.currentTokens, undefined);
        });

        it('tries again and allows reading only: the read tools only, and a write is refused with the scopes it needs', async () => {
          assert.equal(await client.connect(), 'redirected');
          await client.authorize({ untick: ['demo:write'] });
          assert.equal(client.provider.currentTokens!.scope, 'demo:read');
          assert.deepEqual(await client.toolNames(), ['list_projects', 'list_notes', 'read_note']);
          const mark = client.mark();
          await assert.rejects(client.call('create_project', { name: 'x' }), row.beyondScope);
          assertInsufficientScope(client.since(mark)[0]!, DEFAULT_SCOPE);
          await row.stepUp(client, DEFAULT_SCOPE);
          assert.equal(requestedScope(client.provider.pendingAuthorization), row.asks(DEFAULT_SCOPE));
          await client.authorize();
          const created = await client.call('create_project', { name: 'Allowed now' });
          assert.equal(created.structuredContent.project.name, 'Allowed now');
          assertNoServerErrors(client);
        });
      });
    }
  });
}
