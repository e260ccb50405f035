/**
 * How one engine model's rows look at rest (adapter.ts): ids that are bearer secrets (codes,
 * refresh tokens, sessions…) are stored as keyed hashes, so a copy of the database cannot be
 * replayed; refresh-token payloads are sealed with the data-encryption key, bound to their row.
 */
import type { AdapterPayload } from 'oidc-provider';
import type { OidcRecord } from '../store/oidc.ts';
import { keyedHash, open, seal, type DerivedSecrets } from '../core/crypto.ts';

/** Models whose id is itself a credential. */
const HASHED_IDS = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'AccessToken',
  'ClientCredentials',
  'RegistrationAccessToken',
  'InitialAccessToken',
  'Session',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
]);

/** Models whose payload is encrypted at rest. */
const SEALED_PAYLOADS = new Set(['RefreshToken']);

export class PayloadCodec {
  readonly #model: string;
  readonly #secrets: DerivedSecrets;

  constructor(model: string, secrets: DerivedSecrets) {
    this.#model = model;
    this.#secrets = secrets;
  }

  /** The row id an engine id is stored under. */
  key(id: string): string {
    return HASHED_IDS.has(this.#model) ? keyedHash(this.#secrets.pepper, `${this.#model}:${id}`) : id;
  }

  /** The stored payload; `consumed` lives in its own column. */
  encode(key: string, payload: AdapterPayload): string {
    const { consumed: _consumed, ...rest } = payload;
    const json = JSON.stringify(rest);
    return SEALED_PAYLOADS.has(this.#model) ? seal(this.#secrets.dataKey, json, `${this.#model}:${key}`) : json;
  }

  decode(record: OidcRecord): AdapterPayload {
    const json = SEALED_PAYLOADS.has(this.#model) ? open(this.#secrets.dataKey, record.payload, `${this.#model}:${record.id}`) : record.payload;
    const payload = JSON.parse(json) as AdapterPayload;
    if (record.consumedAt !== null) payload.consumed = record.consumedAt;
    return payload;
  }
}
