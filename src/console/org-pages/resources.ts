/**
 * `/orgs/<slug>/resources`: the organization's tree — workspaces, their projects, the projects'
 * folders — to add to, rename and delete from, and who holds which role on each node (viewer,
 * editor, manager; inherited downward unless overridden). The rules are identity/resources.ts's.
 */
import type { OrgResource } from '../../store/orgs.ts';
import type { Hono } from 'hono';
import type { AuditRecord } from '../../audit/audit-log.ts';
import { parseInput } from '../../core/input.ts';
import { identityDeps } from '../../identity/context.ts';
import {
  createResource,
  CreateResourceSchema,
  deleteResource,
  removeResourceMember,
  renameResource,
  RenameResourceSchema,
  RESOURCE_ROLES,
  ResourceMemberSchema,
  setResourceMember,
} from '../../identity/workspace-tree.ts';
import { csrfField, notice } from '../account/layout.ts';
import { KIND_LABEL, treeOrder } from '../account/resource-tree.ts';
import { html } from '../../web/html.ts';
import { field, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { orgAccess, orgAction, orgPage, orgPath, type Asking } from './access.ts';
import type { ResourceKind } from '../../core/roles.ts';

const CHILD_KIND: Record<ResourceKind, ResourceKind | undefined> = { workspace: 'project', project: 'folder', folder: undefined };

export function resourceRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const ids = identityDeps(deps);

  app.get('/orgs/:org/resources', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    const { org } = access;
    const nodes = treeOrder(await deps.store.orgs.resources(org.id));
    const memberships = await deps.store.orgs.resourceMembers(org.id);
    const members = await deps.store.orgs.members(org.id);
    const emails = new Map((await Promise.all(members.map((m) => deps.store.users.findById(m.userId)))).filter((u) => u !== undefined).map((u) => [u.id, u.email]));
    const to = (what: string) => orgPath(deps, org, 'resources', `/${what}`);
    const nodeForms = (r: OrgResource) => {
      const child = CHILD_KIND[r.kind];
      const held = memberships.filter((m) => m.resourceId === r.id);
      return html`<form method="post" action="${to('rename')}" class="inline">${csrfField(deps, c, 'org:resource-rename')}<input type="hidden" name="resource" value="${r.id}"><input type="text" name="name" value="${r.name}" aria-label="New name of ${r.name}" maxlength="200" required> <button type="submit" data-testid="rename">Rename</button></form>
<form method="post" action="${to('delete')}" class="inline">${csrfField(deps, c, 'org:resource-delete')}<input type="hidden" name="resource" value="${r.id}"><button class="danger" type="submit" data-testid="delete-resource">Delete</button></form>
${child
  ? html`<form method="post" action="${to('create')}" class="inline" data-testid="add-child">${csrfField(deps, c, 'org:resource-create')}<input type="hidden" name="kind" value="${child}"><input type="hidden" name="parent" value="${r.id}"><input type="text" name="name" aria-label="New ${child} in ${r.name}" placeholder="New ${child}" maxlength="200" required> <button type="submit">Add ${child}</button></form>`
  : ''}
<ul class="tree" data-testid="resource-members">${held.map(
        (m) => html`<li data-testid="resource-member" data-user="${m.userId}" data-role="${m.role}">${emails.get(m.userId) ?? m.userId}: ${m.role}
<form method="post" action="${to('members/remove')}" class="inline">${csrfField(deps, c, 'org:resource-member-remove')}<input type="hidden" name="resource" value="${r.id}"><input type="hidden" name="user" value="${m.userId}"><button type="submit" class="link" data-testid="remove-resource-member">remove</button></form></li>`,
      )}</ul>
<form method="post" action="${to('members')}" class="inline" data-testid="add-resource-member">${csrfField(deps, c, 'org:resource-member')}<input type="hidden" name="resource" value="${r.id}">
<select name="user" aria-label="Member for ${r.name}">${members.map((m) => html`<option value="${m.userId}">${emails.get(m.userId) ?? m.userId}</option>`)}</select>
<select name="role" aria-label="Role on ${r.name}">${RESOURCE_ROLES.map((role) => html`<option value="${role}">${role}</option>`)}</select>
<button type="submit">Give role</button></form>`;
    };
    return c.html(
      await orgPage(
        deps,
        c,
        access,
        'resources',
        html`${notice(c, { created: 'Added.', renamed: 'Renamed.', deleted: 'Deleted, with everything below it.', member_set: 'The role was given.', member_removed: 'The role was taken away.' })}
<form method="post" action="${to('create')}" data-testid="add-workspace">${csrfField(deps, c, 'org:resource-create')}<input type="hidden" name="kind" value="workspace">
<label for="workspace-name">New workspace</label><input id="workspace-name" name="name" type="text" maxlength="200" required>
<div class="actions"><button class="primary" type="submit">Add workspace</button></div></form>
<p class="muted">Owners and admins of the organization manage everything. A role on a workspace or project applies to everything below it, unless a role lower down says otherwise.</p>
${nodes.length
  ? html`<div class="table-scroll" tabindex="0"><table data-testid="resources"><thead><tr><th>Resource</th><th>Manage</th></tr></thead><tbody>
${nodes.map(({ resource: r, depth }) => html`<tr data-testid="resource" data-resource="${r.id}" data-kind="${r.kind}" data-depth="${depth}"><td>${'— '.repeat(depth)}${KIND_LABEL[r.kind]} <strong>${r.name}</strong></td><td>${nodeForms(r)}</td></tr>`)}
</tbody></table></div>`
  : html`<p data-testid="no-resources" class="muted">No workspaces yet.</p>`}`,
      ),
    );
  });

  const post = (path: string, purpose: string, done: string, act: (form: Record<string, unknown>, orgId: string) => Promise<Omit<AuditRecord, 'orgId' | 'actor'>>, confirm?: Asking) =>
    orgAction(app, deps, { path: `/orgs/:org/resources/${path}`, purpose, section: 'resources', done, confirm }, (form, { org }) => act(form, org.id));

  post('create', 'org:resource-create', 'created', async (form, orgId) => {
    const input = parseInput(CreateResourceSchema, { kind: field(form, 'kind'), parentId: field(form, 'parent') || null, name: field(form, 'name') });
    const created = await createResource(ids, orgId, input);
    return { kind: 'admin.resource.created', details: { resource: created.id, kind: created.kind, parent: created.parentId } };
  });
  post('rename', 'org:resource-rename', 'renamed', async (form, orgId) => {
    await renameResource(ids, orgId, field(form, 'resource'), parseInput(RenameResourceSchema, { name: field(form, 'name') }).name);
    return { kind: 'admin.resource.renamed', details: { resource: field(form, 'resource') } };
  });
  post('delete', 'org:resource-delete', 'deleted', async (form, orgId) => {
    await deleteResource(ids, orgId, field(form, 'resource'));
    return { kind: 'admin.resource.deleted', details: { resource: field(form, 'resource') } };
  }, { title: 'Delete this workspace or project?', text: 'Everything below it is deleted too — its projects and every role people hold on them. Tokens that named it lose what it gave them. This cannot be undone.', button: 'Delete' });
  post('members', 'org:resource-member', 'member_set', async (form, orgId) => {
    const { role } = parseInput(ResourceMemberSchema, { role: field(form, 'role') });
    await setResourceMember(ids, orgId, field(form, 'resource'), field(form, 'user'), role);
    return { kind: 'admin.resource.member.set', subject: field(form, 'user'), details: { resource: field(form, 'resource'), role } };
  });
  post('members/remove', 'org:resource-member-remove', 'member_removed', async (form, orgId) => {
    await removeResourceMember(ids, orgId, field(form, 'resource'), field(form, 'user'));
    return { kind: 'admin.resource.member.removed', subject: field(form, 'user'), details: { resource: field(form, 'resource') } };
  }, { title: 'Remove this role?', text: 'The person loses the role on this workspace or project and on what is below it (unless a role lower down says otherwise); their role in the organization stays.', button: 'Remove' });
}
