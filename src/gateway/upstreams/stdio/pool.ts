/**
 * The processes of one application: one slot per key (a user's subject, or one for everyone), at
 * most `maxProcesses` running at once. When the cap is reached, the quiet process unused longest
 * is stopped to make room (its sessions survive; it starts again when next needed); when none is
 * quiet, the request is refused with upstream_overloaded (→ 503). A periodic sweep stops
 * idle processes and forgets stale sessions.
 */
import { upstreamError } from '../upstream.ts';
import type { Slot } from './slot.ts';

export class ProcessPool {
  readonly #slots = new Map<string, Slot>();
  readonly #max: number;
  readonly #sessionTtlMs: number;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(options: { maxProcesses: number; sweepMs: number; sessionTtlMs: number }) {
    this.#max = options.maxProcesses;
    this.#sessionTtlMs = options.sessionTtlMs;
    this.#timer = setInterval(() => this.sweep(), options.sweepMs);
    this.#timer.unref();
  }

  get(key: string): Slot | undefined {
    return this.#slots.get(key);
  }

  /** The slot for `key`, made with `make` the first time. */
  slot(key: string, make: () => Slot): Slot {
    let slot = this.#slots.get(key);
    if (!slot) this.#slots.set(key, (slot = make()));
    return slot;
  }

  slots(): Slot[] {
    return [...this.#slots.values()];
  }

  /**
   * Room for `slot` to start a process, or upstream_overloaded. Decided at once (so two
   * starts cannot both take the last place); when a quiet process is stopped to make room, the
   * returned promise resolves once it is gone, and only then does the new one start.
   */
  reserve(slot: Slot): Promise<void> | undefined {
    const live = this.slots().filter((s) => s !== slot && s.live);
    if (live.length < this.#max) return undefined;
    const victims = live.filter((s) => s.state === 'ready' && s.quiet).sort((a, b) => a.lastActivity - b.lastActivity);
    const victim = victims[0];
    if (!victim) throw upstreamError('overloaded', `this application already runs its maximum of ${this.#max} processes`);
    return victim.stop('evicted').catch(() => {});
  }

  sweep(): void {
    for (const [key, slot] of this.#slots) if (slot.sweep(this.#sessionTtlMs)) this.#slots.delete(key);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.slots().map((slot) => slot.close().catch(() => {})));
    this.#slots.clear();
  }
}
