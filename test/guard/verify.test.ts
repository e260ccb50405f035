/**
 * The guard's access-token verifier (RFC 9068 JWT access tokens, RFC 8707 audience), on its own:
 * a local ES256 key pair plays the issuer, so every claim and header can be bent one at a time.
 */
import assert from 'node:assert/strict';
import { createPublicKey, createSecretKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { base64url, createLocalJWKSet, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { PortcullisError } from '../../src/core/errors.ts';
import { createTokenVerifier, type RevocationCheck } from '../../src/shared/verify.ts';

const ISSUER = 'https://auth.example.com';
const RESOURCE = 'https://auth.example.com/mcp';
const KID = 'issuer-key-1';

const issuerKeys = await generateKeyPair('ES256', { extractable: true });
const publicJwk: JWK = { ...(await exportJWK(issuerKeys.publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
const keys = createLocalJWKSet({ keys: [publicJwk] });

const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: JWTPayload = {}): JWTPayload {
  const iat = now();
  return {
    iss: ISSUER,
    aud: RESOURCE,
    sub: 'user-1',
    client_id: 'client-1',
    jti: `jti-${Math.random()}`,
    scope: 'demo:read demo:write',
    grant_id: 'grant-1',
    iat,
    exp: iat + 300,
    auth_time: iat - 10,
    acr: 'urn:portcullis:acr:pwd',
    amr: ['pwd'],
    ...overrides,
  };
}

async function sign(
  payload: JWTPayload,
  header: { alg?: string; typ?: string; kid?: string } = {},
  key: CryptoKey | Uint8Array = issuerKeys.privateKey,
): Promise<string> {
  const protectedHeader = { alg: 'ES256', typ: 'at+jwt', kid: KID, ...header };
  // Omitted claims must really be absent, not `undefined`.
  const clean = Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
  return new SignJWT(clean).setProtectedHeader(protectedHeader as never).sign(key);
}

function unsigned(payload: JWTPayload, header: Record<string, unknown>): string {
  const enc = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${enc(header)}.${enc(payload)}.`;
}

const verify = createTokenVerifier({ issuer: ISSUER, audience: RESOURCE, keys, clockSkewSeconds: 5, refuse: PortcullisError.from });

/** Assert the promise rejects with a PortcullisError of this code (and, when given, this rule). */
async function refused(promise: Promise<unknown>, code: string, rule?: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof PortcullisError, `expected a PortcullisError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (rule) assert.equal(err.rule, rule);
    return true;
  });
}

describe('guard: access-token verification', () => {
  it('accepts a well-formed token and exposes who, which client, which scopes and which grant', async () => {
    const payload = claims();
    const token = await sign(payload);
    const verified = await verify(token);
    assert.equal(verified.token, token);
    assert.equal(verified.subject, 'user-1');
    assert.equal(verified.clientId, 'client-1');
    assert.deepEqual([...verified.scopes], ['demo:read', 'demo:write']);
    assert.deepEqual(verified.audience, [RESOURCE]);
    assert.equal(verified.grantId, 'grant-1');
    assert.equal(verified.jti, payload.jti);
    assert.equal(verified.expiresAt, payload.exp);
    assert.equal(verified.issuedAt, payload.iat);
    assert.equal(verified.authTime, payload.auth_time);
    assert.equal(verified.acr, 'urn:portcullis:acr:pwd');
    assert.deepEqual(verified.amr, ['pwd']);
  });

  it('accepts an audience list that contains this resource (RFC 9068 §3)', async () => {
    const verified = await verify(await sign(claims({ aud: ['https://other.example/api', RESOURCE] })));
    assert.deepEqual(verified.audience, ['https://other.example/api', RESOURCE]);
  });

  it('treats a token without scope as holding no scope', async () => {
    const verified = await verify(await sign(claims({ scope: undefined })));
    assert.equal(verified.scopes.size, 0);
  });

  it('refuses a token for another resource with invalid_audience', async () => {
    await refused(verify(await sign(claims({ aud: 'https://auth.example.com/other-mcp' }))), 'invalid_audience');
    await refused(verify(await sign(claims({ aud: ['https://a.example', 'https://b.example'] }))), 'invalid_audience');
    // A prefix or a trailing-slash variant is another resource, not this one.
    await refused(verify(await sign(claims({ aud: `${RESOURCE}/` }))), 'invalid_audience');
    await refused(verify(await sign(claims({ aud: 'https://auth.example.com' }))), 'invalid_audience');
  });

  it('refuses a token from another issuer', async () => {
    await refused(verify(await sign(claims({ iss: 'https://evil.example' }))), 'invalid_token', 'claim-iss');
    await refused(verify(await sign(claims({ iss: `${ISSUER}/` }))), 'invalid_token', 'claim-iss');
  });

  it('refuses an expired token beyond the clock skew, and tolerates the skew', async () => {
    await refused(verify(await sign(claims({ iat: now() - 600, exp: now() - 60 }))), 'invalid_token', 'expired');
    const withinSkew = await verify(await sign(claims({ iat: now() - 600, exp: now() - 2 })));
    assert.equal(withinSkew.subject, 'user-1');
  });

  it('refuses a token not yet valid (nbf in the future beyond the skew)', async () => {
    await refused(verify(await sign(claims({ nbf: now() + 120 }))), 'invalid_token');
  });

  it('refuses a token missing any required claim', async () => {
    for (const claim of ['sub', 'client_id', 'jti', 'exp', 'iat', 'aud'] as const) {
      await refused(verify(await sign(claims({ [claim]: undefined }))), 'invalid_token');
    }
  });

  it('refuses an ID token or any JWT whose typ is not at+jwt (RFC 9068 §4)', async () => {
    await refused(verify(await sign(claims(), { typ: 'JWT' })), 'invalid_token');
    await refused(verify(await sign(claims(), { typ: undefined })), 'invalid_token');
    await refused(verify(await sign(claims(), { typ: 'application/jwt' })), 'invalid_token');
  });

  it('accepts the media-type spelling application/at+jwt (RFC 9068 §2.1)', async () => {
    const verified = await verify(await sign(claims(), { typ: 'application/at+jwt' }));
    assert.equal(verified.subject, 'user-1');
  });

  it('refuses alg "none"', async () => {
    await refused(verify(unsigned(claims(), { alg: 'none', typ: 'at+jwt', kid: KID })), 'invalid_token');
    await refused(verify(unsigned(claims(), { alg: 'none', typ: 'at+jwt' })), 'invalid_token');
  });

  it('refuses HS256 signed with the issuer public key as the HMAC secret (algorithm confusion)', async () => {
    const spki = await exportSPKI(issuerKeys.publicKey);
    const asPem = createSecretKey(Buffer.from(spki));
    const asDer = createSecretKey(createPublicKey(spki).export({ format: 'der', type: 'spki' }));
    const asJwk = createSecretKey(Buffer.from(JSON.stringify(publicJwk)));
    for (const secret of [asPem, asDer, asJwk]) {
      await refused(verify(await sign(claims(), { alg: 'HS256' }, secret as never)), 'invalid_token', 'algorithm');
    }
  });

  it('refuses another asymmetric algorithm even with a key the issuer could hold', async () => {
    const rsa = await generateKeyPair('RS256');
    await refused(verify(await sign(claims(), { alg: 'RS256' }, rsa.privateKey)), 'invalid_token', 'algorithm');
    const es384 = await generateKeyPair('ES384');
    await refused(verify(await sign(claims(), { alg: 'ES384' }, es384.privateKey)), 'invalid_token', 'algorithm');
  });

  it('refuses a token signed by a foreign key, under our kid or under its own', async () => {
    const foreign = await generateKeyPair('ES256');
    await refused(verify(await sign(claims(), { kid: KID }, foreign.privateKey)), 'invalid_token', 'signature');
    await refused(verify(await sign(claims(), { kid: 'attacker-key' }, foreign.privateKey)), 'invalid_token', 'unknown-key');
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const [header, , signature] = (await sign(claims())).split('.');
    const forgedPayload = base64url.encode(JSON.stringify(claims({ scope: 'demo:read demo:write demo:delete' })));
    await refused(verify(`${header}.${forgedPayload}.${signature}`), 'invalid_token', 'signature');
  });

  it('refuses malformed and oversized input without throwing anything else', async () => {
    for (const bad of ['', 'garbage', 'a.b', 'a.b.c.d', '...', 'eyJhbGciOiJFUzI1NiJ9.e30.', `${'a'.repeat(9000)}.b.c`]) {
      await refused(verify(bad), 'invalid_token');
    }
  });

  it('refuses a token whose grant or whose own jti is revoked, with token_revoked', async () => {
    const revokedGrants = new Set(['grant-revoked']);
    const revokedJtis = new Set(['jti-revoked']);
    const seen: Parameters<RevocationCheck['isRevoked']>[0][] = [];
    const revocations: RevocationCheck = {
      isRevoked(token) {
        seen.push(token);
        return (token.grantId !== undefined && revokedGrants.has(token.grantId)) || revokedJtis.has(token.jti);
      },
    };
    const guarded = createTokenVerifier({ issuer: ISSUER, audience: RESOURCE, keys, revocations, refuse: PortcullisError.from });
    await refused(guarded(await sign(claims({ grant_id: 'grant-revoked' }))), 'token_revoked');
    await refused(guarded(await sign(claims({ jti: 'jti-revoked' }))), 'token_revoked');
    const fine = await guarded(await sign(claims({ grant_id: 'grant-ok', jti: 'jti-ok' })));
    assert.equal(fine.grantId, 'grant-ok');
    assert.equal(seen.at(-1)!.subject, 'user-1', 'the revocation check is told the subject too');
  });

  it('checks revocation only after the signature: a forged token never reaches the revocation list', async () => {
    let asked = 0;
    const guarded = createTokenVerifier({ issuer: ISSUER, audience: RESOURCE, keys, revocations: { isRevoked: () => (asked++, false) }, refuse: PortcullisError.from });
    const foreign = await generateKeyPair('ES256');
    await refused(guarded(await sign(claims(), {}, foreign.privateKey)), 'invalid_token');
    assert.equal(asked, 0);
  });

  it('accepts any of several audiences this resource answers to', async () => {
    const multi = createTokenVerifier({ issuer: ISSUER, audience: [RESOURCE, 'https://mcp.example.com'], keys, refuse: PortcullisError.from });
    assert.equal((await multi(await sign(claims({ aud: 'https://mcp.example.com' })))).subject, 'user-1');
  });
});
