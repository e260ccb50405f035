/**
 * The token-signing key ring. ES256 keys are generated here, stored with the private half sealed
 * under the data-encryption key, and handed to the protocol engine as one JWKS:
 * - the newest unretired key signs;
 * - retired keys stay published (marked `key_ops: ["verify"]`, so the engine never signs with them)
 *   until every token they signed has expired, then they are deleted.
 * `rotate` adds a key and retires the others; every process notices through `version()` polling
 * and rebuilds its engine (oidc-provider reads its keys once, at construction).
 */
import type { Store } from '../store/store.ts';
import type { SigningKeyRecord } from '../store/signing-keys.ts';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { open, seal, type SecretKey } from '../core/crypto.ts';
import { PortcullisError } from '../core/errors.ts';

const ALG = 'ES256';

/** The private key tokens are signed with now, and its key id (JWS `kid`). */
export interface SigningKey {
  key: CryptoKey;
  kid: string;
}

export interface KeyRing {
  /** Private JWKs for the engine: signing key first, then retired keys (verify only). */
  privateJwks: JWK[];
  /** Public JWKs as published (for in-process verification without HTTP). */
  publicJwks: JWK[];
  /** Changes whenever the set of keys changes. */
  version: string;
}

function contextFor(kid: string): string {
  return `signing-key:${kid}`;
}

export async function generateSigningKey(dataKey: SecretKey, now: number): Promise<SigningKeyRecord> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    alg: ALG,
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg: ALG, use: 'sig' }),
    privateJwkSealed: seal(dataKey, JSON.stringify({ ...privateJwk, kid, alg: ALG, use: 'sig' }), contextFor(kid)),
    createdAt: now,
    retiredAt: null,
  };
}

/** Make sure one active key exists (first start). Returns true when a key was created. */
export async function ensureSigningKey(store: Store, dataKey: SecretKey, now: number): Promise<boolean> {
  const keys = await store.signingKeys.list();
  if (keys.some((k) => k.retiredAt === null)) return false;
  await store.signingKeys.insert(await generateSigningKey(dataKey, now));
  return true;
}

/** Add a new signing key and retire the previous ones (they keep verifying until their tokens expire). */
export async function rotateSigningKey(store: Store, dataKey: SecretKey, now: number): Promise<SigningKeyRecord> {
  const fresh = await generateSigningKey(dataKey, now);
  await store.signingKeys.insert(fresh);
  await store.signingKeys.retireAllExcept(fresh.kid, now);
  return fresh;
}

/**
 * Stop publishing a retired key before its tokens expire (a suspected leak): once it leaves the
 * JWKS, every token it signed stops verifying (RFC 7515 §4.1.4: the `kid` names no published key).
 * The key that signs cannot go: the server would have nothing to sign with — rotate first.
 * Returns the record removed; callers audit (`signing_key.retired`).
 */
export async function retireSigningKeyNow(store: Store, kid: string): Promise<SigningKeyRecord> {
  const record = (await store.signingKeys.list()).find((k) => k.kid === kid);
  if (!record) throw new PortcullisError('not_found', `no signing key ${kid}`);
  if (record.retiredAt === null) throw new PortcullisError('conflict', `key ${kid} still signs tokens: rotate first, then retire it`);
  if (!(await store.signingKeys.deleteRetired(kid))) throw new PortcullisError('not_found', `no retired signing key ${kid}`);
  return record;
}

/**
 * Read the ring. `retention` = how long a retired key must stay published: the longest lifetime
 * of anything it signed (access and ID tokens), so verifiers never meet an unknown kid.
 */
export async function loadKeyRing(store: Store, dataKey: SecretKey, now: number, retention: number): Promise<KeyRing> {
  await store.signingKeys.deleteRetiredBefore(now - retention);
  const ordered = signingOrder(await store.signingKeys.list());
  if (ordered[0]?.retiredAt !== null) throw new Error('no active signing key (start the server once to create one)');
  const privateJwks = ordered.map((r): JWK => {
    const jwk = JSON.parse(open(dataKey, r.privateJwkSealed, contextFor(r.kid))) as JWK;
    return r.retiredAt === null ? jwk : { ...jwk, key_ops: ['verify'] };
  });
  const publicJwks = ordered.map((r) => JSON.parse(r.publicJwk) as JWK);
  return { privateJwks, publicJwks, version: fingerprint(ordered) };
}

/** Active keys (newest first) before retired ones: the engine signs with the first that fits. */
function signingOrder(records: SigningKeyRecord[]): SigningKeyRecord[] {
  return [...records.filter((r) => r.retiredAt === null), ...records.filter((r) => r.retiredAt !== null)];
}

function fingerprint(ordered: SigningKeyRecord[]): string {
  return ordered.map((r) => `${r.kid}:${r.retiredAt ?? ''}`).join(',');
}

/** Cheap fingerprint of the key set, polled by every process to notice a rotation. */
export async function keyRingVersion(store: Store): Promise<string> {
  return fingerprint(signingOrder(await store.signingKeys.list()));
}
