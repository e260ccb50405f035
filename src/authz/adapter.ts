/**
 * The protocol engine's storage adapter (oidc-provider's 7-method interface) built on the Store.
 *
 * What it adds to plain storage:
 * - ids that are bearer secrets (codes, refresh tokens, sessions…) are stored as keyed hashes, so
 *   a copy of the database cannot be replayed;
 * - refresh-token payloads are sealed with the data-encryption key;
 * - consuming a one-time artifact is one conditional statement; the loser of a race gets
 *   `invalid_grant` and, as for any code reuse, the grant is revoked (RFC 6749 §4.1.2);
 * - refresh tokens follow the grace rule in refresh-family.ts;
 * - revoking a grant is published as a revocation event, so guards refuse its JWT access tokens
 *   (which the engine never stores);
 * - clients live in their own table with their secrets hashed (see clients.ts).
 */
import type { Store } from '../store/store.ts';
import type { ClientRecordKind } from '../store/clients.ts';
import type { OidcRecord } from '../store/oidc.ts';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { keyedHash, open, seal, type DerivedSecrets } from '../core/crypto.ts';
import { clientFromRecord, clientToRecord } from './clients.ts';
import type { GrantRevoker } from '../revocation/grant-revoker.ts';
import { RefreshFamily } from './refresh-family.ts';

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

export function createAdapterClass(deps: AdapterDeps): AdapterConstructor {
  const { store, secrets, now, revokeGrant } = deps;
  const family = new RefreshFamily(store.oidc, deps.refreshGraceSeconds);

  return class StoreAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    key(id: string): string {
      return HASHED_IDS.has(this.model) ? keyedHash(secrets.pepper, `${this.model}:${id}`) : id;
    }

    encode(key: string, payload: AdapterPayload): string {
      const { consumed: _consumed, ...rest } = payload;
      const json = JSON.stringify(rest);
      return SEALED_PAYLOADS.has(this.model) ? seal(secrets.dataKey, json, `${this.model}:${key}`) : json;
    }

    decode(record: OidcRecord): AdapterPayload {
      const json = SEALED_PAYLOADS.has(this.model) ? open(secrets.dataKey, record.payload, `${this.model}:${record.id}`) : record.payload;
      const payload = JSON.parse(json) as AdapterPayload;
      if (record.consumedAt !== null) payload.consumed = record.consumedAt;
      return payload;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.model === 'Client') {
        await store.clients.upsert(clientToRecord(payload, secrets.pepper, 'dynamic'));
        return;
      }
      const key = this.key(id);
      const parentId = this.model === 'RefreshToken' ? family.parentFor(key) : null;
      await store.oidc.upsert({
        model: this.model,
        id: key,
        payload: this.encode(key, payload),
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
      if (this.model === 'RefreshToken') await family.afterIssue(key, parentId, now());
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        const record = await store.clients.find(id);
        return record && deps.allowedClientKinds.has(record.kind) ? clientFromRecord(record) : undefined;
      }
      return this.load(await store.oidc.find(this.model, this.key(id)));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.load(await store.oidc.findByUid(this.model, uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.load(await store.oidc.findByUserCode(this.model, userCode));
    }

    async load(record: OidcRecord | undefined): Promise<AdapterPayload | undefined> {
      if (!record) return undefined;
      const at = now();
      if (record.expiresAt !== null && record.expiresAt <= at) return undefined;
      const payload = this.decode(record);
      if (this.model === 'RefreshToken') {
        if ((await family.judge(record, at)) === 'usable') delete payload.consumed;
        else payload.consumed = record.consumedAt ?? record.killedAt ?? at;
      }
      return payload;
    }

    async consume(id: string): Promise<void> {
      const key = this.key(id);
      const won = await store.oidc.consume(this.model, key, now());
      if (this.model === 'RefreshToken') {
        // A racer inside the grace window also lands here with won=false: that is allowed.
        // A sibling that lost its family to another sibling's use is reuse: revoke, as the engine does.
        if ((await family.afterUse(key, now())) === 'lost') {
          const record = await store.oidc.find(this.model, key);
          if (record?.grantId) await revokeGrant(record.grantId);
          throw new errors.InvalidGrant('refresh token already used');
        }
        return;
      }
      if (!won && ONE_TIME.has(this.model)) {
        const record = await store.oidc.find(this.model, key);
        if (record?.grantId) await revokeGrant(record.grantId);
        throw new errors.InvalidGrant(`${this.model === 'AuthorizationCode' ? 'authorization code' : 'code'} already used`);
      }
    }

    async destroy(id: string): Promise<void> {
      if (this.model === 'Client') {
        await store.clients.delete(id);
        return;
      }
      await store.oidc.destroy(this.model, this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await revokeGrant(grantId);
    }
  };
}
