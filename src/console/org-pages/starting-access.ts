/**
 * The "starting access" picker of the org pages (identity/new-member-access.ts): one select of
 * "no workspace role" or a role on a workspace or project, used by the default access for new
 * members (settings) and by an invitation's starting role. The value is `<resource id>|<role>`.
 */
import type { OrgResource } from '../../store/orgs.ts';
import type { StartingAccess } from '../../identity/new-member-access.ts';
import { RESOURCE_ROLES } from '../../identity/workspace-tree.ts';
import { KIND_LABEL, treeOrder } from '../account/resource-tree.ts';
import { html, type Html } from '../../web/html.ts';

export function accessOptions(resources: readonly OrgResource[], chosen: StartingAccess | null | undefined, none: string): Html {
  const targets = treeOrder(resources).filter(({ resource }) => resource.kind !== 'folder');
  const value = chosen ? `${chosen.resourceId}|${chosen.role}` : '';
  return html`<option value=""${value === '' ? html` selected` : ''}>${none}</option>
${targets.flatMap(({ resource: r }) =>
  RESOURCE_ROLES.map((role) => html`<option value="${r.id}|${role}"${value === `${r.id}|${role}` ? html` selected` : ''}>${role} on ${KIND_LABEL[r.kind].toLowerCase()} ${r.name}</option>`),
)}`;
}

/** The posted value as a starting access (undefined for none); the services check the resource and role. */
export function postedAccess(value: string): { resourceId: string; role: string } | undefined {
  const [resourceId, role] = value.split('|');
  return resourceId && role ? { resourceId, role } : undefined;
}
