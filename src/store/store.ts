/**
 * The Store: every place Portcullis keeps state, one interface per capability (store/<capability>.ts),
 * opened together on one database (store/open.ts). Only the composition root and tests hold the
 * whole of it; everything else takes the capabilities it uses (`Pick<Store, 'users' | 'orgs'>`).
 * Implementations: `sql/` over `sqlite/` (node:sqlite, the embedded default) and `postgres/` (pg,
 * for several processes); both must pass `test/store/contract.test.ts`. Times are epoch seconds
 * (integers) throughout.
 *
 * Rules every implementation keeps:
 * - one-time values (authorization and device codes, setup links) are consumed by ONE conditional
 *   statement, so concurrent redemptions have exactly one winner;
 * - nothing here hashes or encrypts: callers hand in ids that are already keyed hashes and
 *   payloads that are already sealed where that matters (see authz/adapter.ts);
 * - a database out of reach is `unavailable` (sql/outages.ts), never a driver error.
 */
import type { ApiKeyStore } from './api-keys.ts';
import type { ApplicationStore } from './applications.ts';
import type { AuditStore } from './audit.ts';
import type { BindingStore } from './bindings.ts';
import type { ClientStore } from './clients.ts';
import type { ConnectionEventStore } from './connection-events.ts';
import type { DemoStore } from './demo.ts';
import type { GrantContextStore } from './grant-contexts.ts';
import type { InvitationStore } from './invitations.ts';
import type { MfaStore } from './mfa.ts';
import type { OidcStore } from './oidc.ts';
import type { OneTimeStore } from './one-time.ts';
import type { OrgStore } from './orgs.ts';
import type { PasskeyStore } from './passkeys.ts';
import type { OrgConnectionStore } from './org-connections.ts';
import type { AccessRequestStore } from './access-requests.ts';
import type { RevocationStore } from './revocations.ts';
import type { ScimStore } from './scim.ts';
import type { SelfTestStore } from './self-tests.ts';
import type { SessionStore } from './sessions.ts';
import type { SigningKeyStore } from './signing-keys.ts';
import type { SsoLinkStore } from './sso-links.ts';
import type { ToolStore } from './tools.ts';
import type { UserStore } from './users.ts';

export interface MigrationReport {
  dialect: 'sqlite' | 'postgres';
  /** Versions applied by this call, in order. */
  applied: number[];
  /** The schema version after the call. */
  version: number;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Apply pending numbered migrations (idempotent; safe to call from several processes). */
  migrate(options?: { to?: number }): Promise<MigrationReport>;
  /** Fails when the database is unreachable. */
  ping(): Promise<void>;
  /** Versions this build knows that the database has not applied (readiness: none may be missing). */
  pendingMigrations(): Promise<number[]>;
  close(): Promise<void>;
  readonly oidc: OidcStore;
  readonly users: UserStore;
  readonly clients: ClientStore;
  readonly signingKeys: SigningKeyStore;
  readonly revocations: RevocationStore;
  readonly oneTime: OneTimeStore;
  readonly sessions: SessionStore;
  readonly demo: DemoStore;
  readonly applications: ApplicationStore;
  readonly tools: ToolStore;
  readonly selfTests: SelfTestStore;
  readonly bindings: BindingStore;
  readonly orgs: OrgStore;
  readonly invitations: InvitationStore;
  readonly apiKeys: ApiKeyStore;
  readonly grantContexts: GrantContextStore;
  readonly audit: AuditStore;
  readonly mfa: MfaStore;
  readonly passkeys: PasskeyStore;
  readonly ssoLinks: SsoLinkStore;
  readonly scim: ScimStore;
  readonly orgConnections: OrgConnectionStore;
  readonly connectionEvents: ConnectionEventStore;
  readonly accessRequests: AccessRequestStore;
}
