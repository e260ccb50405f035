/** `/orgs/:org/invitations`: invite by e-mail (the link is e-mailed, or returned when no SMTP is configured), list, revoke. */
import type { Hono } from 'hono';
import { readJson } from '../../http/json-body.ts';
import { invite, listInvitations, revokeInvitation } from '../../identity/invitations.ts';
import type { OrgEnv } from '../deps.ts';
import type { OrgRouteKit } from './kit.ts';

export function invitationRoutes(api: Hono<OrgEnv>, { deps, ids, actor, audit }: OrgRouteKit): void {
  api.get('/orgs/:org/invitations', async (c) => c.json({ invitations: await listInvitations(ids, c.get('org').id) }));

  api.post('/orgs/:org/invitations', async (c) => {
    const org = c.get('org');
    const result = await invite({ ...ids, publicUrl: deps.config.publicUrl }, actor(c), org, await readJson(c, true), deps.mailer);
    await audit(c, 'admin.invitation.created', { details: { invitation: result.invitation.id, role: result.invitation.role, sent: result.sent } });
    deps.log.info({ event: 'admin.invitation.created', org: org.id, by: c.get('admin').label, sent: result.sent }, 'invitation created');
    return c.json(result, 201);
  });

  api.delete('/orgs/:org/invitations/:id', async (c) => {
    await revokeInvitation(ids, c.get('org').id, c.req.param('id'));
    await audit(c, 'admin.invitation.revoked', { details: { invitation: c.req.param('id') } });
    return c.body(null, 204);
  });
}
