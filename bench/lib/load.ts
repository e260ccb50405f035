/**
 * A closed-loop load generator: `concurrency` workers each run `step` back to back for
 * `seconds`, and we count completed steps and their latencies. The same generator drives every
 * server in a comparison, so the figures differ only by the server.
 */

export interface LoadResult {
  completed: number;
  errors: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
}

export async function runLoad(
  label: string,
  options: { concurrency: number; seconds: number; warmupSeconds?: number },
  makeWorker: (index: number) => Promise<() => Promise<void>>,
): Promise<LoadResult> {
  const workers = await Promise.all(Array.from({ length: options.concurrency }, (_, i) => makeWorker(i)));
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const warmupEnds = performance.now() + (options.warmupSeconds ?? 1) * 1000;
  const ends = warmupEnds + options.seconds * 1000;
  await Promise.all(
    workers.map(async (step) => {
      while (performance.now() < ends) {
        const start = performance.now();
        try {
          await step();
          if (start >= warmupEnds) latencies.push(performance.now() - start);
        } catch (err) {
          errors++;
          firstError ??= err;
        }
      }
    }),
  );
  if (firstError) console.error(`  ${label}: ${errors} errors, first:`, firstError);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { completed: latencies.length, errors, perSecond: latencies.length / options.seconds, p50ms: at(0.5), p99ms: at(0.99) };
}

export function cookieJar() {
  const jar = new Map<string, string>();
  return {
    header: () => [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
    store(response: Response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair!.indexOf('=');
        jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
      }
    },
  };
}
