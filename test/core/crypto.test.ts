/**
 * The primitives in src/core/crypto.ts: purpose-separated keys derived from the root secret,
 * AES-256-GCM envelopes bound to a context, keyed hashes, random identifiers, Argon2id passwords.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  constantTimeEqual,
  decoyPasswordHash,
  deriveSecrets,
  hashPassword,
  keyedHash,
  open,
  randomBase62,
  randomToken,
  seal,
  verifyPassword,
} from '../../src/core/crypto.ts';

const root = randomBytes(32);
const { dataKey, pepper } = deriveSecrets(root);

/** Flip one bit of one base64url field of a sealed value. */
function tamper(sealed: string, field: 1 | 2 | 3): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[field]!, 'base64url');
  bytes[0]! ^= 0x01;
  parts[field] = bytes.toString('base64url');
  return parts.join('.');
}

describe('deriveSecrets', () => {
  it('derives independent keys per purpose, the same ones from the same root every time', () => {
    const a = deriveSecrets(root);
    const again = deriveSecrets(Buffer.from(root));
    const other = deriveSecrets(randomBytes(32));
    const raw = (s: typeof a) => [s.dataKey, s.pepper, s.csrfKey].map((k) => k.export().toString('hex')).concat(s.cookieKeys);
    assert.deepEqual(raw(again), raw(a), 'deterministic: every process sharing the root agrees');
    assert.equal(a.dataKey.symmetricKeySize, 32);
    const material = [a.dataKey.export(), a.pepper.export(), a.csrfKey.export(), Buffer.from(a.cookieKeys[0]!, 'base64url')].map((b) => b.toString('hex'));
    assert.equal(new Set(material).size, 4, 'no two purposes share a key');
    assert.ok(!material.includes(root.toString('hex')), 'the root itself is never used directly');
    assert.notDeepEqual(raw(other), raw(a));
  });

  it('refuses a root shorter than 32 bytes', () => {
    assert.throws(() => deriveSecrets(randomBytes(31)));
  });
});

describe('seal / open (AES-256-GCM envelopes)', () => {
  it('round-trips text, including empty and non-ASCII, in the v1.<iv>.<ciphertext>.<tag> format', () => {
    for (const text of ['{"refresh":"token"}', '', 'größe 🔑 ключ']) {
      const sealed = seal(dataKey, text, 'RefreshToken:abc');
      assert.match(sealed, /^v1\.[\w-]+\.[\w-]*\.[\w-]+$/);
      assert.ok(!sealed.includes(text) || text === '');
      assert.equal(open(dataKey, sealed, 'RefreshToken:abc'), text);
    }
  });

  it('uses a fresh IV every time (the same plaintext never seals the same way)', () => {
    const a = seal(dataKey, 'same', 'ctx');
    const b = seal(dataKey, 'same', 'ctx');
    assert.notEqual(a, b);
    assert.notEqual(a.split('.')[1], b.split('.')[1]);
  });

  it('binds the context: a value moved to another record does not open', () => {
    const sealed = seal(dataKey, 'payload of token A', 'RefreshToken:A');
    assert.throws(() => open(dataKey, sealed, 'RefreshToken:B'));
    assert.throws(() => open(dataKey, sealed, 'Grant:A'));
    assert.throws(() => open(dataKey, sealed, ''));
  });

  it('detects tampering with the IV, the ciphertext or the tag, and refuses the wrong key', () => {
    const sealed = seal(dataKey, 'do not touch', 'ctx');
    for (const field of [1, 2, 3] as const) assert.throws(() => open(dataKey, tamper(sealed, field), 'ctx'), `field ${field}`);
    assert.throws(() => open(deriveSecrets(randomBytes(32)).dataKey, sealed, 'ctx'));
    assert.throws(() => open(pepper, sealed, 'ctx'), 'another purpose\'s key does not open it either');
  });

  it('refuses what is not an envelope: other versions, missing parts, truncated tags', () => {
    const sealed = seal(dataKey, 'x', 'ctx');
    const [, iv, body, tag] = sealed.split('.');
    for (const bad of [`v2.${iv}.${body}.${tag}`, `v1.${iv}.${body}`, `v1.${iv}.${body}.`, `v1.${iv}.${body}.${tag!.slice(0, 8)}`, 'plain text', '']) {
      assert.throws(() => open(dataKey, bad, 'ctx'), bad);
    }
  });
});

