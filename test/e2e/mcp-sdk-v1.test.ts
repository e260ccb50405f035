/**
 * The MCP SDK v1 client (`@modelcontextprotocol/sdk` 1.x, 2025-era `initialize`) connecting to
 * the demo MCP server through Portcullis, once per registration kind (pre-registered, dynamic
 * registration, Client ID Metadata Document) and per store: discovery → registration → sign-in
 * and consent → tools → refresh on 401 → step-up for a tool beyond the token's scope →
 * revocation → the client is sent back to the browser.
 *
 * What v1 does with 403 insufficient_scope (observed, SDK 1.32): it takes the challenge's scope,
 * runs `auth()`, which REFRESHES the token (a refresh cannot widen a grant, RFC 6749 §6), retries
 * once, gets the same 403 and throws StreamableHTTPError 403 — it never opens the browser by itself.
 * The application steps up by discarding the tokens and running `auth()` with the challenged scope.
 *
 * Also: a client that names no token_endpoint_auth_method registers as confidential and signs in
 * with its secret; its consent is remembered, so its step-up asks only for the new scope.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { OAuthError as V1OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { decodeJwt } from 'jose';
import { serverTargets } from '../helpers/authz.ts';
import {
  assertNoServerErrors,
  challengeParams,
  METADATA_DOCUMENT_PATH,
  minimalClientMetadata,
  REGISTRATIONS,
  requestedScope,
  startClientStory,
  passExpiry,
  wire,
  type ClientStory,
  type McpTestClient,
} from '../helpers/mcp-clients.ts';
import type { TestServer } from '../helpers/server.ts';
import { checkboxValues } from '../helpers/user-agent.ts';

const DEFAULT_SCOPE = 'demo:read demo:write';
const STEP_UP_SCOPE = 'demo:read demo:write demo:delete';
const DEFAULT_TOOLS = ['list_projects', 'list_notes', 'read_note', 'create_project', 'write_note'];

describe('MCP SDK v1 client', { concurrency: true }, () => {
  for (const target of serverTargets()) {
    for (const registration of REGISTRATIONS) {
      describe(`${registration} client, ${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
        let story: ClientStory;
        let server: TestServer;
        let client: McpTestClient;
        let noteId: string;

        before(async () => {
          story = await startClientStory(target, 'v1', registration);
          ({ server, client } = story);
        });
        after(() => story?.stop());

        it('gets 401 with the resource metadata, discovers the authorization server, registers, and opens the browser', async () => {
          assert.equal(await client.connect(), 'redirected');
          const first = client.exchanges[0]!;
          assert.equal(first.rpc, 'initialize');
          assert.equal(first.auth, undefined, 'no token yet');
          assert.equal(first.status, 401);
          const challenge = challengeParams(first.wwwAuthenticate);
          assert.equal(challenge.resource_metadata, `${server.url}/.well-known/oauth-protected-resource/mcp`);
          assert.equal(challenge.scope, DEFAULT_SCOPE);

          const expected = [
            'POST /mcp initialize 401',
            'GET /.well-known/oauth-protected-resource/mcp 200',
            'GET /.well-known/oauth-authorization-server 200',
          ];
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

          const authorization = client.provider.pendingAuthorization!;
          assert.equal(`${authorization.origin}${authorization.pathname}`, `${server.url}/oauth/authorize`);
          assert.equal(authorization.searchParams.get('client_id'), clientId);
          assert.equal(authorization.searchParams.get('response_type'), 'code');
          assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
          assert.equal(authorization.searchParams.get('resource'), server.mcpUrl);
          assert.equal(requestedScope(authorization), DEFAULT_SCOPE);
          assertNoServerErrors(client);
        });

        it('signs in and consents in the browser, then connects with a token bound to the MCP server', async () => {
          const { callback, pages } = await client.authorize();
          assert.ok(pages.some((page) => page.body.includes('/consent"')), 'the user saw the consent page');
          assert.equal(callback.searchParams.get('iss'), server.url);
          const tokens = client.provider.currentTokens!;
          assert.equal(tokens.token_type.toLowerCase(), 'bearer');
          assert.equal(tokens.scope, DEFAULT_SCOPE);
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
          const project = (await client.call('create_project', { name: `v1 ${registration}` })).structuredContent.project;
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
          assert.deepEqual(wire(client.since(mark)), [
            'POST /mcp tools/call 401',
            'POST /oauth/token refresh_token 200',
            'POST /mcp tools/call 200',
          ]);
          assert.equal(challengeParams(client.since(mark)[0]!.wwwAuthenticate).error, 'invalid_token');
          const after = client.provider.currentTokens!;
          assert.notEqual(after.access_token, before.access_token);
          assert.notEqual(after.refresh_token, before.refresh_token, 'refresh tokens rotate');
          assert.equal(after.scope, DEFAULT_SCOPE);
        });

        it('is refused delete_note with 403 insufficient_scope naming every scope needed; v1 refreshes in vain and throws 403', async () => {
          const mark = client.mark();
          await assert.rejects(client.call('delete_note', { noteId }), (err: unknown) => err instanceof StreamableHTTPError && err.code === 403);
          const seen = client.since(mark);
          assert.deepEqual(wire(seen), ['POST /mcp tools/call 403', 'POST /oauth/token refresh_token 200', 'POST /mcp tools/call 403']);
          for (const refused of [seen[0]!, seen[2]!]) {
            assert.equal(refused.error, 'insufficient_scope');
            const challenge = challengeParams(refused.wwwAuthenticate);
            assert.equal(challenge.error, 'insufficient_scope');
            assert.equal(challenge.scope, STEP_UP_SCOPE);
          }
          assert.equal(client.provider.pendingAuthorization, undefined, 'v1 does not open the browser on 403');
          assertNoServerErrors(client);
        });

        it('steps up when the application re-authorizes with the challenged scope, and may then delete', async () => {
          assert.equal(await client.requestScope(STEP_UP_SCOPE), 'REDIRECT');
          assert.equal(requestedScope(client.provider.pendingAuthorization), STEP_UP_SCOPE);
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
          await assert.rejects(client.call('list_projects'), UnauthorizedError);
          const seen = client.since(mark);
          assert.deepEqual(wire(seen), ['POST /mcp tools/call 401', 'POST /oauth/token refresh_token 400']);
          assert.equal(challengeParams(seen[0]!.wwwAuthenticate).error, 'invalid_token');
          assert.equal(seen[1]!.error, 'invalid_grant');
          assert.equal(client.provider.currentTokens, undefined, 'the client threw its tokens away');
          // Least privilege: the new authorization asks for the defaults again, not every scope the server has.
          assert.equal(requestedScope(client.provider.pendingAuthorization), DEFAULT_SCOPE);
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

describe('MCP SDK v1 client that registers without naming an auth method (confidential: client_secret_basic)', { concurrency: true }, () => {
  for (const target of serverTargets()) {
    describe(`${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
      let story: ClientStory;
      let client: McpTestClient;

      before(async () => {
        story = await startClientStory(target, 'v1', 'dynamic', { metadata: minimalClientMetadata });
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
        await assert.rejects(client.call('create_project', { name: 'Refused' }), (err: unknown) => err instanceof StreamableHTTPError && err.code === 403);
        // v1 does not step up by itself (see the top of this file): the application asks again.
        assert.equal(await client.requestScope(DEFAULT_SCOPE), 'REDIRECT');
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
        await assert.rejects(client.call('delete_note', { noteId: 'note_missing' }), (err: unknown) => err instanceof StreamableHTTPError && err.code === 403);
        const refresh = client.since(mark).find((e) => e.grantType === 'refresh_token')!;
        assert.equal(refresh.status, 200);
        assert.equal(refresh.auth, 'basic');
        assert.equal(await client.requestScope(STEP_UP_SCOPE), 'REDIRECT');
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
        await assert.rejects(client.call('list_projects'), UnauthorizedError);
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

describe('MCP SDK v1 client whose user says no', { concurrency: true }, () => {
  for (const target of serverTargets()) {
    describe(`${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
      let story: ClientStory;
      let client: McpTestClient;

      before(async () => {
        story = await startClientStory(target, 'v1', 'dynamic');
        ({ client } = story);
      });
      after(() => story?.stop());

      it('denies at the consent screen: the callback carries access_denied and nothing is redeemed', async () => {
        assert.equal(await client.connect(), 'redirected');
        const mark = client.mark();
        await assert.rejects(client.authorize({ decision: 'deny' }), (err: unknown) => err instanceof V1OAuthError && err.errorCode === 'access_denied');
        assert.deepEqual(wire(client.since(mark)), []);
        assert.equal(client.provider.currentTokens, undefined);
      });

      it('tries again and allows reading only: the token and tools/list show only the read tools, and a write is refused 403', async () => {
        assert.equal(await client.connect(), 'redirected');
        await client.authorize({ untick: ['demo:write'] });
        assert.equal(client.provider.currentTokens!.scope, 'demo:read');
        assert.deepEqual(await client.toolNames(), ['list_projects', 'list_notes', 'read_note']);
        const mark = client.mark();
        await assert.rejects(client.call('create_project', { name: 'x' }), (err: unknown) => err instanceof StreamableHTTPError && err.code === 403);
        const refused = client.since(mark)[0]!;
        assert.equal(refused.error, 'insufficient_scope');
        assert.equal(challengeParams(refused.wwwAuthenticate).scope, DEFAULT_SCOPE);
        assertNoServerErrors(client);
      });
    });
  }
});
