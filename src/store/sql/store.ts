/**
 * The Store written once in SQL that both dialects accept (see driver.ts), one module per
 * capability (sql/<capability>.ts). Every method is a single statement unless noted, which is
 * what makes consume-once and idempotent writes hold across processes sharing PostgreSQL.
 */
import type { Store } from '../store.ts';
import type { SqlDriver } from './driver.ts';
import { migrate, pendingMigrations } from './migrate.ts';
import { apiKeyStore } from './api-keys.ts';
import { applicationStore } from './applications.ts';
import { auditStore } from './audit.ts';
import { bindingStore } from './bindings.ts';
import { clientStore } from './clients.ts';
import { connectionEventStore } from './connection-events.ts';
import { demoStore } from './demo.ts';
import { grantContextStore } from './grant-contexts.ts';
import { invitationStore } from './invitations.ts';
import { mfaStore } from './mfa.ts';
import { oidcStore } from './oidc.ts';
import { oneTimeStore } from './one-time.ts';
import { orgStore } from './orgs.ts';
import { passkeyStore } from './passkeys.ts';
import { orgConnectionStore } from './org-connections.ts';
import { accessRequestStore } from './access-requests.ts';
import { revocationStore } from './revocations.ts';
import { scimStore } from './scim.ts';
import { selfTestStore } from './self-tests.ts';
import { sessionStore } from './sessions.ts';
import { signingKeyStore } from './signing-keys.ts';
import { ssoLinkStore } from './sso-links.ts';
import { toolStore } from './tools.ts';
import { userStore } from './users.ts';

export function createSqlStore(db: SqlDriver): Store {
  return {
    dialect: db.dialect,
    migrate: (options) => migrate(db, options),
    async ping() {
      await db.get('SELECT 1 AS ok');
    },
    pendingMigrations: () => pendingMigrations(db),
    close: () => db.close(),
    oidc: oidcStore(db),
    users: userStore(db),
    clients: clientStore(db),
    signingKeys: signingKeyStore(db),
    revocations: revocationStore(db),
    orgs: orgStore(db),
    invitations: invitationStore(db),
    apiKeys: apiKeyStore(db),
    grantContexts: grantContextStore(db),
    audit: auditStore(db),
    mfa: mfaStore(db),
    passkeys: passkeyStore(db),
    oneTime: oneTimeStore(db),
    ssoLinks: ssoLinkStore(db),
    sessions: sessionStore(db),
    demo: demoStore(db),
    applications: applicationStore(db),
    tools: toolStore(db),
    selfTests: selfTestStore(db),
    bindings: bindingStore(db),
    scim: scimStore(db),
    orgConnections: orgConnectionStore(db),
    connectionEvents: connectionEventStore(db),
    accessRequests: accessRequestStore(db),
  };
}
