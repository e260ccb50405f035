/**
 * A device code is decided once. The engine's own pages mark a code `inFlight` with a read and a
 * save, so two approvals (a double-click, two tabs, two processes) could both pass the "still
 * pending?" check and both write — the later grant silently replacing the earlier one. Here each
 * issued code gets one decision slot in the store's one-time values; approving or denying first
 * takes it (one conditional DELETE … RETURNING), and only the taker writes the code.
 */
import type { Store } from '../../store/store.ts';
import { keyedHash, type SecretKey } from '../../core/crypto.ts';

const KIND = 'device-decision';

const keyOf = (pepper: SecretKey, userCode: string) => keyedHash(pepper, `device-decision:${userCode}`);

/** Open the slot when the code is issued (`userCode` normalized, as the engine stores it). */
export function openDecision(store: Store, pepper: SecretKey, userCode: string, expiresAt: number): Promise<void> {
  return store.oneTime.put(KIND, keyOf(pepper, userCode), '1', expiresAt);
}

/** Take the slot; false when someone else already decided (or the code expired). */
export async function takeDecision(store: Store, pepper: SecretKey, userCode: string, now: number): Promise<boolean> {
  return (await store.oneTime.consume(KIND, keyOf(pepper, userCode), now)) !== undefined;
}
