/**
 * What expires is deleted: engine artifacts, sessions, one-time values, revocation events no
 * credential can need any more, gateway bindings — and dynamic registrations that never completed
 * an authorization (clients that register on every connection attempt must not pile up) — and
 * audit records past `audit.retentionDays` (audit/retention.ts), and the connection doctor's events
 * past their week or their per-client cap (audit/doctor/retention.ts).
 */
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { Store } from '../store/store.ts';
import { cutExpiredRecords } from '../audit/retention.ts';
import { sweepConnectionEvents } from '../audit/doctor/retention.ts';

const EVERY = 10 * 60 * 1000;

export interface Housekeeping {
  /** Delete now (also runs every 10 minutes); how many of each went. */
  housekeep(at?: number): Promise<Record<string, number>>;
  stop(): void;
}

export function startHousekeeping(store: Store, config: Config, now: () => number, log: Logger): Housekeeping {
  const housekeep = async (at = now()) => {
    const [artifacts, sessions, oneTime, revocations, clients, bindings, auditRecords, connectionEvents] = await Promise.all([
      store.oidc.deleteExpired(at),
      store.sessions.deleteExpired(at),
      store.oneTime.deleteExpired(at),
      store.revocations.deleteExpired(at),
      store.clients.deleteUnusedDynamic(at - config.registration.unusedClientTtl),
      store.bindings.deleteExpired(at),
      cutExpiredRecords(store, config.audit.retentionDays, at),
      sweepConnectionEvents(store, at),
    ]);
    return { artifacts, sessions, oneTime, revocations, clients, bindings, auditRecords, connectionEvents };
  };
  const timer = setInterval(() => void housekeep().catch((err) => log.warn({ err }, 'housekeeping failed')), EVERY);
  timer.unref();
  return { housekeep, stop: () => clearInterval(timer) };
}
