/**
 * Start a real Portcullis server for a test: its own data directory, a free port, silent logs,
 * an organization (`acme`) and a user to sign in as (ada, its owner). Closed and cleaned up by node:test `after`.
 */
import type { TestClock } from './clock.ts';
import type { Org } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigInput } from '../../src/core/config.ts';
import { hashPassword } from '../../src/core/crypto.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startPortcullis, type Running } from '../../src/server/app.ts';
import { createUserWithOrganization } from '../../src/identity/new-users.ts';
import { hashNewPassword } from '../../src/identity/passwords.ts';
import type { OrgRole } from '../../src/core/roles.ts';

export interface AddUserOptions {
  /**
   * The user's role in `org` (default: `admin`, so they hold every scope as users did before
   * organizations existed); `null`: no membership at all.
   */
  role?: OrgRole | null;
  /** Default: the test server's organization (`server.org`). */
  org?: Org;
}

export interface TestServer extends Running {
  /** ada@example.com, owner of `org`. */
  user: User;
  password: string;
  /** The organization every test user belongs to: slug `acme`, ada is its owner. */
  org: Org;
  /** Create another user with a password, a member of `server.org` as `admin` unless told otherwise. */
  addUser(email: string, password?: string, options?: AddUserOptions): Promise<User>;
  /** Close the server and remove its data directory (call from `after`). */
  stop(): Promise<void>;
  /** The PostgreSQL schema its store lives in (PostgreSQL targets). */
  schema?: string;
}

export const TEST_PASSWORD = 'correct horse battery staple';

/**
 * Note: call `after(() => server.stop())` in the suite; hooks registered from inside `before` run too early.
 * `options.schema`: the PostgreSQL schema to use when `overrides.databaseUrl` is set (created if missing;
 * the caller drops it — see test/helpers/authz.ts `startServerOn`).
 */
export async function startTestServer(
  overrides: ConfigInput = {},
  options: { env?: NodeJS.ProcessEnv; schema?: string; clock?: TestClock } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-test-'));
  const config = loadConfig({
    env: options.env ?? {},
    cwd: dataDir,
    overrides: { port: 0, dataDir, logLevel: 'silent', ...overrides },
  });
  const running = await startPortcullis(config, { log: silentLogger(), quiet: true, schema: options.schema, clock: options.clock });
  const people = await testPeople(running);
  const stop = async () => {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { ...running, ...people, stop };
}

/**
 * The people every test server starts with: organization `acme` and ada, its owner; `addUser`
 * creates others (members of `acme` as `admin` unless told otherwise). Tokens act for one
 * organization (docs/design/identity.md), so every test user belongs to one.
 */
export async function testPeople(running: Running): Promise<Pick<TestServer, 'user' | 'password' | 'org' | 'addUser'>> {
  const org = await running.store.orgs.create({ slug: 'acme', name: 'Acme' });
  const addUser = async (email: string, password = TEST_PASSWORD, options: AddUserOptions = {}) => {
    const role = options.role === undefined ? 'admin' : options.role;
    if (!role) return running.store.users.create({ email, passwordHash: await hashPassword(password) });
    const people = { store: running.store, now: () => Math.floor(Date.now() / 1000) };
    return (await createUserWithOrganization(people, { email, name: null, passwordHash: await hashNewPassword(password), orgSlug: (options.org ?? org).slug, role })).user;
  };
  const user = await addUser('ada@example.com', TEST_PASSWORD, { role: 'owner' });
  return { user, password: TEST_PASSWORD, org, addUser };
}
