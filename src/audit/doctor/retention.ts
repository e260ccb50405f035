/**
 * How long the connection doctor remembers: a week (long enough to look at last week's failed
 * connection, short enough that this is never a second audit log), and at most a fixed number of
 * events per client, so that a client retrying in a loop cannot fill the database.
 */
import type { Store } from '../../store/store.ts';

export const DOCTOR_RETENTION_SECONDS = 7 * 24 * 3600;
export const DOCTOR_EVENTS_PER_CLIENT = 500;

/** Delete what is past the retention or over the cap; how many went. */
export function sweepConnectionEvents(store: Pick<Store, 'connectionEvents'>, at: number): Promise<number> {
  return store.connectionEvents.sweep(at - DOCTOR_RETENTION_SECONDS, DOCTOR_EVENTS_PER_CLIENT);
}
