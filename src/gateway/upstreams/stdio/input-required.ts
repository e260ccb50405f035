/**
 * Server requests for 2026-07-28 clients (Multi Round-Trip Requests, basic/patterns/mrtr).
 *
 * A modern client cannot be sent a request: a server that needs input answers the client's
 * `tools/call`, `prompts/get` or `resources/read` with an `InputRequiredResult` (`inputRequests`
 * plus an opaque `requestState`), and the client retries that request with `inputResponses` and
 * the same `requestState`. A legacy stdio process instead asks mid-request (`elicitation/create`,
 * `sampling/createMessage`, `roots/list`) and waits. The bridge joins the two: it parks the
 * process's request under a fresh, unguessable `requestState`, answers the client with
 * `input_required`, and when the retry comes — from the same user and client, for the same
 * method, within `ttlMs` — hands the client's answer to the waiting process and lets the retry
 * receive the original request's result. A state that is unknown, expired, replayed (it is used
 * once) or presented by someone else is refused; one never answered is given up: the process's
 * request gets an error and the original request is cancelled.
 */
import { randomBytes } from 'node:crypto';
import type { JsonRpcId } from '../../jsonrpc.ts';

/** Requests a server may answer with an InputRequiredResult (mrtr "Supported Requests"). */
export const INPUT_REQUIRED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

export interface ParkedInput {
  /** The key of the one entry in `inputRequests`. */
  key: string;
  /** The process's id for its own request (answered when the client retries). */
  serverRequestId: JsonRpcId;
  /** The bridge id of the client request the process is still working on. */
  bridgeId: number;
  subject: string;
  clientId: string;
  /** The client request's method: a retry must repeat it. */
  method: string;
}

export class InputRequests {
  readonly #parked = new Map<string, { input: ParkedInput; timer: ReturnType<typeof setTimeout> }>();
  readonly #ttlMs: number;
  readonly #expired: (input: ParkedInput) => void;
  #next = 1;

  constructor(ttlMs: number, expired: (input: ParkedInput) => void) {
    this.#ttlMs = ttlMs;
    this.#expired = expired;
  }

  /** Park a process request; returns the `requestState` and input key to send the client. */
  park(input: Omit<ParkedInput, 'key'>): { requestState: string; key: string } {
    const requestState = randomBytes(24).toString('base64url');
    const parked: ParkedInput = { ...input, key: `input-${this.#next++}` };
    const timer = setTimeout(() => {
      this.#parked.delete(requestState);
      this.#expired(parked);
    }, this.#ttlMs);
    timer.unref();
    this.#parked.set(requestState, { input: parked, timer });
    return { requestState, key: parked.key };
  }

  /** The parked request a retry resumes (used up), or undefined when it may not. */
  take(requestState: string, caller: { subject: string; clientId: string }, method: string): ParkedInput | undefined {
    const entry = this.#parked.get(requestState);
    if (!entry) return undefined;
    const { input } = entry;
    if (input.subject !== caller.subject || input.clientId !== caller.clientId || input.method !== method) return undefined;
    clearTimeout(entry.timer);
    this.#parked.delete(requestState);
    return input;
  }

  /** The process finished that request on its own: nothing to resume any more. */
  dropFor(bridgeId: number): void {
    for (const [state, entry] of this.#parked) {
      if (entry.input.bridgeId !== bridgeId) continue;
      clearTimeout(entry.timer);
      this.#parked.delete(state);
    }
  }

  clear(): void {
    for (const entry of this.#parked.values()) clearTimeout(entry.timer);
    this.#parked.clear();
  }
}

/** The InputRequiredResult for one parked request. */
export function inputRequiredResult(key: string, request: { method: string; params?: unknown }, requestState: string): Record<string, unknown> {
  return {
    resultType: 'input_required',
    inputRequests: { [key]: request.params === undefined ? { method: request.method } : { method: request.method, params: request.params } },
    requestState,
  };
}
