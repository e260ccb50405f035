/**
 * RFC 8628 polling rules the engine leaves out (DESIGN.md "Known engine gaps"): the device
 * authorization response gets an `interval`; a device that polls the token endpoint sooner than
 * its interval gets `slow_down` and its interval grows by 5 seconds for every later poll (§3.5);
 * a poll after the device code expired gets `expired_token` (the store no longer returns expired
 * rows, so the engine alone would say `invalid_grant`).
 *
 * One koa middleware, run around the engine: it only rewrites the engine's own
 * `authorization_pending` / `invalid_grant` answers, so it can never turn a refusal into a success.
 * The per-code state (client, expiry, interval, last poll) lives in the store's one-time values
 * (poll-state.ts), so every process sharing the database applies the same interval to the same
 * device code. Two polls of one code racing in two processes may each see no state for an instant
 * (read is take-then-put); the loser then counts as a first poll — a device cannot gain more than
 * one early poll that way.
 */
import type { Store } from '../../store/store.ts';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { SecretKey } from '../../core/crypto.ts';
import { openDecision } from './decision-slot.ts';
import { PollStates, type PollState } from './poll-state.ts';
import { normalizeUserCode } from './user-codes.ts';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** Seconds between polls a device is told to wait (RFC 8628 §3.2; 5 is the RFC's default). */
export const DEVICE_POLL_INTERVAL = 5;
/** How much the interval grows at each `slow_down` (RFC 8628 §3.5). */
export const SLOW_DOWN_STEP = 5;
/** A poll this early still counts as on time: the device's timer starts when it reads our answer. */
const EARLY_TOLERANCE_MS = 250;

export interface DevicePollingDeps {
  store: Store;
  pepper: SecretKey;
  /** Seconds (the server clock; expiry). */
  now: () => number;
  /** Milliseconds (poll spacing). */
  nowMs?: () => number;
}

type Body = Record<string, unknown>;

/** What the answers below need: the states, both clocks, and what `issued` opens. */
interface Polling {
  states: PollStates;
  store: Store;
  pepper: SecretKey;
  now: () => number;
  nowMs: () => number;
}

export function devicePolling(deps: DevicePollingDeps) {
  const polling: Polling = { ...deps, states: new PollStates(deps), nowMs: deps.nowMs ?? Date.now };
  return async function devicePollingMiddleware(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    const route = ctx.oidc?.route;
    const body = ctx.body && typeof ctx.body === 'object' ? (ctx.body as Body) : undefined;
    if (!body) return;
    if (route === 'device_authorization') return issued(polling, ctx, body);
    const deviceCode = ctx.oidc?.params?.device_code;
    if (route === 'token' && ctx.oidc.params?.grant_type === DEVICE_CODE_GRANT && typeof deviceCode === 'string') {
      return polled(polling, ctx, body, deviceCode);
    }
  };
}

/** A device authorization was issued: tell the device its interval, start its state, open its decision (decision-slot.ts). */
async function issued(polling: Polling, ctx: KoaContextWithOIDC, body: Body): Promise<void> {
  const { states, now } = polling;
  // The engine calls a client without the device grant an invalid_request; RFC 6749 §5.2 (which
  // RFC 8628 §3.2 refers to) names it: unauthorized_client.
  const client = ctx.oidc.client;
  if (ctx.status === 400 && body.error === 'invalid_request' && client && !client.grantTypeAllowed(DEVICE_CODE_GRANT)) body.error = 'unauthorized_client';
  if (ctx.status !== 200 || typeof body.device_code !== 'string') return;
  body.interval = DEVICE_POLL_INTERVAL;
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : null;
  const exp = expiresIn === null ? null : now() + expiresIn;
  await states.keep(states.keyOf(body.device_code), { clientId: client!.clientId, exp, interval: DEVICE_POLL_INTERVAL, last: null });
  const userCode = typeof body.user_code === 'string' ? normalizeUserCode(body.user_code) : undefined;
  if (userCode) await openDecision(polling.store, polling.pepper, userCode, exp ?? now() + 3600);
}

/** A poll was answered by the engine; adjust the answer as RFC 8628 §3.5 says. */
async function polled(polling: Polling, ctx: KoaContextWithOIDC, body: Body, deviceCode: string): Promise<void> {
  const key = polling.states.keyOf(deviceCode);
  if (ctx.status === 200 || body.error === 'access_denied') {
    // Done either way: the code is consumed, later polls are invalid_grant.
    await polling.states.take(key);
    return;
  }
  if (body.error === 'authorization_pending') return pacePending(polling, ctx, key);
  if (body.error === 'invalid_grant') return reportExpiry(polling, ctx, key);
}

/** Still pending: a poll sooner than the device's interval gets `slow_down`, and the interval grows. */
async function pacePending(polling: Polling, ctx: KoaContextWithOIDC, key: string): Promise<void> {
  const clientId = ctx.oidc.client?.clientId;
  const state: PollState = (await polling.states.take(key)) ?? { clientId: clientId ?? '', exp: null, interval: DEVICE_POLL_INTERVAL, last: null };
  const at = polling.nowMs();
  const early = state.last !== null && at - state.last < state.interval * 1000 - EARLY_TOLERANCE_MS;
  state.last = at;
  if (early) {
    state.interval += SLOW_DOWN_STEP;
    ctx.body = {
      error: 'slow_down',
      error_description: `polling too fast: wait at least ${state.interval} seconds between requests`,
      // Not in RFC 8628's error response, but allowed (RFC 6749 §5.2 responses may carry more):
      // the interval the device must now keep, so it need not count slow_downs itself.
      interval: state.interval,
    };
  }
  await polling.states.keep(key, state);
}

/** The engine's `invalid_grant` for a code past its expiry is RFC 8628's `expired_token`. */
async function reportExpiry(polling: Polling, ctx: KoaContextWithOIDC, key: string): Promise<void> {
  const state = await polling.states.take(key);
  if (!state) return;
  // Only the client the code was issued to learns that it expired; any other client's poll
  // stays invalid_grant (client mismatch), as the engine answered.
  if (state.clientId === ctx.oidc.client?.clientId && state.exp !== null && polling.now() >= state.exp) {
    ctx.body = { error: 'expired_token', error_description: 'the device code has expired: start again' };
    ctx.status = 400;
  }
  await polling.states.keep(key, state);
}
