/** `/users`, server-wide, for server administrators' sessions: every account (not the deleted), disable, enable, delete, reset second factors. */
import type { Hono } from 'hono';
import { PortcullisError } from '../../core/errors.ts';
import { deleteUser, disableUser, enableUser } from '../../identity/people.ts';
import { resetSecondFactors } from '../../identity/mfa-reset.ts';
import type { OrgEnv } from '../deps.ts';
import { serverAdminOnly } from '../route-guards.ts';
import { iso, type OrgRouteKit } from './kit.ts';

export function userRoutes(api: Hono<OrgEnv>, { deps, ids, audit }: OrgRouteKit): void {
  api.use('/users', serverAdminOnly(deps));
  api.use('/users/*', serverAdminOnly(deps));

  api.get('/users', async (c) => {
    const users = await deps.store.users.list();
    return c.json({
      users: users
        .filter((u) => u.deletedAt === null)
        .map((u) => ({ id: u.id, email: u.email, name: u.name, serverAdmin: u.isAdmin, disabled: u.disabledAt !== null, createdAt: iso(u.createdAt) })),
    });
  });

  api.post('/users/:id/disable', async (c) => {
    const id = c.req.param('id');
    if (id === c.get('admin').userId) throw new PortcullisError('invalid_request', 'you cannot disable yourself', { detail: { errors: [{ path: 'id', message: 'that is you' }] } });
    await disableUser(ids, id, c.get('admin').label);
    await audit(c, 'admin.user.disabled', { subject: id });
    deps.log.info({ event: 'admin.user.disabled', user: id, by: c.get('admin').label }, 'user disabled');
    return c.json({ id, disabled: true });
  });

  api.post('/users/:id/enable', async (c) => {
    const id = c.req.param('id');
    await enableUser(ids, id);
    await audit(c, 'admin.user.enabled', { subject: id });
    deps.log.info({ event: 'admin.user.enabled', user: id, by: c.get('admin').label }, 'user enabled');
    return c.json({ id, disabled: false });
  });

  api.post('/users/:id/reset-mfa', async (c) => {
    const id = c.req.param('id');
    if (id === c.get('admin').userId) throw new PortcullisError('forbidden', 'reset your own second factors on your account page', { rule: 'self' });
    const reset = await resetSecondFactors(ids, id);
    await audit(c, 'admin.user.mfa_reset', { subject: id, details: { ...reset } });
    deps.log.info({ event: 'admin.user.mfa_reset', user: id, by: c.get('admin').label, ...reset }, 'second factors reset');
    return c.json({ id, reset });
  });

  api.delete('/users/:id', async (c) => {
    const id = c.req.param('id');
    await deleteUser(ids, id, c.get('admin').label);
    await audit(c, 'admin.user.deleted', { subject: id });
    deps.log.info({ event: 'admin.user.deleted', user: id, by: c.get('admin').label }, 'user deleted');
    return c.body(null, 204);
  });
}
