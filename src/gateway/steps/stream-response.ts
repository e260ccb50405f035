/**
 * Carry an upstream answer to the client, rewriting only what must be rewritten. Most answers
 * (a tools/call result) need nothing: they pass as the bytes that came, event by event, with no
 * JSON parsing. An event is parsed and filtered only when the exchange asked for a list the
 * gateway filters, or when the event could create a task, announce a tool-list change or carry a
 * `cacheScope` to make private; SSE event ids are always bound to the caller (bindings.ts). What
 * is parsed is serialized again with every number as the upstream wrote it (jsonrpc.ts).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { parseExactJson } from '../jsonrpc.ts';
import { applyLine, serializeEvent, type SseEvent } from '../../shared/sse.ts';
import { filterJson, filterMessage, type FilterContext } from './filter-response.ts';

const FILTERED_LISTS = new Set(['tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'tasks/list']);

/** Whether a message (as text) might need the filter, judged without parsing it. */
export function mayNeedFilter(ctx: FilterContext, text: string): boolean {
  for (const method of ctx.methods.values()) if (FILTERED_LISTS.has(method)) return true;
  // `cacheScope` as a key is written so by every serializer; a `resources/read` or
  // `server/discover` result without it passes as its bytes.
  return text.includes('"taskId"') || text.includes('list_changed') || text.includes('"cacheScope"');
}

export async function rewriteJsonBody(ctx: FilterContext, text: string): Promise<string> {
  if (!mayNeedFilter(ctx, text)) return text;
  const value = parseExactJson(text);
  if (value === undefined) return text;
  return JSON.stringify(await filterJson(ctx, value));
}

/** SSE in, SSE out, one event at a time, as they arrive (Node stream: no web-stream overhead). */
export class SseRewriter extends Transform {
  readonly #ctx: FilterContext;
  readonly #sealId: (id: string) => string;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  #lines: string[] = [];

  constructor(ctx: FilterContext, sealId: (id: string) => string) {
    super();
    this.#ctx = ctx;
    this.#sealId = sealId;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#buffer += this.#decoder.decode(chunk, { stream: true });
    this.#drain(false).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    this.#buffer += this.#decoder.decode();
    this.#drain(true).then(() => done(), done);
  }

  async #drain(final: boolean): Promise<void> {
    let start = 0;
    const text = this.#buffer;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A CR at the very end may be the first half of CRLF: wait for more.
      if (c === 13 && i === text.length - 1 && !final) break;
      const line = text.slice(start, i);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
      if (line === '') await this.#event();
      else this.#lines.push(line);
    }
    this.#buffer = text.slice(start);
    if (final) {
      if (this.#buffer) this.#lines.push(this.#buffer);
      this.#buffer = '';
      await this.#event();
    }
  }

  async #event(): Promise<void> {
    const lines = this.#lines;
    if (lines.length === 0) return;
    this.#lines = [];
    const event: SseEvent = { data: '', comments: [] };
    for (const line of lines) applyLine(event, line);
    const isMessage = event.hasData === true && (event.event === undefined || event.event === 'message');
    const inspect = isMessage && mayNeedFilter(this.#ctx, event.data);
    if (!inspect && (event.id === undefined || event.id === '')) {
      this.push(`${lines.join('\n')}\n\n`);
      return;
    }
    if (event.id !== undefined && event.id !== '') event.id = this.#sealId(event.id);
    if (inspect) {
      const message = parseExactJson(event.data);
      // Not JSON: forwarded unchanged.
      if (message !== undefined) event.data = JSON.stringify(await filterMessage(this.#ctx, message));
    }
    this.push(serializeEvent(event));
  }
}
