/**
 * The protocol engine's storage adapter (oidc-provider's 7-method interface) built on the Store.
 *
 * What it adds to plain storage:
 * - ids that are bearer secrets (codes, refresh tokens, sessions…) are stored as keyed hashes, so
 *   a copy of the database cannot be replayed, and refresh-token payloads are sealed with the
 *   data-encryption key (adapter-codec.ts);
 * - consuming a one-time artifact is one conditional statement; the loser of a race gets
 *   `invalid_grant` and, as for any code reuse, the grant is revoked (RFC 6749 §4.1.2);
 * - refresh tokens follow the grace rule in refresh-family.ts;
 * - revoking a grant is published as a revocation event, so guards refuse its JWT access tokens
 *   (which the engine never stores);
 * - clients live in their own table with their secrets hashed (see clients.ts).
 */
import type { ClientRecordKind } from '../store/clients.ts';
import type { OidcRecord } from '../store/oidc.ts';
import type { Store } from '../store/store.ts';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { DerivedSecrets } from '../core/crypto.ts';
import type { GrantRevoker } from '../revocation/grant-revoker.ts';
import { PayloadCodec } from './adapter-codec.ts';
import { clientFromRecord, clientToRecord } from './clients.ts';
import { RefreshFamily } from './refresh-family.ts';

/** Models that may be redeemed once; a second redemption revokes the grant. */
const ONE_TIME = new Set(['AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

export interface AdapterDeps {
  store: Store;
  secrets: DerivedSecrets;
  refreshGraceSeconds: number;
  revokeGrant: GrantRevoker;
  now: () => number;
  /** Which stored kinds may be used (config `clientKinds`); others are treated as unknown. */
  allowedClientKinds: ReadonlySet<ClientRecordKind>;
}

export type AdapterConstructor = new (model: string) => Adapter;

/** The engine constructs one adapter per model, with the model's name only: the rest is bound here. */
export function createAdapterClass(deps: AdapterDeps): AdapterConstructor {
  const family = new RefreshFamily(deps.store.oidc, deps.refreshGraceSeconds);
  return class BoundStoreAdapter extends StoreAdapter {
    constructor(model: string) {
      super(model, deps, family);
    }
  };
}

class StoreAdapter implements Adapter {
  readonly model: string;
  readonly #deps: AdapterDeps;
  readonly #family: RefreshFamily;
  readonly #codec: PayloadCodec;

  constructor(model: string, deps: AdapterDeps, family: RefreshFamily) {
    this.model = model;
    this.#deps = deps;
    this.#family = family;
    this.#codec = new PayloadCodec(model, deps.secrets);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const { store, now } = this.#deps;
    if (this.model === 'Client') {
      await store.clients.upsert(clientToRecord(payload, this.#deps.secrets.pepper, 'dynamic'));
      return;
    }
    const key = this.#codec.key(id);
    const parentId = this.model === 'RefreshToken' ? this.#family.parentFor(key) : null;
    await store.oidc.upsert({
      model: this.model,
      id: key,
      payload: this.#codec.encode(key, payload),
      // A grant's own row carries its id, so revoking the grant removes it with its tokens.
      grantId: this.model === 'Grant' ? id : ((payload.grantId as string | undefined) ?? null),
      userCode: (payload.userCode as string | undefined) ?? null,
      uid: (payload.uid as string | undefined) ?? null,
      parentId,
      expiresAt: expiresIn ? now() + expiresIn : null,
      // Sessions and grants are findable by user: sign out everywhere, connected apps.
      accountId: this.model === 'Session' || this.model === 'Grant' ? ((payload.accountId as string | undefined) ?? null) : null,
    });
    if (payload.consumed) await store.oidc.consume(this.model, key, now());
    if (this.model === 'RefreshToken') await this.#family.afterIssue(key, parentId, now());
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const { store } = this.#deps;
    if (this.model === 'Client') {
      const record = await store.clients.find(id);
      return record && this.#deps.allowedClientKinds.has(record.kind) ? clientFromRecord(record) : undefined;
    }
    return this.#load(await store.oidc.find(this.model, this.#codec.key(id)));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#load(await this.#deps.store.oidc.findByUid(this.model, uid));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#load(await this.#deps.store.oidc.findByUserCode(this.model, userCode));
  }

  async #load(record: OidcRecord | undefined): Promise<AdapterPayload | undefined> {
    if (!record) return undefined;
    const at = this.#deps.now();
    if (record.expiresAt !== null && record.expiresAt <= at) return undefined;
    const payload = this.#codec.decode(record);
    if (this.model === 'RefreshToken') {
      if ((await this.#family.judge(record, at)) === 'usable') delete payload.consumed;
      else payload.consumed = record.consumedAt ?? record.killedAt ?? at;
    }
    return payload;
  }

  async consume(id: string): Promise<void> {
    const key = this.#codec.key(id);
    const won = await this.#deps.store.oidc.consume(this.model, key, this.#deps.now());
    if (this.model === 'RefreshToken') return this.#afterRefreshTokenUse(key);
    if (!won && ONE_TIME.has(this.model)) {
      await this.#revokeGrantOf(key);
      throw new errors.InvalidGrant(`${this.model === 'AuthorizationCode' ? 'authorization code' : 'code'} already used`);
    }
  }

  async #afterRefreshTokenUse(key: string): Promise<void> {
    // A racer inside the grace window also lands here with won=false: that is allowed.
    // A sibling that lost its family to another sibling's use is reuse: revoke, as the engine does.
    if ((await this.#family.afterUse(key, this.#deps.now())) === 'lost') {
      await this.#revokeGrantOf(key);
      throw new errors.InvalidGrant('refresh token already used');
    }
  }

  /** Reuse: the grant the artifact under `key` belongs to is revoked, with all its tokens. */
  async #revokeGrantOf(key: string): Promise<void> {
    const record = await this.#deps.store.oidc.find(this.model, key);
    if (record?.grantId) await this.#deps.revokeGrant(record.grantId);
  }

  async destroy(id: string): Promise<void> {
    if (this.model === 'Client') {
      await this.#deps.store.clients.delete(id);
      return;
    }
    await this.#deps.store.oidc.destroy(this.model, this.#codec.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#deps.revokeGrant(grantId);
  }
}
