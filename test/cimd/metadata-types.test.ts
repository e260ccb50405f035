/**
 * A Client ID Metadata Document is JSON anyone can publish: fields of the wrong JSON type are
 * refused with an OAuth error page (4xx), never a 5xx, exactly as at dynamic registration — and a
 * corrected document works on the next try (a refusal is not remembered).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHttpsFixture, type HttpsFixture } from '../helpers/https-fixture.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { approve, assertRefused, authorizationRequest } from './flow.ts';

describe('Client ID Metadata Documents: metadata of the wrong JSON type', () => {
  let server: TestServer;
  let docs: HttpsFixture;

  before(async () => {
    [server, docs] = await Promise.all([startTestServer({ cimd: { allowPrivateAddresses: true } }), startHttpsFixture()]);
  });
  after(async () => {
    await docs?.close();
    await server?.stop();
  });

  /** [path, label, the wrong fields (given the document's redirect URI), expected error]. */
  const cases: [string, string, (redirectUri: string) => Record<string, unknown>, string][] = [
    ['redirect-number', 'redirect_uris: 5', () => ({ redirect_uris: 5 }), 'invalid_redirect_uri'],
    ['redirect-string', 'redirect_uris: "<uri>"', (uri) => ({ redirect_uris: uri }), 'invalid_redirect_uri'],
    ['redirect-nested', 'redirect_uris: [["<uri>"]]', (uri) => ({ redirect_uris: [[uri]] }), 'invalid_redirect_uri'],
    ['grants-object', 'grant_types: {}', () => ({ grant_types: {} }), 'invalid_client_metadata'],
    ['software-id-object', 'software_id: {"id": 1}', () => ({ software_id: { id: 1 } }), 'invalid_client_metadata'],
    ['name-array', 'client_name: ["Test client"]', () => ({ client_name: ['Test client'] }), 'invalid_client_metadata'],
  ];

  for (const [name, label, wrong, code] of cases) {
    it(`${label} is refused with ${code}; the corrected document works`, async () => {
      const path = `/${name}.json`;
      const clientId = docs.url(path);
      const redirectUri = docs.url(`/${name}/callback`);
      const document = { client_id: clientId, client_name: 'Test client', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' };
      docs.route(path, { ...document, ...wrong(redirectUri) });
      await assertRefused(authorizationRequest(server, clientId, redirectUri), [code]);

      docs.route(path, document);
      const { code: authorizationCode } = await approve(server, authorizationRequest(server, clientId, redirectUri));
      assert.ok(authorizationCode);
    });
  }
});
