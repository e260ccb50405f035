/**
 * Audit webhooks: every committed record this process writes (AuditLog.onRecords), POSTed as JSON
 * to each configured receiver whose filter it passes (kind prefixes, organization) — in order, in
 * small batches, one request at a time per receiver.
 *
 *   POST <url>   Content-Type: application/json
 *                Portcullis-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, `${t}.${body}`)>
 *   {"events":[{"id":"<the record's hash>","record":{…the record as stored…}}, …]}
 *
 * The event id is the record's hash: the same record always has the same id, whichever attempt or
 * batch brings it, so a receiver de-duplicates on it. A 2xx is delivered; anything else (a redirect
 * too: none is followed), a timeout or a network error is retried with exponential back-off and
 * jitter, up to `maxAttempts`, then the batch is dropped and logged. The queue lives in memory and
 * is bounded (the oldest records go first when it is full): a slow or failing receiver never slows
 * the gateway or the log, and the store stays the source of truth (export to fill a gap).
 * Outbound rules as for every fetch of ours (shared/outbound.ts): https, or http to loopback only;
 * no credentials in the URL; no redirects.
 */
import type { Logger } from 'pino';
import type { AuditEvent } from '../store/audit.ts';
import { checkOutboundUrl } from '../shared/outbound.ts';
import { signWebhook, SIGNATURE_HEADER } from './webhook-signature.ts';

export interface WebhookTarget {
  url: string;
  secret: string;
  /** Kind prefixes; absent: every kind. */
  kinds?: string[];
  orgId?: string;
}

export interface WebhookOptions {
  /** Records waiting at most; beyond, the oldest are dropped. */
  maxQueue?: number;
  /** Records per POST at most. */
  maxBatch?: number;
  /** Tries per batch before it is dropped. */
  maxAttempts?: number;
  /** The first retry waits about this long; each next one twice as long, up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** One attempt's limit. */
  timeoutMs?: number;
  /** Epoch seconds (the signature's `t`). */
  now?: () => number;
}

export interface WebhookStats {
  delivered: number;
  /** Records dropped: the queue was full, or their batch failed every attempt. */
  dropped: number;
  /** Failed attempts. */
  failures: number;
  queued: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Exponential back-off with "equal jitter": half the step for sure, the other half at random. */
export function retryDelay(attempt: number, baseMs: number, maxMs: number): number {
  const step = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return step / 2 + Math.random() * (step / 2);
}

export class WebhookSender {
  readonly #target: WebhookTarget;
  readonly #url: URL;
  readonly #log: Logger;
  readonly #options: Required<WebhookOptions>;
  readonly #stop = new AbortController();
  #queue: AuditEvent[] = [];
  #running: Promise<void> | undefined;
  readonly #stats = { delivered: 0, dropped: 0, failures: 0 };

  constructor(target: WebhookTarget, log: Logger, options: WebhookOptions = {}) {
    this.#target = target;
    this.#url = checkOutboundUrl(target.url, true);
    this.#log = log.child({ webhook: this.#url.origin + this.#url.pathname });
    this.#options = {
      maxQueue: 10_000,
      maxBatch: 100,
      maxAttempts: 8,
      baseDelayMs: 1000,
      maxDelayMs: 60_000,
      timeoutMs: 10_000,
      now: () => Math.floor(Date.now() / 1000),
      ...options,
    };
  }

  /** Whether this receiver wants the record. */
  wants(record: AuditEvent): boolean {
    if (this.#target.orgId !== undefined && record.orgId !== this.#target.orgId) return false;
    return this.#target.kinds === undefined || this.#target.kinds.some((prefix) => record.kind.startsWith(prefix));
  }

  /** Queue records (never waits, never throws). */
  push(records: AuditEvent[]): void {
    if (this.#stop.signal.aborted) return;
    const wanted = records.filter((r) => this.wants(r));
    if (!wanted.length) return;
    this.#queue.push(...wanted);
    const over = this.#queue.length - this.#options.maxQueue;
    if (over > 0) {
      this.#queue.splice(0, over);
      if (this.#stats.dropped === 0) this.#log.error({ maxQueue: this.#options.maxQueue }, 'audit webhook queue full: the oldest records are being dropped');
      this.#stats.dropped += over;
    }
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
  }

  get stats(): WebhookStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  /** Wait up to `graceMs` for the queue to empty, then stop (what is left is dropped). */
  async close(graceMs = 2000): Promise<void> {
    if (this.#running) await Promise.race([this.#running, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    this.#stop.abort();
    await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length && !this.#stop.signal.aborted) {
      const batch = this.#queue.splice(0, this.#options.maxBatch);
      if (await this.#deliver(batch)) this.#stats.delivered += batch.length;
      else if (!this.#stop.signal.aborted) {
        this.#stats.dropped += batch.length;
        this.#log.error({ records: batch.length, firstSeq: batch[0]!.seq }, 'audit webhook: giving up on a batch after every retry');
      }
    }
  }

  /** POST one batch until it is accepted or the attempts run out. */
  async #deliver(batch: AuditEvent[]): Promise<boolean> {
    const body = JSON.stringify({ events: batch.map((record) => ({ id: record.hash, record })) });
    for (let attempt = 1; attempt <= this.#options.maxAttempts; attempt++) {
      if (attempt > 1) await sleep(retryDelay(attempt - 1, this.#options.baseDelayMs, this.#options.maxDelayMs), this.#stop.signal);
      if (this.#stop.signal.aborted) return false;
      const problem = await this.#attempt(body);
      if (problem === undefined) return true;
      this.#stats.failures++;
      this.#log.warn({ attempt, problem }, 'audit webhook delivery failed; retrying');
    }
    return false;
  }

  /** One POST: undefined when accepted, else what went wrong. */
  async #attempt(body: string): Promise<string | undefined> {
    try {
      const response = await fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Portcullis-Webhook/1', [SIGNATURE_HEADER]: signWebhook(this.#target.secret, body, this.#options.now()) },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.#options.timeoutMs)]),
      });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 300 ? undefined : `HTTP ${response.status}`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
}
