/**
 * Fetching a Client ID Metadata Document is a request the server makes on an attacker's say-so.
 * Each guard here must refuse with an OAuth error page (4xx, an error code such as invalid_client),
 * never a 5xx, never a redirect to the client — and must not remember a failure, so a fixed
 * document works on the next try. Documents are served over https from loopback by the test.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { hang, json, startHttpsFixture, type HttpsFixture } from '../helpers/https-fixture.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { approve, assertRefused, authorizationRequest, codeGrant, openAuthorization, tokenRequest } from './flow.ts';

/** invalid_client for fetch failures, invalid_client_metadata for documents the engine rejects. */
const CLIENT_ERRORS = ['invalid_client', 'invalid_client_metadata'];

/** A valid public-client document for `clientId`, redirecting to `redirectUri`. */
function document(clientId: string, redirectUri: string, extra: Record<string, unknown> = {}) {
  return { client_id: clientId, client_name: 'Test client', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', ...extra };
}

describe('Client ID Metadata Documents: SSRF and validation guards', () => {
  let server: TestServer; // cimd.allowPrivateAddresses on (development), to reach the test's documents
  let strict: TestServer; // the default: private and loopback addresses refused
  let docs: HttpsFixture;
  let plain: HttpsFixture;

  before(async () => {
    [server, strict, docs, plain] = await Promise.all([
      startTestServer({ cimd: { allowPrivateAddresses: true } }),
      startTestServer(),
      startHttpsFixture(),
      startHttpsFixture({ plain: true }),
    ]);
  });
  after(async () => {
    await Promise.all([docs?.close(), plain?.close()]);
    await Promise.all([server?.stop(), strict?.stop()]);
  });

  /** Serve a valid document at `path`; returns the client id and redirect URI. */
  function serve(fixture: HttpsFixture, path: string, extra: Record<string, unknown> = {}) {
    const clientId = fixture.url(path);
    const redirectUri = docs.url(`${path}/callback`);
    fixture.route(path, document(clientId, redirectUri, extra));
    return { clientId, redirectUri };
  }

  async function works(target: TestServer, clientId: string, redirectUri: string): Promise<void> {
    const pending = authorizationRequest(target, clientId, redirectUri);
    const { code } = await approve(target, pending);
    const tokens = await tokenRequest(target, { ...codeGrant(target, pending, code), client_id: clientId });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  }

  it('a document on a loopback address is refused while allowPrivateAddresses is off, and never fetched', async () => {
    for (const host of ['127.0.0.1', 'localhost'] as const) {
      const path = `/private-${host}.json`;
      const clientId = `https://${host}:${docs.port}${path}`;
      const redirectUri = `https://${host}:${docs.port}/callback`;
      docs.route(path, document(clientId, redirectUri));
      await assertRefused(authorizationRequest(strict, clientId, redirectUri), ['invalid_client']);
      assert.equal(docs.hits(path), 0, `the document at ${host} was requested`);
      // The same document is fine where private addresses are allowed: the address was the reason.
      await works(server, clientId, redirectUri);
    }
  });

  it('discovery still advertises metadata documents with the default (strict) configuration', async () => {
    const metadata = (await (await fetch(`${strict.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata.client_id_metadata_document_supported, true);
  });

  it('an http (not https) client_id is refused and never fetched', async () => {
    const path = '/plain.json';
    const clientId = plain.url(path);
    plain.route(path, document(clientId, docs.url('/plain/callback')));
    await assertRefused(authorizationRequest(server, clientId, docs.url('/plain/callback')), ['invalid_client']);
    assert.equal(plain.hits(path), 0);
  });

  it('a client_id carrying credentials or a fragment is refused and never fetched', async () => {
    const path = '/userinfo.json';
    docs.route(path, document(docs.url(path), docs.url('/userinfo/callback')));
    for (const clientId of [`https://user:pass@127.0.0.1:${docs.port}${path}`, `https://user@127.0.0.1:${docs.port}${path}`, `${docs.url(path)}#frag`]) {
      await assertRefused(authorizationRequest(server, clientId, docs.url('/userinfo/callback')), ['invalid_client']);
    }
    assert.equal(docs.hits(path), 0);
  });

  it('a redirect (3xx) from the document URL is not followed', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const path = `/moved-${status}.json`;
      const target = `/moved-${status}-target.json`;
      const clientId = docs.url(path);
      const redirectUri = docs.url('/moved/callback');
      // The target even claims the original client_id: only following the redirect would accept it.
      docs.route(target, document(clientId, redirectUri));
      docs.route(path, (_req, res) => void res.writeHead(status, { location: docs.url(target) }).end());
      await assertRefused(authorizationRequest(server, clientId, redirectUri), ['invalid_client']);
      assert.equal(docs.hits(target), 0, `the ${status} redirect was followed`);
    }
  });

  it('a document over 5 KB is refused, with or without a declared length; one just under is fine', async () => {
    const pad = (bytes: number) => 'x'.repeat(bytes);
    const declared = serve(docs, '/big-declared.json', { padding: pad(6 * 1024) });
    await assertRefused(authorizationRequest(server, declared.clientId, declared.redirectUri), ['invalid_client']);

    const chunkedId = docs.url('/big-chunked.json');
    const chunkedRedirect = docs.url('/big-chunked/callback');
    docs.route('/big-chunked.json', (_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // no content-length: chunked
      const body = JSON.stringify(document(chunkedId, chunkedRedirect, { padding: pad(20 * 1024) }));
      for (let i = 0; i < body.length; i += 1024) res.write(body.slice(i, i + 1024));
      res.end();
    });
    await assertRefused(authorizationRequest(server, chunkedId, chunkedRedirect), ['invalid_client']);

    const small = serve(docs, '/just-under.json', { padding: pad(4 * 1024) });
    await works(server, small.clientId, small.redirectUri);
  });

  it('a document whose client_id differs from its URL is refused', async () => {
    const path = '/mismatch.json';
    const url = docs.url(path);
    const redirectUri = docs.url('/mismatch/callback');
    for (const claimed of [docs.url('/someone-else.json'), `${url}/`, `${url}?x=1`, url.replace('127.0.0.1', 'localhost'), 'portcullis-cli']) {
      docs.route(path, document(claimed, redirectUri));
      await assertRefused(authorizationRequest(server, url, redirectUri), CLIENT_ERRORS);
    }
  });

  it('a document whose redirect_uris do not include the requested one is refused, and nothing is sent there', async () => {
    const { clientId, redirectUri } = serve(docs, '/redirects.json');
    for (const requested of ['https://evil.example/callback', `${redirectUri}/extra`, `${redirectUri}?next=https://evil.example`, redirectUri.replace('https:', 'http:')]) {
      const refusal = await assertRefused(authorizationRequest(server, clientId, requested), ['invalid_redirect_uri']);
      assert.equal(refusal.location, null);
    }
  });

  it('documents that try to hold a shared secret, or are not a JSON object, are refused', async () => {
    const cases: [string, unknown][] = [
      ['/secret-method.json', { token_endpoint_auth_method: 'client_secret_basic' }],
      ['/secret-value.json', { client_secret: 'hunter2' }],
      ['/http-logo.json', { logo_uri: 'http://example.com/logo.png' }],
      ['/http-jwks.json', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://127.0.0.1:1/jwks.json' }],
    ];
    for (const [path, extra] of cases) {
      const clientId = docs.url(path);
      docs.route(path, document(clientId, docs.url('/x/callback'), extra as Record<string, unknown>));
      await assertRefused(authorizationRequest(server, clientId, docs.url('/x/callback')), CLIENT_ERRORS);
    }
    docs.route('/array.json', json([docs.url('/array.json')]));
    await assertRefused(authorizationRequest(server, docs.url('/array.json'), docs.url('/x/callback')), CLIENT_ERRORS);
    docs.route('/not-json.json', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id":'));
    await assertRefused(authorizationRequest(server, docs.url('/not-json.json'), docs.url('/x/callback')), CLIENT_ERRORS);
  });

  it('a server that never answers times out, and the next request still works', async () => {
    const path = '/hangs.json';
    const clientId = docs.url(path);
    const redirectUri = docs.url('/hangs/callback');
    docs.route(path, hang);
    // One that sends its headers and then stalls in the middle of the body.
    const stallId = docs.url('/stalls.json');
    docs.route('/stalls.json', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"client_id":');
    });
    const started = Date.now();
    await Promise.all([
      assertRefused(authorizationRequest(server, clientId, redirectUri), ['invalid_client']),
      assertRefused(authorizationRequest(server, stallId, redirectUri), ['invalid_client']),
    ]);
    const took = Date.now() - started;
    // The engine gives up after 2.5 s, once: a refused request does not fetch a second time.
    assert.ok(took < 4500, `the fetch gave up only after ${took} ms`);
    assert.equal(docs.hits(path), 1);
    assert.equal(docs.hits('/stalls.json'), 1);

    // The server is not stuck: another client works, and so does this one once its server answers.
    const other = serve(docs, '/after-timeout.json');
    await works(server, other.clientId, other.redirectUri);
    docs.route(path, document(clientId, redirectUri));
    await works(server, clientId, redirectUri);
  });

  it('errors are not cached: fix the document, retry, it works', async () => {
    const path = '/flaky.json';
    const clientId = docs.url(path);
    const redirectUri = docs.url('/flaky/callback');
    const fixes: [string, (typeof docs.route extends (p: string, h: infer H) => void ? H : never)][] = [
      ['server error', (_req, res) => void res.writeHead(500).end()],
      ['not found', (_req, res) => void res.writeHead(404).end()],
      ['wrong client_id', document(docs.url('/elsewhere.json'), redirectUri)],
      ['not JSON', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>')],
    ];
    for (const [name, broken] of fixes) {
      docs.route(path, broken);
      const hits = docs.hits(path);
      const refusal = await openAuthorization(authorizationRequest(server, clientId, redirectUri));
      assert.ok(refusal.status >= 400 && refusal.status < 500, `${name}: got ${refusal.status}`);
      assert.equal(docs.hits(path), hits + 1, `${name}: fetched once per request, failure not remembered`);
    }
    const before = docs.hits(path);
    docs.route(path, document(clientId, redirectUri));
    await works(server, clientId, redirectUri);
    assert.ok(docs.hits(path) > before, 'the fixed document was fetched again');
  });

  it('a metadata-document client_id is not fetched at all when metadata documents are not allowed', async () => {
    const closed = await startTestServer({ clientKinds: ['pre-registered', 'dynamic'], cimd: { allowPrivateAddresses: true } });
    try {
      const metadata = (await (await fetch(`${closed.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.notEqual(metadata.client_id_metadata_document_supported, true);
      const { clientId, redirectUri } = serve(docs, '/not-allowed.json');
      await assertRefused(authorizationRequest(closed, clientId, redirectUri), ['invalid_client']);
      assert.equal(docs.hits('/not-allowed.json'), 0);
    } finally {
      await closed.stop();
    }
  });
});
