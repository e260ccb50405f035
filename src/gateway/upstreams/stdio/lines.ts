/**
 * Bytes → lines, for the MCP stdio transport (messages are delimited by newlines and contain none,
 * 2025-11-25 basic/transports §stdio) and for a process's stderr. Bytes are kept until a line is
 * complete, so a UTF-8 character split across reads decodes whole. A line longer than `maxBytes`
 * is never held in memory: the splitter reports it once, drops it up to its newline and carries on.
 */

export interface LineSplitter {
  push(chunk: Buffer): void;
  /** The unterminated rest, as a last line (at end of stream). */
  end(): void;
}

export function lineSplitter(onLine: (line: string) => void, onOverflow: (droppedBytes: number) => void, maxBytes: number): LineSplitter {
  let parts: Buffer[] = [];
  let length = 0;
  let dropping = false;
  let dropped = 0;

  const emit = (tail: Buffer) => {
    if (dropping) {
      onOverflow(dropped + tail.length);
      dropping = false;
      dropped = 0;
    } else {
      const bytes = parts.length ? Buffer.concat([...parts, tail]) : tail;
      let line = bytes.toString('utf8');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      onLine(line);
    }
    parts = [];
    length = 0;
  };

  const hold = (piece: Buffer) => {
    if (dropping) {
      dropped += piece.length;
      return;
    }
    if (length + piece.length > maxBytes) {
      dropping = true;
      dropped = length + piece.length;
      parts = [];
      length = 0;
      return;
    }
    parts.push(piece);
    length += piece.length;
  };

  return {
    push(chunk) {
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(0x0a, start);
        if (newline === -1) break;
        const tail = chunk.subarray(start, newline);
        if (!dropping && length + tail.length > maxBytes) {
          hold(tail);
          emit(Buffer.alloc(0));
        } else emit(tail);
        start = newline + 1;
      }
      if (start < chunk.length) hold(Buffer.from(chunk.subarray(start)));
    },
    end() {
      if (length || dropping) emit(Buffer.alloc(0));
    },
  };
}
