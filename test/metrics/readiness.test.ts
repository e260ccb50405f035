/**
 * The readiness checks' promises to an orchestrator: an answer within the timeout even while a
 * dependency hangs, each failing check named by its code, and never a pile of probes on a
 * dependency that is already slow (one run at a time, one result for every probe in the window).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readiness, type ReadinessCheck } from '../../src/metrics/readiness.ts';

function counting(probe: ReadinessCheck['probe'], name = 'store', code = `${name}_unreachable`) {
  const check = { name, code, dependency: name, runs: 0, probe: () => (check.runs++, probe()) };
  return check;
}

const never = () => new Promise<boolean>(() => {});

describe('readiness checks', () => {
  it('all healthy: ready, every check ok', async () => {
    const readiness = new Readiness([counting(() => true, 'store'), counting(async () => true, 'signing_keys')]);
    assert.deepEqual(await readiness.report(), { ready: true, checks: { store: 'ok', signing_keys: 'ok' } });
  });

  it('a failing check is named by its code; a thrown error or false fails it alike; a string is a more precise code', async () => {
    const readiness = new Readiness([
      counting(async () => Promise.reject(new Error('ECONNREFUSED')), 'store', 'store_unreachable'),
      counting(() => false, 'signing_keys', 'signing_key_missing'),
      counting(async () => 'migrations_pending', 'migrations', 'migrations_unknown'),
    ]);
    assert.deepEqual(await readiness.report(), {
      ready: false,
      checks: { store: 'store_unreachable', signing_keys: 'signing_key_missing', migrations: 'migrations_pending' },
    });
  });

  it('a hanging dependency fails its check at the timeout instead of holding the probe', async () => {
    const readiness = new Readiness([counting(never), counting(() => true, 'signing_keys')], { timeoutMs: 100 });
    const started = performance.now();
    const report = await readiness.report();
    assert.ok(performance.now() - started < 1000, 'answered soon after the timeout');
    assert.deepEqual(report, { ready: false, checks: { store: 'store_unreachable', signing_keys: 'ok' } });
  });

  it('while a probe still hangs, later reports wait on it rather than starting another', async () => {
    let now = 0;
    const hanging = counting(never);
    const readiness = new Readiness([hanging], { timeoutMs: 50, cacheMs: 10, nowMs: () => now });
    for (let i = 0; i < 5; i++) {
      now += 100; // past the cache each time
      assert.equal((await readiness.report()).checks.store, 'store_unreachable');
    }
    assert.equal(hanging.runs, 1, 'one probe in flight, never a pile of them');
  });

  it('one result answers every probe within the cache window; concurrent probes share one run', async () => {
    let now = 0;
    const check = counting(async () => true);
    const readiness = new Readiness([check], { cacheMs: 1000, nowMs: () => now });
    await Promise.all(Array.from({ length: 50 }, () => readiness.report()));
    await readiness.report();
    assert.equal(check.runs, 1);
    now += 1001;
    await readiness.report();
    assert.equal(check.runs, 2);
  });

  it('dependencies: up or down, from the same report', async () => {
    const readiness = new Readiness([counting(() => true, 'store'), counting(() => false, 'redis'), { name: 'signing_keys', code: 'signing_key_missing', probe: () => true }]);
    assert.deepEqual(await readiness.dependencies(), { store: true, redis: false });
  });
});
