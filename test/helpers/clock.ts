/**
 * Time as an input: a clock a test server takes (`startTestServer(overrides, { clock })`) and the
 * test moves — instead of sleeping until a token, a code or a sign-in has aged. Everything the
 * server decides by time reads it: token expiry at the gateway, the dates of the JWT access tokens
 * the engine issues (authz/engine/issuance.ts), what the store still returns, device polling,
 * step-up freshness, revocations. Timers (keep-alives, polling intervals) are real.
 */
import type { Clock } from '../../src/core/clock.ts';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export interface TestClock extends Clock {
  /** Epoch seconds, as the server reads them. */
  now(): number;
  /** Move forward by seconds or a duration such as "16m", "31m", "2h". */
  advance(by: number | string): void;
}

export function testClock(start = Math.floor(Date.now() / 1000)): TestClock {
  // The offset from real time, so a clock that is not moved keeps running like the real one.
  let offset = start - Math.floor(Date.now() / 1000);
  return {
    now: () => Math.floor(Date.now() / 1000) + offset,
    nowMs: () => Date.now() + offset * 1000,
    advance(by) {
      const seconds = typeof by === 'number' ? by : Number(by.slice(0, -1)) * (UNITS[by.slice(-1)] ?? Number.NaN);
      if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`not a duration: ${by}`);
      offset += seconds;
    },
  };
}
