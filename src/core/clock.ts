/**
 * Time, as every part of Portcullis reads it: epoch seconds from a clock that can be handed in
 * (tests move it instead of sleeping), and the skew tolerated between machines.
 */

/** Seconds of clock difference tolerated between the authorization server and resource servers. */
export const CLOCK_SKEW = 5;

export interface Clock {
  /** Epoch seconds. */
  now(): number;
  /** Epoch milliseconds, for what is paced finer than a second (device polling). */
  nowMs(): number;
}

export const systemClock: Clock = {
  now: () => Math.floor(Date.now() / 1000),
  nowMs: () => Date.now(),
};
