/**
 * The identity services on a real store (SQLite, and PostgreSQL when configured), without HTTP:
 * an organization `acme` with ada (owner), a revocation list and a grant revoker wired as the
 * server wires them, and helpers to give a user a grant (engine artifacts + grant context) and a key.
 */
import type { Store } from '../../src/store/store.ts';
import type { Org } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import { randomBytes } from 'node:crypto';
import { createGrantRevoker } from '../../src/revocation/grant-revoker.ts';
import { RevocationList } from '../../src/revocation/revocation-list.ts';
import type { IdentityDeps } from '../../src/identity/context.ts';
import type { StoreUnderTest } from '../helpers/stores.ts';
import type { OrgRole } from '../../src/core/roles.ts';

export interface IdentityFixture {
  store: Store;
  deps: IdentityDeps;
  revocations: RevocationList;
  org: Org;
  ada: User;
  /** A user, member of `org` (or none when role is null). */
  person(email: string, role?: OrgRole | null, org?: Org): Promise<User>;
  /** A grant the user gave a client for `org`: a stored Grant, a refresh token, and its context. */
  grant(user: User, org: Org, grantId: string): Promise<void>;
  now: () => number;
}

export async function identityFixture(target: StoreUnderTest): Promise<IdentityFixture> {
  const store = await target.make();
  const now = () => Math.floor(Date.now() / 1000);
  const retention = 1800 + 10;
  const revocations = new RevocationList(store.revocations, now);
  const revokeGrant = createGrantRevoker({ store, now, retention, onRevoked: (id) => revocations.apply({ kind: 'grant', id, expiresAt: now() + retention }) });
  const deps: IdentityDeps = { store, pepper: randomBytes(32), now, revokeGrant, revocations, retention };
  const org = await store.orgs.create({ slug: 'acme', name: 'Acme' });
  const person = async (email: string, role: OrgRole | null = 'member', inOrg = org) => {
    const user = await store.users.create({ email });
    if (role) await store.orgs.addMember(inOrg.id, user.id, role, now());
    return user;
  };
  const ada = await person('ada@example.com', 'owner');
  const grant = async (user: User, inOrg: Org, grantId: string) => {
    await store.oidc.upsert({ model: 'Grant', id: grantId, grantId, payload: JSON.stringify({ accountId: user.id, clientId: 'c1', resources: { 'https://mcp.example': 'demo:read' } }), accountId: user.id, expiresAt: now() + 3600 });
    await store.oidc.upsert({ model: 'RefreshToken', id: `rt-${grantId}`, payload: '{}', grantId, expiresAt: now() + 3600 });
    await store.grantContexts.put({ grantId, userId: user.id, clientId: 'c1', orgId: inOrg.id, createdAt: now() });
  };
  return { store, deps, revocations, org, ada, person, grant, now };
}
