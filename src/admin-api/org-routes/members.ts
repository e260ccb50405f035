/** `/orgs/:org/members`: who belongs, their roles (only owners touch owners), removal (grants and keys revoked at once). */
import type { Hono } from 'hono';
import { parseInput } from '../../core/input.ts';
import { readJson } from '../../http/json-body.ts';
import { membersOf, removeMember, setRole } from '../../identity/people.ts';
import { checkOrgManagerMayReset, resetSecondFactors } from '../../identity/mfa-reset.ts';
import type { OrgEnv } from '../deps.ts';
import { RoleSchema } from '../org-schemas.ts';
import { iso, type OrgRouteKit } from './kit.ts';

export function memberRoutes(api: Hono<OrgEnv>, { deps, ids, actor, audit }: OrgRouteKit): void {
  api.get('/orgs/:org/members', async (c) => {
    const members = await membersOf(ids, c.get('org').id);
    const rows = members.map(({ member: m, user }) => ({ userId: m.userId, email: user?.email ?? null, name: user?.name ?? null, role: m.role, disabled: user?.disabledAt != null, joinedAt: iso(m.createdAt) }));
    return c.json({ members: rows });
  });

  api.patch('/orgs/:org/members/:userId', async (c) => {
    const { role } = parseInput(RoleSchema, await readJson(c, true));
    const org = c.get('org');
    const userId = c.req.param('userId');
    await setRole(ids, actor(c), org.id, userId, role);
    await audit(c, 'admin.member.role', { subject: userId, details: { role } });
    deps.log.info({ event: 'admin.member.role', org: org.id, user: userId, role, by: c.get('admin').label }, 'role changed');
    return c.json({ userId, role });
  });

  api.delete('/orgs/:org/members/:userId', async (c) => {
    const org = c.get('org');
    const userId = c.req.param('userId');
    const revoked = await removeMember(ids, actor(c), org.id, userId);
    await audit(c, 'admin.member.removed', { subject: userId, details: revoked });
    deps.log.info({ event: 'admin.member.removed', org: org.id, user: userId, by: c.get('admin').label, ...revoked }, 'member removed');
    return c.json({ removed: userId, revoked });
  });

  api.post('/orgs/:org/members/:userId/reset-mfa', async (c) => {
    const org = c.get('org');
    const userId = c.req.param('userId');
    await checkOrgManagerMayReset(ids, actor(c), org.id, userId);
    const reset = await resetSecondFactors(ids, userId);
    await audit(c, 'admin.member.mfa_reset', { subject: userId, details: { ...reset } });
    deps.log.info({ event: 'admin.member.mfa_reset', org: org.id, user: userId, by: c.get('admin').label, ...reset }, 'second factors reset');
    return c.json({ userId, reset });
  });
}
