/**
 * What this process does when the change feed (fanout/) says another process — or this one —
 * changed something it holds in memory: a revocation is applied at once (and the sequence read,
 * so the position stays true), an organization's tree and API keys are read again at their next
 * use, the applications and tool reviews are checked, the SSO connections read again. After the
 * feed (re)connects, all of it at once: messages may have been missed while it was away. The
 * caches' own polling stays on as the safety net.
 */
import type { Logger } from 'pino';
import type { ChangeFeed } from '../fanout/change-feed.ts';
import type { RevocationList } from '../revocation/revocation-list.ts';
import type { GatewayRuntime } from './gateway-runtime.ts';
import type { ConnectionDirectory } from '../identity/connection-directory.ts';

export interface FanoutTargets {
  revocations: Pick<RevocationList, 'apply' | 'wake'>;
  gateway: Pick<GatewayRuntime, 'trees' | 'apiKeys' | 'registry'>;
  /** Single sign-on connections: read again when an organization's connections or domains change. */
  connections?: Pick<ConnectionDirectory, 'refresh' | 'stop'>;
  log: Logger;
}

/** Subscribe the process's caches to the feed; returns the function that unsubscribes them. */
export function hearChanges(feed: ChangeFeed, targets: FanoutTargets): () => void {
  const { revocations, gateway, connections, log } = targets;
  const readRevocations = () => void revocations.wake().catch((err: unknown) => log.warn({ err }, 'change feed: could not read revocations'));
  const unsubscribe = [
    feed.subscribe('revocation', (event) => {
      revocations.apply(event);
      readRevocations();
    }),
    feed.subscribe('org', ({ orgId }) => {
      if (orgId === null) gateway.trees.forgetAll();
      else gateway.trees.forget(orgId);
      gateway.apiKeys.forgetOrg(orgId);
    }),
    feed.subscribe('applications', () => void gateway.registry.check()),
    feed.subscribe('connections', () => void connections?.refresh()),
    feed.onResume(() => {
      readRevocations();
      gateway.trees.forgetAll();
      gateway.apiKeys.forgetOrg(null);
      void gateway.registry.check();
      void connections?.refresh();
    }),
  ];
  return () => {
    for (const off of unsubscribe) off();
    // The directory's poll stops with the hearing: the process is closing.
    connections?.stop();
  };
}
