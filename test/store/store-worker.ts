/**
 * Another "process" for the store tests: a worker thread that opens its own store on the database
 * it is given, waits at a barrier so that every worker starts at the same moment, runs one job and
 * posts its result.
 *
 * Jobs: `consume` redeems one authorization code `attempts` times at once and reports how many
 * redemptions it won; `migrate` migrates the database and reports the versions it applied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore, type StoreOptions } from '../../src/store/open.ts';

export type WorkerJob = { job: 'consume'; model: string; id: string; attempts: number } | { job: 'migrate' };

export interface WorkerInput {
  options: StoreOptions;
  work: WorkerJob;
  /** Int32Array over a SharedArrayBuffer: [0] becomes 1 when every worker may start. */
  barrier: SharedArrayBuffer;
}

const { options, work, barrier } = workerData as WorkerInput;
const store = await openStore(options);
try {
  await store.ping();
  parentPort!.postMessage({ ready: true });
  Atomics.wait(new Int32Array(barrier), 0, 0);
  if (work.job === 'consume') {
    const results = await Promise.all(
      Array.from({ length: work.attempts }, (_, i) => store.oidc.consume(work.model, work.id, 1_800_000_000 + i)),
    );
    parentPort!.postMessage({ result: results.filter(Boolean).length });
  } else {
    parentPort!.postMessage({ result: (await store.migrate()).applied });
  }
} finally {
  await store.close();
}
