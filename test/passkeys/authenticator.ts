/**
 * A software WebAuthn authenticator for tests, built from the spec (WebAuthn Level 3 §6.1
 * authenticator data, §6.5.4 attestation "none", §5.8.1 client data) with node:crypto: an ES256
 * (P-256) key per credential, a signature counter, and a user handle kept for discoverable use.
 * Every field a browser would fill in can be overridden, to attack the server with it.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

export interface Credential {
  id: string;
  privateKey: KeyObject;
  /** COSE_Key (RFC 9053 §7.1.1, EC2 / P-256 / ES256), CBOR-encoded. */
  cose: Buffer;
  counter: number;
  userHandle: string;
  rpId: string;
}

/** What a ceremony may be made to say instead of the truth. */
export interface Tamper {
  origin?: string;
  rpId?: string;
  /** Leave out user verification (flag UV, §6.1). */
  noUv?: boolean;
  /** The counter to sign (default: one more than the last). */
  counter?: number;
  /** Another challenge than the one asked for. */
  challenge?: string;
  /** Answer with this credential (default: the first one for the RP, or those the options allow). */
  credentialId?: string;
  /** The user handle to return (default: the credential's). */
  userHandle?: string;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();

// Minimal CBOR (RFC 8949): unsigned/negative ints, byte and text strings, maps — all the COSE key and attestation object need.
function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 256) return Buffer.from([(major << 5) | 24, length]);
  return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
}
const cborInt = (n: number) => (n >= 0 ? head(0, n) : head(1, -1 - n));
const cborBytes = (b: Buffer) => Buffer.concat([head(2, b.length), b]);
const cborText = (s: string) => Buffer.concat([head(3, Buffer.byteLength(s)), Buffer.from(s)]);
const cborMap = (entries: [Buffer, Buffer][]) => Buffer.concat([head(5, entries.length), ...entries.flat()]);

function coseKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const y = Buffer.from(jwk.y!, 'base64url');
  // kty 2 (EC2), alg -7 (ES256), crv 1 (P-256), x, y.
  return cborMap([
    [cborInt(1), cborInt(2)],
    [cborInt(3), cborInt(-7)],
    [cborInt(-1), cborInt(1)],
    [cborInt(-2), cborBytes(x)],
    [cborInt(-3), cborBytes(y)],
  ]);
}

function counterBytes(counter: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(counter);
  return b;
}

/** UP (user present) always; UV unless refused; BE/BS off (a device-bound key). */
const flags = (uv: boolean, attested: boolean) => 0x01 | (uv ? 0x04 : 0) | (attested ? 0x40 : 0);

function clientData(type: string, challenge: string, origin: string): string {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false })).toString('base64url');
}

type RegistrationOptions = { challenge: string; rp: { id?: string }; user: { id: string } };
type AuthenticationOptions = { challenge: string; rpId?: string; allowCredentials?: { id: string }[] };

export class SoftAuthenticator {
  readonly credentials: Credential[] = [];
  readonly origin: string;

  constructor(origin: string) {
    this.origin = origin;
  }

  /** Answer navigator.credentials.create (attestation "none"). */
  register(options: RegistrationOptions, tamper: Tamper = {}): Record<string, unknown> {
    const rpId = tamper.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const id = randomBytes(16);
    const credential: Credential = { id: id.toString('base64url'), privateKey, cose: coseKey(publicKey), counter: 0, userHandle: options.user.id, rpId };
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const authData = Buffer.concat([sha256(rpId), Buffer.from([flags(!tamper.noUv, true)]), counterBytes(0), Buffer.alloc(16), idLength, id, credential.cose]);
    const attestationObject = cborMap([
      [cborText('fmt'), cborText('none')],
      [cborText('attStmt'), cborMap([])],
      [cborText('authData'), cborBytes(authData)],
    ]);
    this.credentials.push(credential);
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientData('webauthn.create', tamper.challenge ?? options.challenge, tamper.origin ?? this.origin),
        attestationObject: attestationObject.toString('base64url'),
        transports: ['internal'],
      },
      clientExtensionResults: {},
    };
  }

  /** Answer navigator.credentials.get: sign authenticator data ‖ SHA-256(client data) (§6.3.3). */
  assert(options: AuthenticationOptions, tamper: Tamper = {}): Record<string, unknown> {
    const credential = this.#pick(options, tamper.credentialId);
    const rpId = tamper.rpId ?? options.rpId ?? credential.rpId;
    credential.counter = tamper.counter ?? credential.counter + 1;
    const authData = Buffer.concat([sha256(rpId), Buffer.from([flags(!tamper.noUv, false)]), counterBytes(credential.counter)]);
    const clientDataJSON = clientData('webauthn.get', tamper.challenge ?? options.challenge, tamper.origin ?? this.origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]), credential.privateKey);
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        userHandle: tamper.userHandle ?? credential.userHandle,
      },
      clientExtensionResults: {},
    };
  }

  #pick(options: AuthenticationOptions, id?: string): Credential {
    const allowed = options.allowCredentials?.map((c) => c.id);
    const found = this.credentials.find((c) => (id ? c.id === id : !allowed?.length || allowed.includes(c.id)));
    if (!found) throw new Error('no credential for these options');
    return found;
  }
}
