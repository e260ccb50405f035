/**
 * The Store, telling the change feed what it changed: each write that a cache in some process
 * depends on publishes its topic once the write has resolved (committed), so a process woken by
 * it reads the new state. One wrapper at the composition root catches every writer in the process
 * — the admin API, the console, the identity services, the gateway's manifest refresh — with no
 * service knowing about the feed.
 *
 * What is published: every revocation event (`revocation`, the event itself); memberships, roles,
 * resources and resource memberships (`org`: the organization, or null when the write names only a
 * resource); applications and tool records and reviews (`applications`); organizations' SSO
 * connections and verified domains (`connections`). Revoking an API key is a
 * `key` revocation event (identity/context.ts), so it travels as one.
 */
import type { Store } from '../store/store.ts';
import type { ChangeFeed } from './change-feed.ts';

/** `target` with `method` replaced by one that calls it, then `after` with its arguments (when it resolved). */
function after<T extends object, K extends keyof T>(target: T, method: K, then: (...args: never[]) => void): T[K] {
  const original = target[method] as (...args: unknown[]) => Promise<unknown>;
  return (async (...args: unknown[]) => {
    const result = await original.apply(target, args);
    then(...(args as never[]));
    return result;
  }) as T[K];
}

export function withChangePublishing(store: Store, feed: ChangeFeed): Store {
  const { orgs, applications, tools, revocations, orgConnections } = store;
  const sso = (orgId: string) => feed.publish('connections', { orgId });
  const org = (orgId: string | null) => () => feed.publish('org', { orgId });
  const byOrg = (orgId: string) => feed.publish('org', { orgId });
  const anyOrg = org(null);
  const app = (slug: string) => feed.publish('applications', { slug });
  return {
    ...store,
    revocations: {
      ...revocations,
      add: after(revocations, 'add', (input: Parameters<Store['revocations']['add']>[0]) =>
        feed.publish('revocation', { kind: input.kind, id: input.id, at: input.at, expiresAt: input.expiresAt }),
      ),
    },
    orgs: {
      ...orgs,
      update: after(orgs, 'update', byOrg),
      // An organization's connections and domains go with it (ON DELETE CASCADE).
      delete: after(orgs, 'delete', (orgId: string) => (byOrg(orgId), sso(orgId))),
      addMember: after(orgs, 'addMember', byOrg),
      setRole: after(orgs, 'setRole', byOrg),
      removeMember: after(orgs, 'removeMember', byOrg),
      createResource: after(orgs, 'createResource', (input: { orgId: string }) => byOrg(input.orgId)),
      deleteResource: after(orgs, 'deleteResource', anyOrg),
      setResourceMember: after(orgs, 'setResourceMember', anyOrg),
      removeResourceMember: after(orgs, 'removeResourceMember', anyOrg),
    },
    applications: {
      ...applications,
      upsert: after(applications, 'upsert', (input: { slug: string }) => app(input.slug)),
      create: after(applications, 'create', (input: { slug: string }) => app(input.slug)),
      delete: after(applications, 'delete', app),
      setOrg: after(applications, 'setOrg', app),
    },
    orgConnections: {
      ...orgConnections,
      createConnection: after(orgConnections, 'createConnection', (record: { orgId: string }) => sso(record.orgId)),
      updateConnection: after(orgConnections, 'updateConnection', sso),
      deleteConnection: after(orgConnections, 'deleteConnection', sso),
      verifyDomain: after(orgConnections, 'verifyDomain', sso),
      deleteDomain: after(orgConnections, 'deleteDomain', sso),
    },
    tools: {
      ...tools,
      record: after(tools, 'record', app),
      review: after(tools, 'review', app),
      deleteApp: after(tools, 'deleteApp', app),
    },
  };
}
