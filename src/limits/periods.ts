/**
 * The UTC day and month a moment falls in, named so a quota's key can carry its period: when the
 * server's clock passes midnight (or the month's end) the key changes and the count starts again —
 * whatever clock the counter's store runs on, which is how a test that moves the server's clock
 * rolls a quota over.
 */
export interface Period {
  /** `2026-12-07` or `2026-12`. */
  name: string;
  /** Epoch seconds when the next period starts. */
  endsAt: number;
}

export type PeriodKind = 'day' | 'month';

export function periodOf(kind: PeriodKind, epochSeconds: number): Period {
  const at = new Date(epochSeconds * 1000);
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  const iso = at.toISOString();
  if (kind === 'day') return { name: iso.slice(0, 10), endsAt: Date.UTC(year, month, at.getUTCDate() + 1) / 1000 };
  return { name: iso.slice(0, 7), endsAt: Date.UTC(year, month + 1, 1) / 1000 };
}

/** How long a period's counter is kept (real seconds): longer than the period, so it never ends early. */
export const PERIOD_KEEP_SECONDS: Record<PeriodKind, number> = { day: 2 * 86400, month: 32 * 86400 };
