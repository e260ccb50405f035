/**
 * The `limits` section and `redisUrl` of the configuration: rates as objects or "<calls>/<window>"
 * (what environment variables carry), quotas, REDIS_URL and PORTCULLIS_LIMIT_* / PORTCULLIS_QUOTA_*,
 * and the refusals naming the key: a malformed rate, a client or API-key rate looser than the
 * organization's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/core/config.ts';
import { PortcullisError } from '../../src/core/errors.ts';

const load = (overrides: object, env: NodeJS.ProcessEnv = {}) => loadConfig({ env, cwd: '/nonexistent', overrides: overrides as never });

function refusedPaths(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PortcullisError);
    assert.equal(err.code, 'config_invalid');
    return (err.detail.errors as { path: string }[]).map((e) => e.path);
  }
  assert.fail('accepted');
}

describe('limits configuration', () => {
  it('takes no gateway limit by default, and rates in either form', () => {
    const plain = load({});
    assert.equal(plain.limits.user, undefined);
    assert.equal(plain.redisUrl, undefined);
    const config = load({ limits: { user: '600/1m', org: { limit: 5000, window: '1h' }, tool: { limit: 10 }, quotas: { org: { day: 100000 } } } });
    assert.deepEqual(config.limits.user, { limit: 600, window: 60 });
    assert.deepEqual(config.limits.org, { limit: 5000, window: 3600 });
    assert.deepEqual(config.limits.tool, { limit: 10, window: 60 }, 'a minute unless told');
    assert.deepEqual(config.limits.quotas, { org: { day: 100000 } });
  });

  it('reads REDIS_URL and the PORTCULLIS_LIMIT_* / PORTCULLIS_QUOTA_* variables', () => {
    const config = load({}, { REDIS_URL: 'redis://cache:6379', PORTCULLIS_LIMIT_USER: '100/30s', PORTCULLIS_QUOTA_USER_MONTH: '5000', PORTCULLIS_LIMIT_TOKEN_IP: '300/1m' });
    assert.equal(config.redisUrl, 'redis://cache:6379');
    assert.deepEqual(config.limits.user, { limit: 100, window: 30 });
    assert.deepEqual(config.limits.quotas?.user, { month: 5000 });
    assert.deepEqual(config.limits.tokenEndpoint.ip, { limit: 300, window: 60 });
  });

  it('refuses malformed rates and URLs, naming the key', () => {
    assert.deepEqual(refusedPaths(() => load({}, { PORTCULLIS_LIMIT_USER: 'lots' })), ['limits.user']);
    assert.deepEqual(refusedPaths(() => load({ limits: { org: { limit: 0 } } })), ['limits.org.limit']);
    assert.deepEqual(refusedPaths(() => load({ limits: { user: '10/2d' } })), ['limits.user']);
    assert.deepEqual(refusedPaths(() => load({ redisUrl: 'http://cache' })), ['redisUrl']);
  });

  it('refuses an API-key or client rate looser than the organization rate', () => {
    assert.deepEqual(refusedPaths(() => load({ limits: { org: '100/1m', apiKey: '200/1m', client: '100/30s' } })), ['limits.client', 'limits.apiKey']);
  });
});
