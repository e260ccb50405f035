/** `/orgs/:org/resources`: the workspace → project → folder tree, flat (parentId links), and who holds which role on each node. */
import type { OrgResource } from '../../store/orgs.ts';
import type { Hono } from 'hono';
import { parseInput } from '../../core/input.ts';
import { readJson } from '../../http/json-body.ts';
import {
  CreateResourceSchema,
  RenameResourceSchema,
  ResourceMemberSchema,
  createResource,
  deleteResource,
  removeResourceMember,
  renameResource,
  resourceOf,
  setResourceMember,
} from '../../identity/workspace-tree.ts';
import type { OrgEnv } from '../deps.ts';
import { iso, type OrgRouteKit } from './kit.ts';

const resourceView = (r: Pick<OrgResource, 'id' | 'kind' | 'parentId' | 'name' | 'createdAt'>) => ({
  id: r.id,
  kind: r.kind,
  parentId: r.parentId,
  name: r.name,
  createdAt: iso(r.createdAt),
});

export function resourceRoutes(api: Hono<OrgEnv>, { deps, ids, audit }: OrgRouteKit): void {
  api.get('/orgs/:org/resources', async (c) => c.json({ resources: (await deps.store.orgs.resources(c.get('org').id)).map(resourceView) }));

  api.post('/orgs/:org/resources', async (c) => {
    const created = await createResource(ids, c.get('org').id, parseInput(CreateResourceSchema, await readJson(c, true)));
    await audit(c, 'admin.resource.created', { details: { resource: created.id, kind: created.kind, parent: created.parentId } });
    return c.json(resourceView(created), 201);
  });

  api.patch('/orgs/:org/resources/:id', async (c) => {
    const { name } = parseInput(RenameResourceSchema, await readJson(c, true));
    return c.json(resourceView(await renameResource(ids, c.get('org').id, c.req.param('id'), name)));
  });

  api.delete('/orgs/:org/resources/:id', async (c) => {
    await deleteResource(ids, c.get('org').id, c.req.param('id'));
    await audit(c, 'admin.resource.deleted', { details: { resource: c.req.param('id') } });
    return c.body(null, 204);
  });

  api.get('/orgs/:org/resources/:id/members', async (c) => {
    const org = c.get('org');
    const resource = await resourceOf(ids, org.id, c.req.param('id'));
    const members = (await deps.store.orgs.resourceMembers(org.id)).filter((m) => m.resourceId === resource.id);
    return c.json({ members: members.map((m) => ({ userId: m.userId, role: m.role, since: iso(m.createdAt) })) });
  });

  api.put('/orgs/:org/resources/:id/members/:userId', async (c) => {
    const { role } = parseInput(ResourceMemberSchema, await readJson(c, true));
    await setResourceMember(ids, c.get('org').id, c.req.param('id'), c.req.param('userId'), role);
    await audit(c, 'admin.resource.member.set', { subject: c.req.param('userId'), details: { resource: c.req.param('id'), role } });
    return c.json({ resourceId: c.req.param('id'), userId: c.req.param('userId'), role });
  });

  api.delete('/orgs/:org/resources/:id/members/:userId', async (c) => {
    await removeResourceMember(ids, c.get('org').id, c.req.param('id'), c.req.param('userId'));
    await audit(c, 'admin.resource.member.removed', { subject: c.req.param('userId'), details: { resource: c.req.param('id') } });
    return c.body(null, 204);
  });
}
