/**
 * Server-Sent Events, event by event (WHATWG HTML §9.2): the gateway parses an upstream SSE stream
 * as it arrives, lets a transform look at (and rewrite) each event, and writes it on at once —
 * a stream is never buffered whole.
 */

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  retry?: string;
  /** Comment lines (keep-alives), kept so they still reach the client. */
  comments: string[];
  /**
   * Whether the event had a `data` line, even an empty one. An event whose data is empty but
   * present is dispatched (WHATWG HTML §9.2.6; eventsource-parser, which both MCP SDKs use, skips
   * events without one) — it is how 2025-11-25 servers hand out a stream's first resumption id
   * (the "priming" event: `id: …` + `data:` with nothing in it). Unset: present when `data` is
   * non-empty or the event carries an id.
   */
  hasData?: boolean;
}

/**
 * One non-blank line of an event, applied to it (WHATWG HTML §9.2.6 "process the field"): a
 * comment, or a field — `data` lines accumulate (joined by \n) and set `hasData`.
 */
export function applyLine(event: SseEvent, line: string): void {
  if (line.startsWith(':')) {
    event.comments.push(line.slice(1));
    return;
  }
  const colon = line.indexOf(':');
  const field = colon === -1 ? line : line.slice(0, colon);
  let value = colon === -1 ? '' : line.slice(colon + 1);
  if (value.startsWith(' ')) value = value.slice(1);
  if (field === 'data') {
    event.data = event.hasData ? `${event.data}\n${value}` : value;
    event.hasData = true;
  } else if (field === 'id') event.id = value;
  else if (field === 'event') event.event = value;
  else if (field === 'retry') event.retry = value;
}

/** Bytes → events. Lines may end in \n, \r\n or \r; an event ends at a blank line. */
export function sseParser(): TransformStream<Uint8Array, SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let current: SseEvent = { data: '', comments: [] };
  let touched = false;

  const line = (text: string, emit: (event: SseEvent) => void) => {
    if (text === '') {
      if (touched) emit(current.hasData ? current : { ...current, data: '', hasData: false });
      current = { data: '', comments: [] };
      touched = false;
      return;
    }
    touched = true;
    applyLine(current, text);
  };

  return new TransformStream<Uint8Array, SseEvent>({
    transform(chunk, controller) {
      buffer += decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== '\n' && c !== '\r') continue;
        // A \r at the very end may be the first half of \r\n: wait for the next chunk.
        if (c === '\r' && i === buffer.length - 1) break;
        line(buffer.slice(start, i), (e) => controller.enqueue(e));
        if (c === '\r' && buffer[i + 1] === '\n') i++;
        start = i + 1;
      }
      buffer = buffer.slice(start);
    },
    flush(controller) {
      buffer += decoder.decode();
      if (buffer) line(buffer, (e) => controller.enqueue(e));
      line('', (e) => controller.enqueue(e));
    },
  });
}

export function serializeEvent(event: SseEvent): string {
  let out = '';
  for (const comment of event.comments) out += `:${comment}\n`;
  if (event.event !== undefined) out += `event: ${event.event}\n`;
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  if (event.retry !== undefined) out += `retry: ${event.retry}\n`;
  const hasData = event.hasData ?? (event.data !== '' || event.id !== undefined);
  if (hasData) {
    for (const part of event.data.split('\n')) out += `data: ${part}\n`;
  }
  return `${out}\n`;
}

/** Events → bytes. */
export function sseSerializer(): TransformStream<SseEvent, Uint8Array> {
  const encoder = new TextEncoder();
  return new TransformStream<SseEvent, Uint8Array>({
    transform(event, controller) {
      controller.enqueue(encoder.encode(serializeEvent(event)));
    },
  });
}
