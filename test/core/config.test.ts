/**
 * The configuration schema (src/core/config.ts): defaults for the embedded case, the file →
 * environment precedence, and refusals that name the offending key. Assertions match the
 * `config_invalid` code and the `path` of each entry in `detail.errors`, never message text.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configWarnings, loadConfig, type LoadOptions } from '../../src/core/config.ts';
import { PortcullisError, type FieldError } from '../../src/core/errors.ts';

const DAY = 86400;
const dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A config file with this content; returns its path. */
function file(content: unknown): string {
  const path = join(dir, `config-${files++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Load with nothing from the real environment or working directory. */
function load(options: LoadOptions = {}) {
  return loadConfig({ env: {}, cwd: dir, ...options });
}

/** The paths named by the config_invalid error `fn` throws. */
function refusedPaths(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PortcullisError, `expected a PortcullisError, got ${String(err)}`);
    assert.equal(err.code, 'config_invalid');
    const errors = err.detail.errors as FieldError[];
    assert.ok(Array.isArray(errors) && errors.length > 0);
    return errors.map((e) => e.path).sort();
  }
  assert.fail('expected the configuration to be refused');
}

describe('configuration defaults', () => {
  it('serves the embedded single-process case: loopback, SQLite in ./data, 30-minute access tokens, 30-day refresh chains idle after 14 days', () => {
    const config = load();
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 3000);
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.equal(config.publicUrlDefaulted, true);
    assert.equal(config.dataDir, './data');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.secretKey, undefined);
    assert.equal(config.trustProxy, false);
    assert.equal(config.tokens.accessTokenTtl, 1800);
    assert.equal(config.tokens.refreshTokenTtl, 30 * DAY);
    assert.equal(config.tokens.refreshTokenIdleTtl, 14 * DAY);
    assert.equal(config.tokens.refreshGraceSeconds, 10);
    assert.equal(config.tokens.authorizationCodeTtl, 60);
    assert.equal(config.tokens.sessionTtl, 14 * DAY);
    assert.equal(config.registration.policy, 'open', 'dynamic registration is open while dynamic clients are allowed');
    assert.deepEqual(config.clientKinds, ['pre-registered', 'metadata-document', 'dynamic']);
    assert.equal(config.cimd.allowPrivateAddresses, false);
    assert.deepEqual(config.sources, ['defaults']);
    assert.deepEqual(configWarnings(config), []);
  });

  it('derives the public URL from the port, and registration "off" when dynamic clients are not allowed', () => {
    assert.equal(load({ overrides: { port: 8080 } }).publicUrl, 'http://localhost:8080');
    assert.equal(load({ overrides: { clientKinds: ['pre-registered', 'metadata-document'] } }).registration.policy, 'off');
  });

  it('takes an explicit public URL without its trailing slash (it is the issuer)', () => {
    const config = load({ overrides: { publicUrl: 'https://auth.example.com/tenant/' } });
    assert.equal(config.publicUrl, 'https://auth.example.com/tenant');
    assert.equal(config.publicUrlDefaulted, false);
  });
});

describe('durations', () => {
  it('accepts seconds or strings such as "30m", "14d", "12h", "90s"', () => {
    const config = load({
      file: file({ tokens: { accessTokenTtl: '30m', refreshTokenTtl: '60d', refreshTokenIdleTtl: '14d', sessionTtl: '12h', authorizationCodeTtl: '90s' } }),
    });
    assert.equal(config.tokens.accessTokenTtl, 1800);
    assert.equal(config.tokens.refreshTokenTtl, 60 * DAY);
    assert.equal(config.tokens.refreshTokenIdleTtl, 14 * DAY);
    assert.equal(config.tokens.sessionTtl, 12 * 3600);
    assert.equal(config.tokens.authorizationCodeTtl, 90);
    assert.equal(load({ file: file({ tokens: { accessTokenTtl: 600 } }) }).tokens.accessTokenTtl, 600);
  });

  it('accepts plain seconds from the environment, as documented ("seconds or 30m, 14d…")', () => {
    const config = load({ env: { PORTCULLIS_ACCESS_TOKEN_TTL: '900', PORTCULLIS_REFRESH_TOKEN_TTL: '3888000', PORTCULLIS_SESSION_TTL: '8h' } });
    assert.equal(config.tokens.accessTokenTtl, 900);
    assert.equal(config.tokens.refreshTokenTtl, 45 * DAY);
    assert.equal(config.tokens.sessionTtl, 8 * 3600);
  });

  it('refuses zero, negative, fractional, unknown units and values beyond the maximum, naming the key', () => {
    for (const bad of [0, -5, 1.5, '0m', '10w', '1.5h', 'soon', '', '2d']) {
      // accessTokenTtl is capped at one day
      assert.deepEqual(refusedPaths(() => load({ file: file({ tokens: { accessTokenTtl: bad } }) })), ['tokens.accessTokenTtl'], `accessTokenTtl ${JSON.stringify(bad)}`);
    }
    assert.deepEqual(refusedPaths(() => load({ file: file({ tokens: { authorizationCodeTtl: '11m' } }) })), ['tokens.authorizationCodeTtl']);
  });
});

describe('sources and precedence', () => {
  it('reads ./portcullis.config.json, or the file named by PORTCULLIS_CONFIG; an explicit file must exist', () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cwd, 'portcullis.config.json'), JSON.stringify({ port: 4001 }));
    assert.equal(loadConfig({ env: {}, cwd }).port, 4001);
    const named = file({ port: 4002 });
    const viaEnv = loadConfig({ env: { PORTCULLIS_CONFIG: named }, cwd });
    assert.equal(viaEnv.port, 4002);
    assert.ok(viaEnv.sources.includes(named));
    const missing = join(dir, 'missing.json');
    assert.deepEqual(refusedPaths(() => loadConfig({ env: { PORTCULLIS_CONFIG: missing }, cwd })), [missing]);
  });

  it('lets the environment win over the file, key by key', () => {
    const config = load({
      file: file({ port: 4000, tokens: { accessTokenTtl: '10m', refreshTokenTtl: '20d' }, trustProxy: true }),
      env: { PORTCULLIS_PORT: '5000', PORTCULLIS_ACCESS_TOKEN_TTL: '15m', PORTCULLIS_TRUST_PROXY: 'false' },
    });
    assert.equal(config.port, 5000);
    assert.equal(config.tokens.accessTokenTtl, 900);
    assert.equal(config.tokens.refreshTokenTtl, 20 * DAY, 'what the environment does not set comes from the file');
    assert.equal(config.trustProxy, false);
    assert.deepEqual(config.sources.slice(-1), ['environment']);
  });

  it('maps every documented variable', () => {
    const secretKey = Buffer.alloc(32, 9).toString('base64url');
    const config = load({
      env: {
        PORTCULLIS_PUBLIC_URL: 'https://auth.example.com',
        PORTCULLIS_HOST: '0.0.0.0',
        PORTCULLIS_PORT: '8443',
        PORTCULLIS_DATA_DIR: '/var/lib/portcullis',
        DATABASE_URL: 'postgresql://db.internal/portcullis',
        PORTCULLIS_SECRET_KEY: secretKey,
        PORTCULLIS_TRUST_PROXY: 'yes',
        PORTCULLIS_LOG_LEVEL: 'warn',
        PORTCULLIS_REFRESH_TOKEN_IDLE_TTL: '1d',
        PORTCULLIS_REFRESH_GRACE_SECONDS: '5',
        PORTCULLIS_SESSION_TTL: '8h',
        PORTCULLIS_REGISTRATION: 'initial-access-token',
        PORTCULLIS_INITIAL_ACCESS_TOKEN: 'iat-0123456789abcdef',
        PORTCULLIS_CLIENT_KINDS: 'pre-registered, dynamic',
        PORTCULLIS_CIMD_ALLOW_PRIVATE: 'on',
        PORTCULLIS_TEST_DATABASE_URL: 'ignored: reserved for the test suite',
      },
    });
    assert.equal(config.publicUrl, 'https://auth.example.com');
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.port, 8443);
    assert.equal(config.dataDir, '/var/lib/portcullis');
    assert.equal(config.databaseUrl, 'postgresql://db.internal/portcullis');
    assert.equal(config.secretKey, secretKey);
    assert.equal(config.trustProxy, true);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.tokens.refreshTokenIdleTtl, DAY);
    assert.equal(config.tokens.refreshGraceSeconds, 5);
    assert.equal(config.tokens.sessionTtl, 8 * 3600);
    assert.equal(config.registration.policy, 'initial-access-token');
    assert.equal(config.registration.initialAccessToken, 'iat-0123456789abcdef');
    assert.deepEqual(config.clientKinds, ['pre-registered', 'dynamic']);
    assert.equal(config.cimd.allowPrivateAddresses, true);
    assert.equal(configWarnings(config).length, 1, 'private metadata-document fetches are allowed but warned about');
  });
});

describe('refusals name the offending key', () => {
  it('unknown keys in the file, at the top level and nested', () => {
    assert.deepEqual(refusedPaths(() => load({ file: file({ prot: 3000 }) })), ['prot']);
    assert.deepEqual(refusedPaths(() => load({ file: file({ tokens: { acessTokenTtl: 60 } }) })), ['tokens.acessTokenTtl']);
    assert.deepEqual(refusedPaths(() => load({ file: file({ mongoUrl: 'mongodb://x', cimd: { allowPrivate: true } }) })), ['cimd.allowPrivate', 'mongoUrl']);
  });

  it('unknown PORTCULLIS_* variables (a typo must not silently fall back to a default)', () => {
    assert.deepEqual(refusedPaths(() => load({ env: { PORTCULLIS_ACCES_TOKEN_TTL: '5m' } })), ['PORTCULLIS_ACCES_TOKEN_TTL']);
    // Other parts of the product and the test suite have their own variables.
    assert.equal(load({ env: { PORTCULLIS_TOKEN: 'x', PORTCULLIS_AUTH_FILE: '/tmp/a', PORTCULLIS_TEST_ANYTHING: '1' } }).port, 3000);
  });

  it('wrong types, in the file and in the environment', () => {
    assert.deepEqual(refusedPaths(() => load({ file: file({ port: '3000' }) })), ['port']);
    assert.deepEqual(refusedPaths(() => load({ file: file({ port: 70000 }) })), ['port']);
    assert.deepEqual(refusedPaths(() => load({ file: file({ trustProxy: 'yes' }) })), ['trustProxy']);
    assert.deepEqual(refusedPaths(() => load({ file: file({ tokens: 'short' }) })), ['tokens']);
    assert.deepEqual(refusedPaths(() => load({ file: file({ clientKinds: ['dynamic', 'magic'] }) })), ['clientKinds.1']);
    assert.deepEqual(refusedPaths(() => load({ file: file({ logLevel: 'loud' }) })), ['logLevel']);
    assert.deepEqual(refusedPaths(() => load({ file: file({ databaseUrl: 'mysql://db/x' }) })), ['databaseUrl']);
    assert.deepEqual(refusedPaths(() => load({ file: file({ secretKey: 'too-short' }) })), ['secretKey']);
    assert.deepEqual(refusedPaths(() => load({ env: { PORTCULLIS_PORT: 'eighty' } })), ['PORTCULLIS_PORT']);
    assert.deepEqual(refusedPaths(() => load({ env: { PORTCULLIS_TRUST_PROXY: 'maybe' } })), ['PORTCULLIS_TRUST_PROXY']);
    assert.deepEqual(refusedPaths(() => load({ env: { PORTCULLIS_REGISTRATION: 'sometimes' } })), ['registration.policy']);
  });

  it('a file that is not a JSON object', () => {
    const notJson = file('{ port: 3000 ');
    assert.deepEqual(refusedPaths(() => load({ file: notJson })), [notJson]);
    const array = file([]);
    assert.deepEqual(refusedPaths(() => load({ file: array })), [array]);
  });

  it('every offending key at once', () => {
    assert.deepEqual(refusedPaths(() => load({ file: file({ port: -1, logLevel: 'loud', extra: 1 }) })), ['extra', 'logLevel', 'port']);
  });
});

describe('unsafe combinations', () => {
  it('http publicUrl off loopback (the issuer must be https; RFC 8414 §2), naming publicUrl', () => {
    assert.deepEqual(refusedPaths(() => load({ overrides: { publicUrl: 'http://auth.example.com' } })), ['publicUrl']);
    assert.deepEqual(refusedPaths(() => load({ env: { PORTCULLIS_PUBLIC_URL: 'http://10.0.0.5:3000' } })), ['publicUrl']);
    assert.deepEqual(refusedPaths(() => load({ overrides: { publicUrl: 'http://localhost.example.com' } })), ['publicUrl']);
    for (const loopback of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000']) {
      assert.equal(load({ overrides: { publicUrl: loopback } }).publicUrl, loopback);
    }
  });

  it('a publicUrl with a query, fragment or credentials, or not http(s)', () => {
    for (const bad of ['https://auth.example.com/?tenant=a', 'https://auth.example.com/#x', 'https://user:pw@auth.example.com', 'ftp://auth.example.com']) {
      assert.deepEqual(refusedPaths(() => load({ overrides: { publicUrl: bad } })), ['publicUrl'], bad);
    }
  });

  it('a refresh token idle lifetime longer than the absolute lifetime', () => {
    assert.deepEqual(refusedPaths(() => load({ overrides: { tokens: { refreshTokenIdleTtl: '31d' } } })), ['tokens.refreshTokenIdleTtl']);
    assert.deepEqual(refusedPaths(() => load({ env: { PORTCULLIS_REFRESH_TOKEN_TTL: '7d' } })), ['tokens.refreshTokenIdleTtl'], 'the default idle 14 d exceeds a 7 d chain');
    const equal = load({ env: { PORTCULLIS_REFRESH_TOKEN_TTL: '7d', PORTCULLIS_REFRESH_TOKEN_IDLE_TTL: '7d' } });
    assert.equal(equal.tokens.refreshTokenIdleTtl, equal.tokens.refreshTokenTtl);
  });

  it('a registration policy that contradicts clientKinds, or lacks its initial access token', () => {
    const noDynamic = ['pre-registered', 'metadata-document'] as const;
    assert.deepEqual(refusedPaths(() => load({ overrides: { clientKinds: [...noDynamic], registration: { policy: 'open' } } })), ['registration.policy']);
    assert.deepEqual(
      refusedPaths(() => load({ overrides: { clientKinds: [...noDynamic], registration: { policy: 'initial-access-token', initialAccessToken: 'iat-0123456789abcdef' } } })),
      ['registration.policy'],
    );
    assert.deepEqual(refusedPaths(() => load({ overrides: { registration: { policy: 'initial-access-token' } } })), ['registration.initialAccessToken']);
    assert.deepEqual(refusedPaths(() => load({ overrides: { registration: { initialAccessToken: 'short' } } })), ['registration.initialAccessToken']);
    assert.deepEqual(refusedPaths(() => load({ overrides: { clientKinds: [] } })), ['clientKinds']);
    assert.equal(load({ overrides: { clientKinds: [...noDynamic], registration: { policy: 'off' } } }).registration.policy, 'off');
  });

  it('warns (without refusing) about private metadata-document fetches and a shared database without a shared secret', () => {
    const warned = load({ env: { PORTCULLIS_CIMD_ALLOW_PRIVATE: 'true', DATABASE_URL: 'postgres://db/x' } });
    assert.equal(configWarnings(warned).length, 2);
    const shared = load({ env: { DATABASE_URL: 'postgres://db/x', PORTCULLIS_SECRET_KEY: Buffer.alloc(32, 3).toString('base64url') } });
    assert.deepEqual(configWarnings(shared), []);
  });
});
