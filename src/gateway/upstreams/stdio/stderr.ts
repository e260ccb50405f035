/**
 * A stdio MCP server's stderr, into the gateway's log one line at a time (MCP 2025-11-25
 * basic/transports §stdio: servers MAY write any logging to stderr). Bounded so a chatty or
 * hostile process cannot flood the log: lines are cut at `maxLineChars`, at most `maxLines` are
 * logged per `windowMs`, and what was left out is counted in one line when the window ends.
 */
import type { Logger } from 'pino';
import { lineSplitter, type LineSplitter } from './lines.ts';

export interface StderrLimits {
  maxLineChars: number;
  maxLines: number;
  windowMs: number;
}

export const DEFAULT_STDERR_LIMITS: StderrLimits = { maxLineChars: 2000, maxLines: 200, windowMs: 10_000 };

export function stderrToLog(log: Logger, limits: StderrLimits = DEFAULT_STDERR_LIMITS, now: () => number = Date.now): LineSplitter {
  let windowStart = now();
  let logged = 0;
  let suppressed = 0;

  const admit = (): boolean => {
    const at = now();
    if (at - windowStart >= limits.windowMs) {
      if (suppressed) log.warn({ suppressed }, 'stdio server stderr: lines left out (too many)');
      windowStart = at;
      logged = 0;
      suppressed = 0;
    }
    if (logged >= limits.maxLines) {
      suppressed++;
      return false;
    }
    logged++;
    return true;
  };

  const splitter = lineSplitter(
    (line) => {
      if (!line.trim() || !admit()) return;
      const cut = line.length > limits.maxLineChars;
      log.info({ stderr: cut ? `${line.slice(0, limits.maxLineChars)}…` : line, ...(cut ? { truncated: line.length } : {}) }, 'stdio server stderr');
    },
    (bytes) => {
      if (admit()) log.info({ truncated: bytes }, 'stdio server stderr: a line too long to log');
    },
    Math.max(limits.maxLineChars * 4, 4096),
  );
  return {
    push: (chunk) => splitter.push(chunk),
    end() {
      splitter.end();
      if (suppressed) log.warn({ suppressed }, 'stdio server stderr: lines left out (too many)');
      suppressed = 0;
    },
  };
}
