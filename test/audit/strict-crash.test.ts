/**
 * `audit.mode: "strict"` keeps its promise through a crash: a real server (the CLI, a child
 * process) answers tool calls under load and is killed with SIGKILL mid-flight; afterwards every
 * call that had been answered — each named by the `X-Request-Id` its answer carried — is in the
 * trail, and the trail verifies. On SQLite, and on PostgreSQL (a database of the test's own).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { verifyStore } from '../../src/audit/verify.ts';
import { loadConfig } from '../../src/core/config.ts';
import { openStore } from '../../src/store/open.ts';
import { cleanEnv, MAIN, NODE, tempDir } from '../cli/run-cli.ts';
import { signIn } from '../guard/sign-in.ts';
import { createTestDatabase, databaseTargets } from '../helpers/databases.ts';
import { freePort } from '../helpers/private-postgres.ts';
import { testPeople } from '../helpers/server.ts';
import type { Running } from '../../src/server/app.ts';

async function until(check: () => Promise<boolean>, what: string, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const target of databaseTargets()) {
  describe(`strict audit survives kill -9 (${target.dialect})`, { skip: target.skip }, () => {
    let drop: (() => Promise<void>) | undefined;
    after(async () => drop?.());

    it('every call answered before the crash is in the trail afterwards', async () => {
      const dataDir = tempDir();
      const port = await freePort();
      const env: Record<string, string> = { ...cleanEnv(), PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_PORT: String(port), PORTCULLIS_LOG_LEVEL: 'warn', PORTCULLIS_AUDIT_MODE: 'strict' };
      if (target.dialect === 'postgres') {
        const database = await createTestDatabase();
        drop = database.drop;
        env.DATABASE_URL = database.url;
      }
      const config = loadConfig({ env, cwd: dataDir });
      // The people, written to the store before the server starts (as an earlier run would have).
      const setup = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      await setup.migrate();
      const people = await testPeople({ store: setup } as Running);
      await setup.close();

      const child = spawn(NODE, [MAIN, 'start'], { cwd: dataDir, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
      const url = `http://localhost:${port}`;
      try {
        await until(async () => (await fetch(`${url}/readyz`)).status === 200, `the server to be ready\n${stderr}`);
        const { access_token: token } = await signIn({ url, mcpUrl: `${url}/mcp`, email: people.user.email, password: people.password }, {});

        const answered: string[] = [];
        let stop = false;
        const caller = async (worker: number) => {
          for (let i = 0; !stop; i++) {
            try {
              const res = await fetch(`${url}/mcp`, {
                method: 'POST',
                headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
                body: JSON.stringify({ jsonrpc: '2.0', id: `${worker}-${i}`, method: 'tools/call', params: { name: 'list_projects', arguments: {} } }),
              });
              const text = await res.text();
              // An answer the client received in full: its record must exist.
              if (res.status === 200 && text.includes('"result"')) answered.push(res.headers.get('x-request-id')!);
            } catch {
              return; // the server is gone
            }
          }
        };
        const callers = Array.from({ length: 12 }, (_, w) => caller(w));
        await until(async () => answered.length >= 300, 'calls to be answered under load');
        child.kill('SIGKILL');
        stop = true;
        await Promise.all(callers);
        await exited;

        const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
        try {
          const recorded = new Set<unknown>();
          for (let after = 0; ; ) {
            const page = await store.audit.list({ kind: 'gateway.call', afterSeq: after, limit: 1000 });
            for (const record of page) recorded.add(record.details?.requestId);
            if (page.length < 1000) break;
            after = page.at(-1)!.seq;
          }
          const missing = answered.filter((id) => !recorded.has(id));
          assert.equal(answered.length >= 300, true);
          assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered calls have no record`);
          assert.equal((await verifyStore(store)).ok, true, 'the trail verifies after the crash');
        } finally {
          await store.close();
        }
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
    });
  });
}
