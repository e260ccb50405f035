/**
 * How a denial becomes an HTTP answer (RFC 6750 §3, RFC 9728 §5.1): the status, the
 * WWW-Authenticate challenge and the JSON body, for every denial the guard produces.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PortcullisError } from '../../src/core/errors.ts';
import { bearerChallenge, challengeFor, insufficientScope } from '../../src/shared/challenge.ts';

const PRM = 'https://auth.example.com/.well-known/oauth-protected-resource/mcp';

/** Parse `Bearer k="v", k2="v2"` into a map (quoted-string unescaping per RFC 9110 §5.6.4). */
export function parseBearer(header: string): Record<string, string> {
  assert.match(header, /^Bearer( |$)/);
  const params: Record<string, string> = {};
  for (const match of header.slice(6).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) {
    params[match[1]!] = match[2]!.replace(/\\(.)/g, '$1');
  }
  return params;
}

describe('guard: challenges', () => {
  it('asks for a token without an error code when none was sent (RFC 6750 §3.1)', () => {
    const challenge = challengeFor(undefined, { resourceMetadataUrl: PRM, tokenPresented: false, scope: 'demo:read demo:write' });
    assert.equal(challenge.status, 401);
    const header = challenge.headers['www-authenticate']!;
    const params = parseBearer(header);
    assert.deepEqual(params, { resource_metadata: PRM, scope: 'demo:read demo:write' });
    assert.doesNotMatch(header, /error=/);
  });

  it('a denial is still a bare challenge when no token was presented', () => {
    const err = new PortcullisError('invalid_token', 'bad');
    const challenge = challengeFor(err, { resourceMetadataUrl: PRM, tokenPresented: false });
    assert.equal(challenge.status, 401);
    assert.doesNotMatch(challenge.headers['www-authenticate']!, /error=/);
  });

  it('answers a bad token with 401 invalid_token and the resource metadata URL', () => {
    const challenge = challengeFor(new PortcullisError('invalid_token', 'bad', { rule: 'signature' }), { resourceMetadataUrl: PRM, tokenPresented: true });
    assert.equal(challenge.status, 401);
    const params = parseBearer(challenge.headers['www-authenticate']!);
    assert.equal(params.error, 'invalid_token');
    assert.equal(params.resource_metadata, PRM);
    assert.equal(challenge.body.error, 'invalid_token');
  });

  it('keeps finer reasons off the wire: invalid_audience and token_revoked are sent as invalid_token', () => {
    for (const code of ['invalid_audience', 'token_revoked'] as const) {
      const challenge = challengeFor(new PortcullisError(code, 'refused', { rule: code }), { resourceMetadataUrl: PRM, tokenPresented: true });
      assert.equal(challenge.status, 401);
      const header = challenge.headers['www-authenticate']!;
      assert.equal(parseBearer(header).error, 'invalid_token');
      assert.equal(challenge.body.error, 'invalid_token');
      assert.ok(!header.includes(code) && !JSON.stringify(challenge.body).includes(code), `${code} leaked onto the wire`);
    }
  });

  it('answers missing scopes with 403 insufficient_scope naming every scope needed (RFC 6750 §3.1)', () => {
    const { denial: error, scope } = insufficientScope(['demo:delete'], ['demo:read', 'demo:write']);
    assert.equal(error.code, 'insufficient_scope');
    assert.equal(scope, 'demo:read demo:write demo:delete');
    const challenge = challengeFor(error, { resourceMetadataUrl: PRM, tokenPresented: true, scope });
    assert.equal(challenge.status, 403);
    const params = parseBearer(challenge.headers['www-authenticate']!);
    assert.equal(params.error, 'insufficient_scope');
    assert.equal(params.scope, 'demo:read demo:write demo:delete');
    assert.equal(params.resource_metadata, PRM);
    assert.equal(challenge.body.error, 'insufficient_scope');
  });

  it('names each scope once, held ones first, when asking for more', () => {
    assert.equal(insufficientScope(['b', 'c', 'b'], ['a', 'b']).scope, 'a b c');
    assert.equal(insufficientScope(['x'], []).scope, 'x');
  });

  it('quotes auth-param values so a value cannot break out of its parameter', () => {
    const header = bearerChallenge({ error: 'invalid_token', error_description: 'say "hi", \\ ok', scope: undefined });
    assert.equal(header, 'Bearer error="invalid_token", error_description="say \\"hi\\", \\\\ ok"');
    assert.deepEqual(parseBearer(header), { error: 'invalid_token', error_description: 'say "hi", \\ ok' });
    assert.equal(bearerChallenge({}), 'Bearer');
  });
});
