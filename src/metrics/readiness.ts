/**
 * Is this process ready for traffic? A few named checks (the store answers, every migration is
 * applied, a signing key is loaded, Redis answers when configured), each failing with a stable code.
 *
 * A readiness probe must answer even while a dependency hangs, and a flood of probes must not
 * become a flood of database queries that starves real requests of pool connections. So each check
 * is bounded by a timeout (a check still running then counts as failed), a check is never run twice
 * at once (a probe that comes while the last one still hangs waits on that one), and one result
 * serves every probe for `cacheMs`.
 */

export interface ReadinessCheck {
  /** Stable name, the key in the answer: `store`, `migrations`, `signing_keys`, `redis`. */
  name: string;
  /** Stable code when it fails (or cannot tell): `store_unreachable`, `migrations_unknown`, … */
  code: string;
  /**
   * True when healthy; false, a rejection or no answer within the timeout fails with `code`; a
   * string fails with that more precise code (`migrations_pending`).
   */
  probe(): Promise<boolean | string> | boolean | string;
  /** The dependency whose health this check is (`portcullis_dependency_up`), if any. */
  dependency?: string;
}

export interface ReadinessReport {
  ready: boolean;
  /** Check name → `ok`, or the check's failure code. */
  checks: Record<string, string>;
}

export interface ReadinessOptions {
  /** The longest one check may take (default 2000 ms). */
  timeoutMs?: number;
  /** How long one result answers every probe (default 1000 ms). */
  cacheMs?: number;
  nowMs?: () => number;
  /** Told of each failing check (logs). */
  onFailure?(check: ReadinessCheck, reason: unknown): void;
}

export const OK = 'ok';

export class Readiness {
  readonly #checks: ReadinessCheck[];
  readonly #timeoutMs: number;
  readonly #cacheMs: number;
  readonly #nowMs: () => number;
  readonly #onFailure: ReadinessOptions['onFailure'];
  /** Probes still running, by check: never started again while one hangs. */
  readonly #running = new Map<string, Promise<boolean | string>>();
  #last: { at: number; report: Promise<ReadinessReport> } | undefined;

  constructor(checks: ReadinessCheck[], options: ReadinessOptions = {}) {
    this.#checks = checks;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#cacheMs = options.cacheMs ?? 1000;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#onFailure = options.onFailure;
  }

  /** Every check's result (shared by every caller within `cacheMs`, and while one is under way). */
  report(): Promise<ReadinessReport> {
    const now = this.#nowMs();
    if (this.#last && now - this.#last.at < this.#cacheMs) return this.#last.report;
    const report = this.#runAll();
    this.#last = { at: now, report };
    return report;
  }

  /** Dependency → up, from the same (cached) report. */
  async dependencies(): Promise<Record<string, boolean>> {
    const { checks } = await this.report();
    const up: Record<string, boolean> = {};
    for (const check of this.#checks) if (check.dependency) up[check.dependency] = checks[check.name] === OK;
    return up;
  }

  async #runAll(): Promise<ReadinessReport> {
    const results = await Promise.all(this.#checks.map(async (check) => [check.name, await this.#run(check)] as const));
    return { ready: results.every(([, result]) => result === OK), checks: Object.fromEntries(results) };
  }

  /** `ok`, or the code it failed with. */
  async #run(check: ReadinessCheck): Promise<string> {
    let running = this.#running.get(check.name);
    if (!running) {
      running = Promise.resolve()
        .then(() => check.probe())
        .finally(() => this.#running.delete(check.name));
      this.#running.set(check.name, running);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      timer.unref();
    });
    try {
      const result = await Promise.race([running, timeout]);
      if (result === true) return OK;
      this.#onFailure?.(check, 'the check failed');
      return typeof result === 'string' ? result : check.code;
    } catch (err) {
      this.#onFailure?.(check, err);
      return check.code;
    } finally {
      clearTimeout(timer);
    }
  }
}
