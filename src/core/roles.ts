/**
 * The words of the permission model (docs/design/identity.md) that every layer speaks: a person's
 * role in an organization, a membership's role on a resource, and the kinds of resources in an
 * organization's tree (workspaces → projects → folders).
 */

export type OrgRole = 'owner' | 'admin' | 'member';
export type ResourceRole = 'viewer' | 'editor' | 'manager';
export type ResourceKind = 'workspace' | 'project' | 'folder';
