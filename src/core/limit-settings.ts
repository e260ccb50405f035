/**
 * Rate limits and quotas as the configuration file (`limits`) and an organization's settings
 * (`settings.limits`) state them — one schema for both, so the admin API, the OpenAPI document and
 * `config check` accept the same words. What they mean at run time is limits/call-limits.ts.
 *
 * A rate is a budget of `limit` calls that refills every `window` seconds, counted per scope: the
 * organization, a user within it, an OAuth client within it, an API key, an application (every
 * caller together) and a tool (per user). A quota is a number of calls per UTC day and/or month,
 * per organization and per user. "Tighter" compares both the burst (`limit`) and the sustained
 * rate (`limit / window`): a rate is at most another when neither exceeds the other's.
 */
import * as z from 'zod';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const MAX_WINDOW = 86400;

/** A window in seconds: a positive integer, or "30s", "1m", "1h", "1d". */
const windowSeconds = z
  .union([z.int().positive(), z.string().regex(/^\d+[smhd]?$/, 'expected seconds or a duration such as "30s", "1m", "1h"')])
  .transform((value) => (typeof value === 'number' ? value : Number(value.replace(/[smhd]$/, '')) * (UNITS[value.slice(-1)] ?? 1)))
  .refine((seconds) => seconds > 0 && seconds <= MAX_WINDOW, `must be between 1 second and ${MAX_WINDOW} seconds`);

const RATE_TEXT = /^(\d+)\/(\d+[smhd]?)$/;

/**
 * `{ "limit": 100, "window": "1m" }`, or the short form `"100/1m"` (what environment variables
 * carry). The window defaults to one minute.
 */
export const RateSchema = z.union([
  z.strictObject({ limit: z.int().min(1).max(1_000_000_000), window: windowSeconds.default(60) }),
  z.string().regex(RATE_TEXT, 'expected "<calls>/<window>", e.g. "100/1m"').transform((text, ctx) => {
    const [, limit, window] = RATE_TEXT.exec(text)!;
    const seconds = windowSeconds.safeParse(/^\d+$/.test(window!) ? Number(window) : window);
    if (!seconds.success || Number(limit) < 1) {
      ctx.addIssue({ code: 'custom', message: `expected at least 1 call per 1 to ${MAX_WINDOW} seconds` });
      return z.NEVER;
    }
    return { limit: Number(limit), window: seconds.data };
  }),
]);

export type Rate = { limit: number; window: number };

/** Calls per UTC day and per UTC month. */
export const QuotaSchema = z.strictObject({
  day: z.int().min(1).optional(),
  month: z.int().min(1).optional(),
});
export type Quota = z.output<typeof QuotaSchema>;

const idMap = z.record(z.string().min(1).max(2000), RateSchema);

/** The limits of the gateway's calls; every key optional (absent: no limit of that kind). */
export const LimitSettingsSchema = z.strictObject({
  org: RateSchema.optional(),
  user: RateSchema.optional(),
  client: RateSchema.optional(),
  apiKey: RateSchema.optional(),
  application: RateSchema.optional(),
  tool: RateSchema.optional(),
  /** One tool's own rate, by `<application slug>/<tool name>` (per user, like `tool`). */
  tools: idMap.optional(),
  /** One OAuth client's own rate, by client id (within the organization). */
  clients: idMap.optional(),
  /** One API key's own rate, by key id. */
  apiKeys: idMap.optional(),
  quotas: z.strictObject({ org: QuotaSchema.optional(), user: QuotaSchema.optional() }).optional(),
});
export type LimitSettings = z.output<typeof LimitSettingsSchema>;

/** Is `rate` at most `bound` — no larger burst and no faster sustained rate? */
export function withinRate(rate: Rate, bound: Rate): boolean {
  return rate.limit <= bound.limit && rate.limit / rate.window <= bound.limit / bound.window;
}

export function describeRate(rate: Rate): string {
  return `${rate.limit} calls per ${rate.window} s`;
}
