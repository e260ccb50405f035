/**
 * A minimal Streamable HTTP client (MCP transport spec, 2025-06-18) for the self-test, so every
 * HTTP status and header is seen — an SDK client would hide the very answers being checked. It
 * sends one JSON-RPC request at a time and reads its response, as JSON or from an SSE stream,
 * and nothing more of a stream.
 */
import { sseParser } from '../shared/sse.ts';

export const PROTOCOL_VERSION = '2025-06-18';

/** `initialize` params of the self-test's client. */
export const INITIALIZE_PARAMS = { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'portcullis-self-test', version: '1' } };

export interface Answer {
  status: number;
  headers: Headers;
  /** The JSON-RPC response to our request, when one came (as JSON or inside an SSE stream). */
  message: Record<string, unknown> | undefined;
}

export class McpHttp {
  readonly #url: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  #session: string | undefined;
  #protocol: string | undefined;
  #nextId = 1;

  constructor(url: string, token: string | undefined, fetcher: typeof fetch, timeoutMs: number) {
    this.#url = url;
    this.#token = token;
    this.#fetch = fetcher;
    this.#timeoutMs = timeoutMs;
  }

  #headers(): Headers {
    const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' });
    if (this.#token !== undefined) headers.set('authorization', `Bearer ${this.#token}`);
    if (this.#session) headers.set('mcp-session-id', this.#session);
    if (this.#protocol) headers.set('mcp-protocol-version', this.#protocol);
    return headers;
  }

  /** Send one request and read its response (and nothing more of a stream). */
  async request(method: string, params: Record<string, unknown> = {}): Promise<Answer> {
    const id = this.#nextId++;
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const response = await this.#fetch(this.#url, {
      method: 'POST',
      headers: this.#headers(),
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
      signal,
    });
    return { status: response.status, headers: response.headers, message: await readResponse(response, id) };
  }

  async notify(method: string): Promise<void> {
    const response = await this.#fetch(this.#url, {
      method: 'POST',
      headers: this.#headers(),
      body: JSON.stringify({ jsonrpc: '2.0', method }),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    await response.body?.cancel();
  }

  /** initialize + notifications/initialized; returns the initialize answer. */
  async open(): Promise<Answer> {
    const answer = await this.request('initialize', INITIALIZE_PARAMS);
    const result = resultOf(answer);
    if (answer.status === 200 && result) {
      this.#session = answer.headers.get('mcp-session-id') ?? undefined;
      this.#protocol = typeof result.protocolVersion === 'string' ? result.protocolVersion : PROTOCOL_VERSION;
      await this.notify('notifications/initialized');
    }
    return answer;
  }

  /** End the session, if the server gave one (best effort). */
  async close(): Promise<void> {
    if (!this.#session) return;
    try {
      const response = await this.#fetch(this.#url, { method: 'DELETE', headers: this.#headers(), signal: AbortSignal.timeout(this.#timeoutMs) });
      await response.body?.cancel();
    } catch {
      // The session expires on its own.
    }
  }
}

async function readResponse(response: Response, id: number): Promise<Record<string, unknown> | undefined> {
  const type = response.headers.get('content-type') ?? '';
  if (!response.body) return undefined;
  if (type.startsWith('text/event-stream')) {
    const reader = response.body.pipeThrough(sseParser()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return undefined;
        const message = parseObject(value.data);
        if (message && message.id === id) return message;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
  return parseObject(await response.text());
}

/** A JSON object, or undefined for anything else (other JSON, or not JSON). */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function resultOf(answer: Answer): Record<string, unknown> | undefined {
  const result = answer.message?.result;
  return result && typeof result === 'object' ? (result as Record<string, unknown>) : undefined;
}

/** An answer that is not a result, in a sentence: the HTTP status and the JSON-RPC or OAuth error. */
export function errorOf(answer: Answer): string {
  const error = answer.message?.error as { code?: unknown; message?: unknown } | undefined;
  if (error) return `HTTP ${answer.status}, JSON-RPC error ${String(error.code)}${typeof error.message === 'string' ? ` (${error.message})` : ''}`;
  const body = answer.message as { error?: unknown } | undefined;
  return `HTTP ${answer.status}${typeof body?.error === 'string' ? ` ${body.error}` : ''}`;
}

/** Parameters of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3). */
export function challengeParams(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  if (!header || !/^bearer\b/i.test(header)) return params;
  for (const match of header.matchAll(/([\w-]+)="((?:[^"\\]|\\.)*)"/g)) params[match[1]!] = match[2]!.replace(/\\(.)/g, '$1');
  return params;
}

/** Every tools/list page (at most 20), as the token sees them. */
export async function listTools(client: McpHttp): Promise<{ answer: Answer; names: string[] }> {
  const names: string[] = [];
  let cursor: string | undefined;
  let answer!: Answer;
  for (let page = 0; page < 20; page++) {
    answer = await client.request('tools/list', cursor ? { cursor } : {});
    const result = resultOf(answer);
    if (answer.status !== 200 || !result || !Array.isArray(result.tools)) return { answer, names };
    for (const tool of result.tools) if (tool && typeof tool === 'object' && typeof (tool as { name?: unknown }).name === 'string') names.push((tool as { name: string }).name);
    cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined;
    if (!cursor) break;
  }
  return { answer, names };
}
