/**
 * An SSE response body the bridge writes into as messages arrive from the process (WHATWG HTML
 * §9.2 event stream format; MCP Streamable HTTP sends each JSON-RPC message as one `message`
 * event). JSON.stringify never produces a raw newline, so each message is one `data:` line.
 */

const encoder = new TextEncoder();

export class EventStream {
  readonly body: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  readonly #onClose: () => void;

  /**
   * `onClose` runs once when the stream ends for any reason (closed here or dropped by the reader).
   * `keepAliveMs`: write an SSE comment this often, so idle intermediaries keep a quiet stream open.
   */
  constructor(onClose: () => void, keepAliveMs?: number) {
    this.#onClose = onClose;
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => this.#finish(),
    });
    if (keepAliveMs) {
      this.#keepAlive = setInterval(() => this.#write(':\n\n'), keepAliveMs);
      this.#keepAlive.unref();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Write one message; false when the stream is already closed. */
  send(message: unknown, id?: string): boolean {
    return this.#write(`${id !== undefined ? `id: ${id}\n` : ''}event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.#controller.close();
    } catch {
      // The reader went away first.
    }
    this.#finish();
  }

  #write(text: string): boolean {
    if (this.#closed) return false;
    try {
      this.#controller.enqueue(encoder.encode(text));
      return true;
    } catch {
      this.#finish();
      return false;
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    this.#onClose();
  }
}
