/**
 * What the polling rules (polling.ts) remember about one device code: the client it was issued to,
 * when it expires, the interval the device must keep and its last poll. Kept in the store's
 * one-time values, keyed by a keyed hash of the device code (a bearer secret), so every process
 * sharing the database applies the same interval to the same device code. Reading takes the value
 * out (take-then-put): see polling.ts for why a race costs a device at most one early poll.
 */
import type { Store } from '../../store/store.ts';
import { keyedHash, type SecretKey } from '../../core/crypto.ts';

/** The state outlives its device code so late polls keep getting `expired_token`. */
const KEPT_AFTER_EXPIRY = 3600;
const KIND = 'device-poll';

export interface PollState {
  clientId: string;
  /** When the device code expires (seconds), or null when unknown. */
  exp: number | null;
  interval: number;
  /** Last poll, milliseconds; null before the first. */
  last: number | null;
}

export interface PollStatesDeps {
  store: Store;
  pepper: SecretKey;
  /** Seconds (the server clock; expiry). */
  now: () => number;
}

export class PollStates {
  readonly #deps: PollStatesDeps;

  constructor(deps: PollStatesDeps) {
    this.#deps = deps;
  }

  /** The key a device code's state is stored under (computed once per poll). */
  keyOf(deviceCode: string): string {
    return keyedHash(this.#deps.pepper, `device-poll:${deviceCode}`);
  }

  /** The state under `key`, taken out of the store; undefined when there is none (or it is unreadable). */
  async take(key: string): Promise<PollState | undefined> {
    const raw = await this.#deps.store.oneTime.consume(KIND, key, this.#deps.now());
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as PollState;
    } catch {
      return undefined;
    }
  }

  /** Put the state (back) under `key`, until an hour after its device code expires. */
  keep(key: string, state: PollState): Promise<void> {
    const until = (state.exp ?? this.#deps.now() + 3600) + KEPT_AFTER_EXPIRY;
    return this.#deps.store.oneTime.put(KIND, key, JSON.stringify(state), until);
  }
}
