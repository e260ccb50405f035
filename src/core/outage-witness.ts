/**
 * Who noticed a dependency outage during a piece of work. Some work cannot report an outage as
 * an error: an MCP server's tool handler (the built-in demo's) turns anything it throws into a
 * tool result that says "failed" with the error's text — an internal address included. The code
 * that runs such work watches it instead: outages raised inside are recorded here (through async
 * context, so nothing has to be passed down), and it answers 503 itself.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PortcullisError } from './errors.ts';

const witnesses = new AsyncLocalStorage<{ outage?: PortcullisError }>();

/** Record an outage for whoever is watching the current work (a no-op when nobody is). */
export function witnessOutage(err: PortcullisError): void {
  const witness = witnesses.getStore();
  if (witness && !witness.outage) witness.outage = err;
}

/** Run `work`, returning its result and the first outage raised inside it, if any. */
export async function watchForOutage<T>(work: () => Promise<T>): Promise<{ result: T; outage: PortcullisError | undefined }> {
  const witness: { outage?: PortcullisError } = {};
  const result = await witnesses.run(witness, work);
  return { result, outage: witness.outage };
}
