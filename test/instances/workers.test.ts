/**
 * `portcullis start --workers 2` as an operator runs it (the real CLI, a child process): one banner
 * with one first-run link, two worker processes serving one port and one store, a worker killed is
 * started again (and the other serves meanwhile — so each of them answers), and SIGTERM to the
 * primary stops every process cleanly (exit 0). On SQLite (changes relayed by the primary) and on
 * PostgreSQL (a database of the test's own).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, TEST_DATABASE_URL } from '../helpers/databases.ts';
import { skipUnless } from '../helpers/prerequisites.ts';
import { freePort } from '../helpers/private-postgres.ts';
import { cleanEnv, MAIN, NODE, tempDir } from '../cli/run-cli.ts';

/** Poll until `check` returns a value, failing at the deadline. */
async function until<T>(check: () => T | undefined | Promise<T | undefined>, what: string, deadlineMs = 30_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The primary's "worker ready" log lines (JSON on stderr): slot → latest pid. */
function readyWorkers(stderr: string): { slot: number; pid: number }[] {
  return stderr
    .split('\n')
    .filter((line) => line.includes('"worker ready"'))
    .map((line) => JSON.parse(line) as { slot: number; pid: number });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}


const targets = [
  { dialect: 'sqlite', skip: false as const },
  { dialect: 'postgres', skip: skipUnless(TEST_DATABASE_URL ? undefined : 'PORTCULLIS_TEST_DATABASE_URL is not set') },
];

for (const target of targets) {
  describe(`portcullis start --workers 2 (${target.dialect})`, { skip: target.skip }, () => {
    let drop: (() => Promise<void>) | undefined;
    after(async () => drop?.());

    it('serves from two workers, restarts a worker that dies, and stops them all on SIGTERM', async () => {
      const dataDir = tempDir();
      const port = await freePort();
      const env: Record<string, string> = { ...cleanEnv(), PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_PORT: String(port), PORTCULLIS_LOG_LEVEL: 'info' };
      if (target.dialect === 'postgres') {
        const database = await createTestDatabase();
        drop = database.drop;
        env.DATABASE_URL = database.url;
      }
      const child = spawn(NODE, [MAIN, 'start', '--workers', '2'], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const pids: number[] = [];
      try {
        const workers = await until(() => {
          const ready = readyWorkers(stderr);
          return new Set(ready.map((r) => r.slot)).size === 2 ? ready : undefined;
        }, `two workers ready\n${stderr}`);
        pids.push(...workers.map((w) => w.pid));
        assert.equal(new Set(pids).size, 2, 'two processes');
        await until(() => (/Portcullis is running[\s\S]*\n\n$/.test(stdout) ? true : undefined), 'the banner');
        assert.equal(stdout.match(/Portcullis is running/g)?.length, 1, 'one banner, from the primary');
        assert.equal(stdout.match(/\/setup\?token=/g)?.length, 1, 'one first-run link');
        assert.match(stdout, /2 workers/);

        const answers = async () => (await fetch(`http://localhost:${port}/.well-known/openid-configuration`)).status;
        // Kill each worker in turn: the other one answers meanwhile, and the dead one comes back.
        for (const slot of [1, 2]) {
          const before = readyWorkers(stderr).length;
          const victim = readyWorkers(stderr).filter((r) => r.slot === slot).at(-1)!.pid;
          process.kill(victim, 'SIGKILL');
          await until(() => (alive(victim) ? undefined : true), `worker ${slot} gone`, 5000);
          for (let i = 0; i < 5; i++) assert.equal(await answers(), 200, `served while worker ${slot} is down`);
          const restarted = await until(() => readyWorkers(stderr).slice(before).find((r) => r.slot === slot), `worker ${slot} restarted\n${stderr}`);
          assert.notEqual(restarted.pid, victim);
          pids.push(restarted.pid);
          assert.equal(await answers(), 200);
        }
        assert.match(stderr, /a worker exited; restarting it/);
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exit, 0, stderr);
      for (const pid of pids) await until(() => (alive(pid) ? undefined : true), `worker ${pid} stopped`, 5000);
    });
  });
}
