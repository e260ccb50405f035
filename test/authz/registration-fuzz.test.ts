/**
 * Dynamic registration (RFC 7591) is open to anyone: metadata of the wrong JSON type must be
 * refused with a registration error (RFC 7591 §3.2.2), never answered with a 5xx, and nothing may
 * be stored for a refused request. The fuzz test puts arbitrary JSON in each metadata field of an
 * otherwise valid registration.
 *
 * Reproduce a failure with the seed it prints: PORTCULLIS_FUZZ_SEED=<seed> (and
 * PORTCULLIS_FUZZ_RUNS=<n> for a longer run).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { endpoint, registerRaw } from '../helpers/authz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const VALID = { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' };

/** RFC 7591 §3.2.2, plus invalid_request (RFC 6749 §5.2) for bodies that cannot be read at all. */
const REGISTRATION_ERRORS = new Set(['invalid_redirect_uri', 'invalid_client_metadata', 'invalid_software_statement', 'unapproved_software_statement', 'invalid_request']);

/** Every field RFC 7591 §2 and OpenID Connect Dynamic Client Registration 1.0 §2 define, and a few more. */
const FIELDS = [
  // RFC 7591 §2
  'redirect_uris',
  'token_endpoint_auth_method',
  'grant_types',
  'response_types',
  'client_name',
  'client_uri',
  'logo_uri',
  'scope',
  'contacts',
  'tos_uri',
  'policy_uri',
  'jwks_uri',
  'jwks',
  'software_id',
  'software_version',
  'software_statement',
  // OpenID Connect Dynamic Client Registration 1.0 §2
  'application_type',
  'sector_identifier_uri',
  'subject_type',
  'id_token_signed_response_alg',
  'id_token_encrypted_response_alg',
  'id_token_encrypted_response_enc',
  'userinfo_signed_response_alg',
  'userinfo_encrypted_response_alg',
  'userinfo_encrypted_response_enc',
  'request_object_signing_alg',
  'request_object_encryption_alg',
  'request_object_encryption_enc',
  'token_endpoint_auth_signing_alg',
  'default_max_age',
  'require_auth_time',
  'default_acr_values',
  'initiate_login_uri',
  'request_uris',
  // RP-Initiated Logout, RP Metadata Choices, the engine's response_modes
  'post_logout_redirect_uris',
  'response_modes',
  'token_endpoint_auth_methods_supported',
  'id_token_signing_alg_values_supported',
  // Issued by the server (RFC 7591 §3.2.1), not chosen by the client
  'client_id',
  'client_secret',
  'client_id_issued_at',
  'client_secret_expires_at',
  // Unknown to everyone, and names that are special in JavaScript
  'x_portcullis_unknown',
  '__proto__',
  'constructor',
  'toString',
];