describe('keyedHash', () => {
  it('is deterministic for one pepper, differs between peppers and values, and hides the value', () => {
    const value = 'pcs_0123456789abcdef';
    const hash = keyedHash(pepper, value);
    assert.equal(keyedHash(pepper, value), hash);
    assert.match(hash, /^[\w-]{43}$/, 'HMAC-SHA-256, base64url');
    assert.notEqual(keyedHash(deriveSecrets(randomBytes(32)).pepper, value), hash, 'a stolen database alone cannot test guesses');
    assert.notEqual(keyedHash(pepper, `${value}x`), hash);
    assert.ok(!hash.includes(value));
  });

  it('constantTimeEqual compares exactly, including different lengths', () => {
    assert.equal(constantTimeEqual('abc', 'abc'), true);
    assert.equal(constantTimeEqual('abc', 'abd'), false);
    assert.equal(constantTimeEqual('abc', 'abcd'), false);
    assert.equal(constantTimeEqual('', ''), true);
  });
});

describe('random identifiers', () => {
  it('randomBase62 has the requested length and only [0-9A-Za-z], and uses the whole alphabet', () => {
    assert.equal(randomBase62(0), '');
    const long = randomBase62(20_000);
    assert.equal(long.length, 20_000);
    assert.match(long, /^[0-9A-Za-z]+$/);
    assert.equal(new Set(long).size, 62);
    assert.notEqual(randomBase62(24), randomBase62(24));
  });

  it('randomToken is 256 bits of base64url by default, never repeating', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomToken()));
    assert.equal(tokens.size, 1000);
    for (const token of tokens) assert.match(token, /^[\w-]{43}$/);
    assert.equal(Buffer.from(randomToken(16), 'base64url').length, 16);
  });
});

describe('passwords (Argon2id)', () => {
  it('hashes into a PHC string with the OWASP parameters and a fresh salt, and verifies only the right password', async () => {
    const password = 'correct horse battery staple';
    const [a, b] = await Promise.all([hashPassword(password), hashPassword(password)]);
    assert.match(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[\w-]{22}\$[\w-]{43}$/);
    assert.notEqual(a, b, 'a fresh salt each time');
    assert.equal(await verifyPassword(password, a), true);
    assert.equal(await verifyPassword(password, b), true);
    assert.equal(await verifyPassword('correct horse battery stapler', a), false);
    assert.equal(await verifyPassword('', a), false);
  });

  it('handles non-ASCII passwords byte-exactly', async () => {
    const hash = await hashPassword('pässwörd-🔐-пароль');
    assert.equal(await verifyPassword('pässwörd-🔐-пароль', hash), true);
    assert.equal(await verifyPassword('passwörd-🔐-пароль', hash), false);
  });

  it('answers false (never throws) for hashes that are not argon2id PHC strings', async () => {
    const damaged = [
      '$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo', // memory below the minimum
      '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaGhhc2hoYXNo', // 4-byte salt
      '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aA', // 1-byte tag
    ];
    for (const bad of ['', 'plaintext', '$2b$10$abcdefghijklmnopqrstuv', '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA', '$argon2id$v=18$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA', ...damaged]) {
      assert.equal(await verifyPassword('anything', bad), false, bad);
    }
  });

  it('checks the parameters recorded in the PHC string: changing one fails verification', async () => {
    const hash = await hashPassword('parameters travel with the hash');
    const tampered = hash.replace('t=2', 't=3');
    assert.equal(await verifyPassword('parameters travel with the hash', hash), true);
    assert.equal(await verifyPassword('parameters travel with the hash', tampered), false);
  });

  it('offers a decoy hash to compare against when the account does not exist', async () => {
    const decoy = await decoyPasswordHash();
    assert.match(decoy, /^\$argon2id\$/);
    assert.equal(await decoyPasswordHash(), decoy, 'computed once');
    assert.equal(await verifyPassword('correct horse battery staple', decoy), false);
  });
});
