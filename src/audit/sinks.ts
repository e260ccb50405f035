/**
 * Where committed records stream out of this process, besides the store (config `audit.stdout`,
 * `audit.webhooks`): every record the AuditLog commits, in order, to each sink.
 *  - stdout: one JSON line per record, as stored (hashed fields, seq, chain, prevHash, hash), for log
 *    shippers. Our logs go to stderr, so the two never mix. A reader that stops reading does not grow
 *    memory without end: past `maxBufferedBytes` waiting to be written, records are dropped (counted,
 *    logged once) until it catches up.
 *  - webhooks: audit/webhooks.ts.
 * Only this process's records: with several instances each streams what it wrote.
 */
import type { Logger } from 'pino';
import type { AuditEvent } from '../store/audit.ts';
import type { AuditLog } from './audit-log.ts';
import { WebhookSender, type WebhookOptions, type WebhookTarget } from './webhooks.ts';

export interface SinkSettings {
  stdout: boolean;
  webhooks: WebhookTarget[];
}

export interface AuditSinks {
  webhooks: WebhookSender[];
  /** Records the stdout sink dropped because its reader fell behind. */
  readonly stdoutDropped: number;
  /** Give the webhooks up to `graceMs` to deliver what is queued, then stop them. */
  close(graceMs?: number): Promise<void>;
}

/** A sink writing each record as one JSON line. */
export function jsonLinesSink(out: NodeJS.WritableStream & { writableLength?: number }, log: Logger, maxBufferedBytes = 64 * 1024 * 1024) {
  const sink = {
    dropped: 0,
    write(records: AuditEvent[]): void {
      if ((out.writableLength ?? 0) > maxBufferedBytes) {
        if (sink.dropped === 0) log.error({ maxBufferedBytes }, 'audit stdout sink: the reader is not keeping up; records are being dropped');
        sink.dropped += records.length;
        return;
      }
      // One write per batch: lines of one batch reach the reader together.
      out.write(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    },
  };
  return sink;
}

export function startAuditSinks(audit: AuditLog, settings: SinkSettings, log: Logger, options: { stdout?: NodeJS.WritableStream; webhook?: WebhookOptions } = {}): AuditSinks {
  const stdout = settings.stdout ? jsonLinesSink(options.stdout ?? process.stdout, log) : undefined;
  const webhooks = settings.webhooks.map((target) => new WebhookSender(target, log, options.webhook));
  if (stdout || webhooks.length) {
    audit.onRecords((records) => {
      stdout?.write(records);
      for (const hook of webhooks) hook.push(records);
    });
  }
  return {
    webhooks,
    get stdoutDropped() {
      return stdout?.dropped ?? 0;
    },
    async close(graceMs) {
      await Promise.all(webhooks.map((hook) => hook.close(graceMs)));
    },
  };
}
