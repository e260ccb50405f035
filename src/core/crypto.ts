/**
 * Secrets at rest and the small primitives built on node:crypto.
 *
 * One 32-byte root secret (from config, or generated into the data directory with mode 0600)
 * is never used directly: purpose-specific keys are derived from it with HKDF-SHA-256
 * (RFC 5869), so the data-encryption key, the hashing pepper and the cookie keys are
 * independent of each other and of the token-signing keys (which are random ES256 keys,
 * stored encrypted under the data-encryption key).
 */
import {
  argon2,
  createSecretKey,
  type KeyObject,
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from 'node:crypto';
import { promisify } from 'node:util';

const argon2Async = promisify(argon2);

/**
 * A symmetric key. Derived secrets are KeyObjects: node:crypto checks and converts a raw Buffer key
 * on every HMAC or cipher call, which costs several times the operation itself on hot paths.
 */
export type SecretKey = KeyObject | Buffer;

export interface DerivedSecrets {
  /** AES-256-GCM key for envelope encryption of signing keys and refresh-token payloads. */
  readonly dataKey: KeyObject;
  /** HMAC-SHA-256 key ("pepper") for client secrets, API keys and bearer-secret ids. */
  readonly pepper: KeyObject;
  /** Keys the engine and our pages sign cookies with (newest first). */
  readonly cookieKeys: string[];
  /** Key for CSRF tokens. */
  readonly csrfKey: KeyObject;
}

function derive(root: Buffer, label: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), `portcullis/${label}/v1`, length));
}

export function deriveSecrets(root: Buffer): DerivedSecrets {
  if (root.length < 32) throw new Error('root secret must be at least 32 bytes');
  return {
    dataKey: createSecretKey(derive(root, 'data-encryption')),
    pepper: createSecretKey(derive(root, 'pepper')),
    cookieKeys: [derive(root, 'cookies').toString('base64url')],
    csrfKey: createSecretKey(derive(root, 'csrf')),
  };
}

const ENVELOPE_VERSION = 'v1';

/**
 * Encrypt with AES-256-GCM under the data key. Output: `v1.<iv>.<ciphertext>.<tag>` (base64url).
 * `context` is bound as additional authenticated data so a ciphertext cannot be moved between
 * records (e.g. one token's payload swapped into another's row).
 */
export function seal(key: SecretKey, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [ENVELOPE_VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export function open(key: SecretKey, sealed: string, context: string): string {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== ENVELOPE_VERSION || !iv || body === undefined || !tag) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/**
 * Keyed hash for high-entropy secrets (client secrets, API keys, bearer-secret ids).
 * A slow hash buys nothing when the secret has 256 bits of entropy; the pepper means a stolen
 * database alone cannot be used to test guesses.
 */
export function keyedHash(pepper: SecretKey, value: string): string {
  return createHmac('sha256', pepper).update(value).digest('base64url');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniformly random base62 string (rejection-free via randomInt). */
export function randomBase62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(62)];
  return out;
}

/** A random opaque id or secret: 32 bytes, base64url (256 bits). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

// Argon2id for passwords (OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1).
const ARGON = { memory: 19456, passes: 2, parallelism: 1, tagLength: 32 } as const;

/** Hash a password into a PHC string: `$argon2id$v=19$m=…,t=…,p=…$salt$hash`. */
export async function hashPassword(password: string): Promise<string> {
  const nonce = randomBytes(16);
  const hash = await argon2Async('argon2id', { message: password, nonce, ...ARGON });
  return `$argon2id$v=19$m=${ARGON.memory},t=${ARGON.passes},p=${ARGON.parallelism}$${nonce.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([\w-]+)\$([\w-]+)$/.exec(phc);
  if (!match) return false;
  const [, memory, passes, parallelism, salt, expected] = match;
  const expectedBytes = Buffer.from(expected!, 'base64url');
  let actual: Buffer;
  try {
    actual = await argon2Async('argon2id', {
      message: password,
      nonce: Buffer.from(salt!, 'base64url'),
      memory: Number(memory),
      passes: Number(passes),
      parallelism: Number(parallelism),
      tagLength: expectedBytes.length,
    });
  } catch {
    // A stored hash whose salt, tag or parameters node:crypto refuses (a damaged record) is a
    // non-match, as for any other malformed PHC string — not an exception that becomes a 500.
    return false;
  }
  return timingSafeEqual(actual, expectedBytes);
}

/** A password hash to compare against when the account does not exist, so timing does not reveal it. */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomToken());
  return decoyHash;
}
