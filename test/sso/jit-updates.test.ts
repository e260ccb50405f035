/**
 * What later SSO sign-ins change, on both stores: workspace / project memberships from the IdP's
 * groups (granted, role-changed and taken away — only those the connection granted, never an
 * administrator's), and the e-mail address (only a verified address in the connection's own
 * domains that no other account has: no takeover, no merge).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigInput } from '../../src/core/config.ts';
import type { SsoConnection } from '../../src/core/identity-providers.ts';
import { ssoAccount } from '../../src/identity/sso-accounts.ts';
import { removeResourceMember, setResourceMember } from '../../src/identity/workspace-tree.ts';
import type { IdentityDeps } from '../../src/identity/context.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Store } from '../../src/store/store.ts';
import { storesUnderTest } from '../helpers/stores.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-sso-jit-'));
const ISSUER = 'https://idp.acme.test';

function connectionFor(extra: Record<string, unknown> = {}): SsoConnection {
  const base = { id: 'acme', type: 'oidc', name: 'Acme SSO', issuer: ISSUER, clientId: 'c', clientSecret: 's', domains: ['acme.test'] };
  const organization = `org-${Math.random().toString(36).slice(2, 8)}`;
  return loadConfig({ env: {}, cwd: dir, overrides: { identityProviders: [{ ...base, organization, ...extra }] } as ConfigInput }).identityProviders[0]!;
}

for (const target of storesUnderTest()) {
  describe(`later SSO sign-ins (${target.name})`, { skip: target.skip }, async () => {
    const now = () => Math.floor(Date.now() / 1000);
    const store: Store = await target.make();
    const audit = new AuditLog(store, silentLogger(), now);
    const warnings: unknown[] = [];
    const deps = { store, audit, now, log: { warn: (detail: unknown) => void warnings.push(detail) } };
    const identity = { store, now } as unknown as IdentityDeps;
    after(() => audit.flush());

    const signIn = async (connection: SsoConnection, sub: string, extra: Record<string, unknown> = {}) => {
      const account = await ssoAccount(deps, connection, { iss: ISSUER, sub, email: `${sub}@acme.test`, email_verified: true, ...extra });
      assert.ok(account.kind === 'ok', JSON.stringify(account));
      return account;
    };
    const roles = async (orgId: string, userId: string) =>
      Object.fromEntries((await store.orgs.resourceMembers(orgId, userId)).map((m) => [m.resourceId, m.role]));
    const records = async (kind: string, subject: string) => {
      await audit.flush();
      return (await store.audit.list({ kind, order: 'asc', limit: 1000 })).filter((r) => r.subject === subject);
    };

    /** An organization with workspaces "Engineering" (project "MCP") and "Sales", made before anyone signs in. */
    async function tree(connection: SsoConnection) {
      const org = await store.orgs.create({ slug: connection.organization, name: connection.organization });
      const at = now();
      const engineering = await store.orgs.createResource({ orgId: org.id, kind: 'workspace', parentId: null, name: 'Engineering', at });
      const mcp = await store.orgs.createResource({ orgId: org.id, kind: 'project', parentId: engineering.id, name: 'MCP', at });
      const sales = await store.orgs.createResource({ orgId: org.id, kind: 'workspace', parentId: null, name: 'Sales', at });
      return { org, engineering, mcp, sales };
    }

    test('groups grant workspace and project memberships, change their role, and take them away when the group is gone', async () => {
      const connection = connectionFor({
        memberships: {
          eng: [{ workspace: 'engineering' }, { workspace: 'Engineering', project: 'mcp', role: 'editor' }],
          'mcp-leads': [{ workspace: 'Engineering', project: 'MCP', role: 'manager' }],
          sellers: [{ workspace: 'Sales' }],
        },
      });
      const { org, engineering, mcp, sales } = await tree(connection);
      const sub = `m${Date.now()}`;
      const first = await signIn(connection, sub, { groups: ['eng', 'sellers'] });
      assert.deepEqual(await roles(org.id, first.user.id), { [engineering.id]: 'viewer', [mcp.id]: 'editor', [sales.id]: 'viewer' });
      assert.equal((await records('sso.membership.added', first.user.id)).length, 3);

      await signIn(connection, sub, { groups: ['eng', 'mcp-leads'] });
      assert.deepEqual(await roles(org.id, first.user.id), { [engineering.id]: 'viewer', [mcp.id]: 'manager' }, 'the highest role a group grants; Sales is gone with its group');
      assert.equal((await records('sso.membership.changed', first.user.id)).length, 1);
      assert.deepEqual((await records('sso.membership.removed', first.user.id)).map((r) => r.details?.resource), [sales.id]);

      await signIn(connection, sub, { groups: [] });
      assert.deepEqual(await roles(org.id, first.user.id), {}, 'no group, no membership the connection granted');
    });

    test('a membership an administrator granted by hand is never taken away, nor re-roled, by the groups', async () => {
      const connection = connectionFor({ memberships: { eng: [{ workspace: 'Engineering' }], sellers: [{ workspace: 'Sales', role: 'editor' }] } });
      const { org, engineering, sales } = await tree(connection);
      const sub = `h${Date.now()}`;
      const first = await signIn(connection, sub, { groups: [] });
      // By hand, before any group granted it; and an SSO grant an administrator then changes.
      await setResourceMember(identity, org.id, sales.id, first.user.id, 'manager');
      await signIn(connection, sub, { groups: ['eng', 'sellers'] });
      assert.deepEqual(await roles(org.id, first.user.id), { [engineering.id]: 'viewer', [sales.id]: 'manager' }, 'the hand-granted role stays');
      await setResourceMember(identity, org.id, engineering.id, first.user.id, 'editor');
      await signIn(connection, sub, { groups: [] });
      assert.deepEqual(await roles(org.id, first.user.id), { [engineering.id]: 'editor', [sales.id]: 'manager' }, 'both are the administrator’s now');
      assert.equal((await records('sso.membership.removed', first.user.id)).length, 0);

      // Removed by hand, then granted again by the group: the connection's again, and goes with the group.
      await removeResourceMember(identity, org.id, engineering.id, first.user.id);
      await signIn(connection, sub, { groups: ['eng'] });
      assert.equal((await roles(org.id, first.user.id))[engineering.id], 'viewer');
      await signIn(connection, sub, { groups: [] });
      assert.equal((await roles(org.id, first.user.id))[engineering.id], undefined);
    });

    test('a workspace or project that does not exist (or is named twice) grants nothing and is logged, never created', async () => {
      const connection = connectionFor({ memberships: { eng: [{ workspace: 'Nowhere' }, { workspace: 'Engineering', project: 'Missing' }, { workspace: 'Twice' }] } });
      const { org } = await tree(connection);
      for (let i = 0; i < 2; i++) await store.orgs.createResource({ orgId: org.id, kind: 'workspace', parentId: null, name: 'Twice', at: now() });
      const before = (await store.orgs.resources(org.id)).length;
      warnings.length = 0;
      const first = await signIn(connection, `n${Date.now()}`, { groups: ['eng'] });
      assert.deepEqual(await roles(org.id, first.user.id), {});
      assert.equal((await store.orgs.resources(org.id)).length, before, 'nothing created');
      assert.deepEqual(warnings.map((w) => (w as { problem: string }).problem).sort(), ['ambiguous', 'missing', 'missing']);
    });

    test('a verified address in the connection’s domain becomes the account’s e-mail; audited', async () => {
      const connection = connectionFor();
      const sub = `e${Date.now()}`;
      const first = await signIn(connection, sub);
      const renamed = await signIn(connection, sub, { email: `Renamed-${sub}@ACME.test` });
      assert.equal(renamed.user.id, first.user.id);
      assert.equal((await store.users.findById(first.user.id))!.email, `renamed-${sub}@acme.test`);
      assert.equal((await store.users.findByEmail(`${sub}@acme.test`)), undefined, 'the old address is free');
      assert.equal((await records('sso.email.changed', first.user.id)).length, 1);
    });

    test('no takeover through an e-mail update: unverified, foreign-domain or another account’s address is not taken', async () => {
      const connection = connectionFor({ domains: ['acme.test'] });
      const sub = `t${Date.now()}`;
      const first = await signIn(connection, sub);
      const original = first.user.email;
      const victim = await store.users.create({ email: `victim-${sub}@acme.test`, passwordHash: 'x' });
      await signIn(connection, sub, { email: `other-${sub}@acme.test`, email_verified: false });
      await signIn(connection, sub, { email: `${sub}@evil.test` });
      await signIn(connection, sub, { email: victim.email.toUpperCase() });
      assert.equal((await store.users.findById(first.user.id))!.email, original, 'the old address stays');
      assert.equal((await store.users.findByEmail(victim.email))!.id, victim.id, 'the other account keeps its address: never merged');
      assert.deepEqual(await store.ssoLinks.forUser(victim.id), [], 'and gets no link');
      const conflicts = await records('sso.email.conflict', first.user.id);
      assert.deepEqual(conflicts.map((r) => r.reason), ['email_taken']);
    });

    test('store: setEmail changes the address unless another account has it (case-insensitively)', async () => {
      const a = await store.users.create({ email: `a${Date.now()}@x.test` });
      const b = await store.users.create({ email: `b${Date.now()}@x.test` });
      assert.equal(await store.users.setEmail(a.id, b.email.toUpperCase()), 'taken');
      assert.equal(await store.users.setEmail(a.id, `A2-${a.id}@x.test`), 'ok');
      assert.equal((await store.users.findByEmail(`a2-${a.id}@x.test`))?.id, a.id);
      assert.equal(await store.users.setEmail('usr_unknown', 'nobody@x.test'), 'not_found');
      const both = await Promise.all([store.users.setEmail(a.id, `race-${a.id}@x.test`), store.users.setEmail(b.id, `race-${a.id}@x.test`)]);
      assert.deepEqual(both.sort(), ['ok', 'taken'], 'one address, one account');
    });
  });
}
