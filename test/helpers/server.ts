/**
 * Start a real Portcullis server for a test: its own data directory, a free port, silent logs,
 * and a user to sign in as. Closed and cleaned up by node:test `after`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigInput } from '../../src/core/config.ts';
import { hashPassword } from '../../src/core/crypto.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startPortcullis, type Running } from '../../src/server/app.ts';
import type { User } from '../../src/store/types.ts';

export interface TestServer extends Running {
  user: User;
  password: string;
  /** Create another user with a password. */
  addUser(email: string, password?: string): Promise<User>;
  /** Close the server and remove its data directory (call from `after`). */
  stop(): Promise<void>;
}

export const TEST_PASSWORD = 'correct horse battery staple';

/**
 * Note: call `after(() => server.stop())` in the suite; hooks registered from inside `before` run too early.
 * `options.schema`: the PostgreSQL schema to use when `overrides.databaseUrl` is set (created if missing;
 * the caller drops it — see test/helpers/authz.ts `startServerOn`).
 */
export async function startTestServer(
  overrides: ConfigInput = {},
  options: { env?: NodeJS.ProcessEnv; schema?: string } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-test-'));
  const config = loadConfig({
    env: options.env ?? {},
    cwd: dataDir,
    overrides: { port: 0, dataDir, logLevel: 'silent', ...overrides },
  });
  const running = await startPortcullis(config, { log: silentLogger(), quiet: true, schema: options.schema });
  const addUser = async (email: string, password = TEST_PASSWORD) =>
    running.store.users.create({ email, passwordHash: await hashPassword(password) });
  const user = await addUser('ada@example.com');
  const stop = async () => {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { ...running, user, password: TEST_PASSWORD, addUser, stop };
}