const LONG = 'a'.repeat(50_000);
function deeplyNested(depth: number): unknown {
  let value: unknown = 'http://127.0.0.1/callback';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** Values chosen by hand for the ways our code and the engine's could trip over them. */
const NASTY: unknown[] = [
  0,
  -1,
  5,
  1.5,
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  true,
  false,
  null,
  '',
  ' ',
  '\u0000',
  'http://127.0.0.1/callback\u0000',
  'client_credentials',
  'http://127.0.0.1/callback',
  'none',
  LONG,
  `http://127.0.0.1/${LONG}`,
  'a'.repeat(60_000), // over the engine's 56 KB body limit
  {},
  { length: 1 },
  { length: 1e9 },
  { 0: 'http://127.0.0.1/callback', length: 1 },
  { keys: 5 },
  { keys: [5] },
  { keys: [{}] },
  { keys: [{ kty: 'oct', k: 'AAAA' }] },
  { keys: [{ kty: 'EC', crv: 'P-256', x: 5, y: null }] },
  JSON.parse('{"__proto__": {"grant_types": 5, "redirect_uris": 5}}') as unknown,
  [],
  [null],
  [1, 2, 3],
  [{}],
  [[]],
  [['http://127.0.0.1/callback']],
  ['client_credentials'],
  ['authorization_code', 'client_credentials'],
  ['http://127.0.0.1/callback', 5],
  ['\u0000'],
  [''],
  [LONG],
  Array.from({ length: 2_000 }, (_, i) => `http://127.0.0.1/${i}`),
  deeplyNested(2_000),
];

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${raw}`);
  return value;
}

describe('dynamic registration: metadata of the wrong JSON type', () => {
  let server: TestServer;
  const clientCount = async () => (await server.store.clients.list()).length;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  /** Each [field, value] in an otherwise valid registration: 400 with `code`, and no client stored. */
  async function assertRefused(cases: [string, unknown][], code: string): Promise<void> {
    const countBefore = await clientCount();
    for (const [field, value] of cases) {
      const res = await registerRaw(server, { ...VALID, [field]: value });
      const seen = `${field}: ${JSON.stringify(value)} → HTTP ${res.status} ${JSON.stringify(res.body)}`;
      assert.equal(res.status, 400, seen);
      assert.equal(res.body.error, code, seen);
    }
    assert.equal(await clientCount(), countBefore, 'a refused registration stored a client');
  }

  it('redirect_uris that is not an array of strings: 400 invalid_redirect_uri (RFC 7591 §3.2.2), nothing stored', async () => {
    const values = [5, 'http://127.0.0.1/callback', {}, [5], [null], [['http://127.0.0.1/callback']]];
    await assertRefused(
      values.map((value) => ['redirect_uris', value]),
      'invalid_redirect_uri',
    );
  });

  it('grant_types that is not an array of strings: 400 invalid_client_metadata, nothing stored', async () => {
    const values = [{}, 5, 'authorization_code', [1], { includes: 'client_credentials' }];
    await assertRefused(
      values.map((value) => ['grant_types', value]),
      'invalid_client_metadata',
    );
  });

  it('software_id and software_version must be strings (RFC 7591 §2), and are kept when they are', async () => {
    const values = [{}, 5, ['x'], null, true];
    await assertRefused(
      ['software_id', 'software_version'].flatMap((field) => values.map((value): [string, unknown] => [field, value])),
      'invalid_client_metadata',
    );
    const ok = await registerRaw(server, { ...VALID, software_id: 'b0b2c9d6-mcp-client', software_version: '1.4.2' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.software_id, 'b0b2c9d6-mcp-client');
    assert.equal(ok.body.software_version, '1.4.2');
  });

  it('every other metadata field of the wrong type: 400 invalid_client_metadata, nothing stored', async () => {
    await assertRefused(
      [
        ['client_name', { en: 'x' }],
        ['client_uri', ['https://app.example.com']],
        ['logo_uri', 5],
        ['contacts', 'ops@example.com'],
        ['contacts', [{ email: 'ops@example.com' }]],
        ['scope', ['openid']],
        ['response_types', 'code'],
        ['token_endpoint_auth_method', ['none']],
        ['jwks', [{ kty: 'EC' }]],
        ['jwks', { keys: { kty: 'EC' } }],
        ['application_type', 1],
        ['default_max_age', '60'],
        ['require_auth_time', 'true'],
        ['post_logout_redirect_uris', 'https://app.example.com/bye'],
      ],
      'invalid_client_metadata',
    );
  });

  it('a registration with every field of the right type is still accepted', async () => {
    const res = await registerRaw(server, {
      ...VALID,
      client_name: 'Desktop MCP client',
      client_uri: 'https://app.example.com',
      logo_uri: 'https://app.example.com/logo.png',
      tos_uri: 'https://app.example.com/tos',
      policy_uri: 'https://app.example.com/privacy',
      contacts: ['ops@example.com'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid',
      application_type: 'web',
      default_max_age: 3600,
      require_auth_time: false,
      post_logout_redirect_uris: ['http://127.0.0.1/bye'],
      software_id: 'desktop-mcp',
      software_version: '2.0.0',
      x_vendor_extension: { anything: [1, 2, 3] },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok(await server.store.clients.find(String(res.body.client_id)));
  });

  it('fuzz: arbitrary JSON in any field is answered 201 or a 4xx registration error, promptly, and a refusal stores nothing', async (t) => {
    const seed = numberFromEnv('PORTCULLIS_FUZZ_SEED', 20260907);
    const numRuns = numberFromEnv('PORTCULLIS_FUZZ_RUNS', 1000);
    t.diagnostic(`fast-check seed ${seed}, ${numRuns} runs (override with PORTCULLIS_FUZZ_SEED / PORTCULLIS_FUZZ_RUNS)`);
    const url = endpoint(server, 'registration');
    const field = fc.constantFrom(...FIELDS);
    const value = fc.oneof(fc.jsonValue(), fc.constantFrom(...NASTY));
    // One to three fields replaced at once, so rules that read two fields together are reached too.
    const overrides = fc.array(fc.tuple(field, value), { minLength: 1, maxLength: 3 });

    await fc.assert(
      fc.asyncProperty(overrides, async (pairs) => {
        const metadata: Record<string, unknown> = { ...VALID };
        // defineProperty: a `__proto__` field must be sent as a field, not become a prototype.
        for (const [name, v] of pairs) Object.defineProperty(metadata, name, { value: v, enumerable: true, writable: true, configurable: true });
        const countBefore = await clientCount();
        const started = Date.now();
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(metadata),
          signal: AbortSignal.timeout(5_000),
        });
        const text = await response.text();
        assert.ok(Date.now() - started < 5_000, 'answered within 5 s');
        assert.ok(response.status < 500, `HTTP ${response.status} ${text.slice(0, 300)}`);
        const body = JSON.parse(text) as Record<string, unknown>;
        if (response.status === 201) {
          assert.equal(typeof body.client_id, 'string');
          assert.equal(await clientCount(), countBefore + 1);
          assert.ok(await server.store.clients.find(String(body.client_id)));
          return;
        }
        assert.ok(response.status >= 400, `HTTP ${response.status}`);
        assert.ok(REGISTRATION_ERRORS.has(String(body.error)), `error ${String(body.error)} (HTTP ${response.status})`);
        assert.equal(await clientCount(), countBefore, 'a refused registration stored a client');
      }),
      { seed, numRuns },
    );
  });
});
