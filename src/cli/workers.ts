/**
 * `portcullis start --workers N`: N processes of this machine (node:cluster) serving one port and
 * one store. The primary serves nothing itself; it
 *   - starts worker 1 alone first (it applies migrations and makes the first-run link), then the
 *     others, and prints the banner once, with the link, when worker 1 is ready;
 *   - relays the change feed between workers on SQLite (fanout/cluster.ts); on PostgreSQL or Redis
 *     the workers hear each other through the database or Redis like any other instances;
 *   - restarts a worker that dies, after 1 s doubling to 30 s while they keep dying young (a worker
 *     that ran a minute starts the count again), in the same slot — slot 1 keeps housekeeping, so
 *     expired rows are swept by one process of the machine, not N at once;
 *   - on SIGTERM / SIGINT / SIGHUP passes SIGTERM to every worker, which closes gracefully (answers
 *     in flight finish), waits for them (20 s at most, then SIGKILL) and exits.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { relayChanges } from '../fanout/cluster.ts';

/** The variable naming a worker's slot (1…N). Not PORTCULLIS_*: the configuration refuses unknown ones. */
export const WORKER_SLOT = 'PCS_WORKER_SLOT';

/** What a worker tells the primary once it serves. */
export interface WorkerReady {
  portcullisWorkerReady: { slot: number; banner: string | undefined };
}

const FIRST_RESTART_MS = 1000;
const MAX_RESTART_MS = 30_000;
/** A worker that ran this long died of something new: restart it promptly again. */
const HEALTHY_MS = 60_000;
const STOP_GRACE_MS = 20_000;

function isReady(message: unknown): message is WorkerReady {
  return typeof message === 'object' && message !== null && 'portcullisWorkerReady' in message;
}

interface Slot {
  worker: Worker | undefined;
  startedAt: number;
  restartMs: number;
  timer: NodeJS.Timeout | undefined;
}

/** Run the primary: resolves never (the process exits on a signal, or when worker 1 cannot start). */
export async function runPrimary(count: number, log: Logger, out: NodeJS.WritableStream): Promise<void> {
  relayChanges(cluster);
  const slots = new Map<number, Slot>();
  let stopping = false;
  let printed = false;

  const fork = (slot: number): Worker => {
    const worker = cluster.fork({ [WORKER_SLOT]: String(slot) });
    const state = slots.get(slot) ?? { worker, startedAt: 0, restartMs: FIRST_RESTART_MS, timer: undefined };
    Object.assign(state, { worker, startedAt: Date.now(), timer: undefined });
    slots.set(slot, state);
    worker.on('message', (message: unknown) => {
      if (!isReady(message)) return;
      log.info({ slot, pid: worker.process.pid }, 'worker ready');
      const { banner } = message.portcullisWorkerReady;
      if (banner === undefined || printed) return;
      printed = true;
      out.write(banner);
    });
    worker.on('exit', (code, signal) => onExit(slot, worker, code, signal));
    return worker;
  };

  const onExit = (slot: number, worker: Worker, code: number | null, signal: string | null) => {
    const state = slots.get(slot)!;
    if (state.worker !== worker) return;
    state.worker = undefined;
    if (stopping) return;
    if (Date.now() - state.startedAt >= HEALTHY_MS) state.restartMs = FIRST_RESTART_MS;
    log.warn({ slot, code, signal, restartInMs: state.restartMs }, 'a worker exited; restarting it');
    state.timer = setTimeout(() => fork(slot), state.restartMs);
    state.restartMs = Math.min(state.restartMs * 2, MAX_RESTART_MS);
  };

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down the workers');
    const running = [...slots.values()].flatMap((s) => (clearTimeout(s.timer), s.worker ? [s.worker] : []));
    const exited = running.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const worker of running) worker.process.kill('SIGTERM');
    const force = setTimeout(() => running.forEach((w) => w.process.kill('SIGKILL')), STOP_GRACE_MS);
    void Promise.all(exited).then(() => {
      clearTimeout(force);
      process.exit(0);
    });
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));

  try {
    await firstWorker(fork(1));
  } catch (err) {
    stopping = true;
    for (const state of slots.values()) clearTimeout(state.timer);
    throw err;
  }
  for (let slot = 2; slot <= count; slot++) fork(slot);
}

/** Wait for worker 1 to serve; if it exits first it could not start (it said why on stderr). */
function firstWorker(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the first worker could not start (exit code ${code})`));
    worker.once('exit', onExit);
    worker.on('message', (message: unknown) => {
      if (!isReady(message)) return;
      worker.off('exit', onExit);
      resolve();
    });
  });
}
