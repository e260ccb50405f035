/**
 * One child process speaking MCP over stdio (2025-11-25 basic/transports §stdio): JSON-RPC
 * messages on stdin and stdout, one per line, UTF-8; anything on stderr is logging.
 *
 * The child leads its own process group, so stopping it also stops whatever it started (a shell
 * wrapper, `npx`, a language runtime's helpers) — no orphans. Stopping follows the transport's
 * shutdown sequence: close stdin, then SIGTERM, then SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { lineSplitter } from './lines.ts';
import { stderrToLog } from './stderr.ts';

export interface ProcessSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StdioProcessOptions {
  log: Logger;
  /** Each JSON value read from stdout (a message, or an array of them). */
  onMessage(message: unknown): void;
  /** A stdout line over this size is a broken server: it is stopped. */
  maxMessageBytes?: number;
}

const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const NOT_JSON_LOG_LIMIT = 20;

export class StdioProcess {
  readonly pid: number;
  /** Resolves once the process is gone (however it ended). */
  readonly exited: Promise<ExitInfo>;
  readonly #child: ChildProcess;
  readonly #log: Logger;
  #gone = false;

  private constructor(child: ChildProcess, exited: Promise<ExitInfo>, log: Logger) {
    this.#child = child;
    this.pid = child.pid!;
    this.exited = exited;
    this.#log = log;
    void exited.then(() => (this.#gone = true));
  }

  /** Start `spec`; rejects when it cannot be started at all (no such command, not executable). */
  static async start(spec: ProcessSpec, options: StdioProcessOptions): Promise<StdioProcess> {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const log = options.log.child({ serverPid: child.pid });
    const exited = new Promise<ExitInfo>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const proc = new StdioProcess(child, exited, log);
    child.on('error', (err) => log.warn({ err }, 'stdio server process error'));
    child.stdin!.on('error', () => {}); // EPIPE when it dies mid-write: the exit handler reports it.

    let notJson = 0;
    const stdout = lineSplitter(
      (line) => {
        if (!line.trim()) return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          if (notJson++ < NOT_JSON_LOG_LIMIT) log.warn({ line: line.slice(0, 500) }, 'stdio server wrote something other than JSON-RPC to stdout');
          return;
        }
        options.onMessage(value);
      },
      (bytes) => {
        log.error({ bytes }, 'stdio server sent a message larger than allowed; stopping it');
        proc.kill();
      },
      options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    );
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stdout!.on('end', () => stdout.end());
    const stderr = stderrToLog(log);
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stderr!.on('end', () => stderr.end());
    return proc;
  }

  get running(): boolean {
    return !this.#gone;
  }

  /** Write one message; false when the process can no longer take it. */
  send(message: unknown): boolean {
    const stdin = this.#child.stdin;
    if (this.#gone || !stdin || stdin.destroyed || stdin.writableEnded) return false;
    stdin.write(`${JSON.stringify(message)}\n`);
    return true;
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#gone) return;
    try {
      // The whole group: the server and anything it started.
      if (process.platform !== 'win32') process.kill(-this.pid, signal);
      else this.#child.kill(signal);
    } catch {
      try {
        this.#child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }

  /** SIGKILL at once (the process misbehaved or is being replaced). */
  kill(): void {
    this.#signal('SIGKILL');
  }

  /** Close stdin, then SIGTERM after `graceMs`, then SIGKILL after as long again; resolves when gone. */
  async stop(graceMs = 2000): Promise<ExitInfo> {
    if (!this.#gone) {
      this.#child.stdin?.end();
      const term = setTimeout(() => this.#signal('SIGTERM'), graceMs);
      const kill = setTimeout(() => this.#signal('SIGKILL'), graceMs * 2);
      try {
        await this.exited;
      } finally {
        clearTimeout(term);
        clearTimeout(kill);
      }
      // The leader is gone; make sure nothing it started lingers in its group.
      this.#signalGroupRemains();
    }
    return this.exited;
  }

  #signalGroupRemains(): void {
    if (process.platform === 'win32') return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // No such group left: nothing lingers.
    }
  }

  /** After an unexpected exit: stop anything the dead leader left behind in its group. */
  reapGroup(): void {
    this.#signalGroupRemains();
    this.#log.debug('process group reaped');
  }
}
