import type { OrgResource } from '../../store/orgs.ts';
/** An organization's resources in tree order (workspace, its projects, their folders), with depth. */

export function treeOrder(resources: readonly OrgResource[]): { resource: OrgResource; depth: number }[] {
  const children = new Map<string | null, OrgResource[]>();
  for (const r of resources) {
    const siblings = children.get(r.parentId) ?? [];
    siblings.push(r);
    children.set(r.parentId, siblings);
  }
  const out: { resource: OrgResource; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const r of (children.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
      out.push({ resource: r, depth });
      if (depth < 8) walk(r.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

export const KIND_LABEL: Record<OrgResource['kind'], string> = { workspace: 'Workspace', project: 'Project', folder: 'Folder' };
