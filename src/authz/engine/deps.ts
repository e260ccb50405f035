/** What the protocol engine is built from (provider.ts), and each part of its configuration reads. */
import type { Logger } from 'pino';
import type { Store } from '../../store/store.ts';
import type { Config } from '../../core/config.ts';
import type { DerivedSecrets } from '../../core/crypto.ts';
import type { KeyRing } from '../../signing-keys/key-ring.ts';
import type { GrantRevoker } from '../../revocation/grant-revoker.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { ConnectionRecorder } from '../../audit/doctor/recorder.ts';
import type { ResourceRegistry } from '../../applications/protected-resources.ts';
import type { EndpointLimits } from './endpoint-limits.ts';

export interface AuthzDeps {
  config: Config;
  store: Store;
  secrets: DerivedSecrets;
  resources: ResourceRegistry;
  /** Audience for requests that name no resource (the demo, else the first application). */
  defaultResource: () => string | undefined;
  keyRing: KeyRing;
  log: Logger;
  now: () => number;
  /** Milliseconds on the same clock (device polling paces in ms). */
  nowMs?: () => number;
  revokeGrant: GrantRevoker;
  /** Tokens issued, refreshed and revoked, clients registered (engine/audit-events.ts). */
  audit?: AuditLog;
  /** The connection doctor's recorder (engine/connection-steps.ts); nothing recorded when absent. */
  doctor?: ConnectionRecorder;
  /** Rates on the token endpoint and on dynamic registration (endpoint-limits.ts); none when absent. */
  endpointLimits?: EndpointLimits;
  /**
   * At every refresh: ask the user's identity providers whether the account still is
   * (identity/sso-recheck.ts); 'refused' ends the refresh in `invalid_grant`. None: not asked.
   */
  upstreamRecheck?: (userId: string) => Promise<'ok' | 'refused'>;
}
